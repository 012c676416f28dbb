// Every WebSocket frame, once, as a TypeBox schema: what clients may send and what the server sends.
// The gateway validates client frames with these, the builders are typed by them, and /asyncapi.json
// publishes them; docs/websocket.md describes the same frames in prose.
import Type, { type Static, type TSchema } from 'typebox'
import { AssistantSettings } from '../ai/settings.schemas.js'
import { Message, Participant, RoleField, Session } from '../chat/chat.schemas.js'
import { Nullable, StringEnum } from '../http/schemas.js'

const SessionId = Type.Integer({ minimum: 1, maximum: 2_147_483_647 })
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
const Timestamp = Type.String({ format: 'date-time' })

// ---- client -> server ----

export const clientFrames = {
  chat_message: Type.Object(
    {
      type: Type.Literal('chat_message'),
      session_id: SessionId,
      content: Type.String({ minLength: 1, maxLength: 10_000, pattern: '\\S' }),
      client_msg_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    },
    { description: 'Stores a message (as POST …/messages does); answered with ack' },
  ),
  typing: Type.Object(
    { type: Type.Literal('typing'), session_id: SessionId, is_typing: Type.Boolean() },
    { description: "Tells the other participants' sockets whether the user is typing" },
  ),
  subscribe: Type.Object(
    { type: Type.Literal('subscribe'), session_id: SessionId, after_seq: Type.Optional(Seq) },
    { description: 'Follows a room: greeting, then the stored messages after after_seq, then live frames' },
  ),
  unsubscribe: Type.Object(
    { type: Type.Literal('unsubscribe'), session_id: SessionId },
    { description: 'Stops following the room' },
  ),
  ai_stop: Type.Object(
    { type: Type.Literal('ai_stop'), session_id: SessionId },
    { description: "Stops the assistant's replies in progress in the room" },
  ),
  ping: Type.Object({ type: Type.Literal('ping') }, { description: 'Answered with pong' }),
} satisfies Record<string, TSchema>

export type ClientFrameType = keyof typeof clientFrames
export type ClientFrameOf<K extends ClientFrameType> = Static<(typeof clientFrames)[K]>
export type ClientFrame = { [K in ClientFrameType]: ClientFrameOf<K> }[ClientFrameType]

// ---- server -> client ----

/** chat_message and message_updated: the Message fields at top level, as the seed's clients read them. */
function messageFrame<T extends string>(type: T, description: string) {
  return Type.Object(
    { type: Type.Literal(type), ...Message.properties, timestamp: Timestamp },
    { description },
  )
}

const Member = { session_id: Type.Integer(), user_id: Type.Integer(), username: Type.String() }

const AssistantReply = { session_id: Type.Integer(), reply_to: Type.Integer() }

function reactionFrame<T extends string>(type: T, description: string) {
  return Type.Object(
    {
      type: Type.Literal(type),
      session_id: Type.Integer(),
      message_id: Type.Integer(),
      emoji: Type.String(),
      user_id: Type.Integer(),
      username: Type.String(),
      timestamp: Timestamp,
    },
    { description },
  )
}

export const serverFrames = {
  system_message: Type.Object(
    {
      type: Type.Literal('system_message'),
      content: Type.String(),
      session_id: Nullable(Type.Integer()),
      timestamp: Timestamp,
    },
    { description: 'The greeting on connect and subscribe: the client may send once it has it' },
  ),
  chat_message: messageFrame('chat_message', 'A stored message, in seq order'),
  ack: Type.Object(
    {
      type: Type.Literal('ack'),
      session_id: Type.Integer(),
      client_msg_id: Nullable(Type.String()),
      id: Type.Integer(),
      seq: Type.Integer(),
    },
    { description: "The sender's message is stored" },
  ),
  typing: Type.Object(
    { type: Type.Literal('typing'), ...Member, is_typing: Type.Boolean() },
    { description: 'Another participant started or stopped typing' },
  ),
  presence: Type.Object(
    { type: Type.Literal('presence'), ...Member, status: StringEnum(['online', 'offline']) },
    { description: "A user's sockets, on any instance, counted as one: online or offline in the room" },
  ),
  participant_joined: Type.Object(
    {
      type: Type.Literal('participant_joined'),
      ...Member,
      role: RoleField,
      participant: Participant,
      timestamp: Timestamp,
    },
    { description: 'Someone joined or was added to the room' },
  ),
  participant_left: Type.Object(
    { type: Type.Literal('participant_left'), ...Member, timestamp: Timestamp },
    { description: 'Someone left the room; their sockets get nothing more from it' },
  ),
  participant_removed: Type.Object(
    { type: Type.Literal('participant_removed'), ...Member, banned: Type.Boolean(), timestamp: Timestamp },
    { description: 'Someone was removed from the room; their sockets get nothing more from it' },
  ),
  role_changed: Type.Object(
    {
      type: Type.Literal('role_changed'),
      ...Member,
      role: RoleField,
      previous_role: RoleField,
      timestamp: Timestamp,
    },
    { description: "A participant's role changed" },
  ),
  session_updated: Type.Object(
    {
      type: Type.Literal('session_updated'),
      session_id: Type.Integer(),
      session: Type.Omit(Session, ['my_role', 'last_read_seq', 'unread_count']),
      assistant: Type.Optional(AssistantSettings),
      timestamp: Timestamp,
    },
    { description: "The room's settings changed (the session without the reader's own fields)" },
  ),
  session_deleted: Type.Object(
    { type: Type.Literal('session_deleted'), session_id: Type.Integer(), timestamp: Timestamp },
    { description: 'The room is gone; every socket leaves it' },
  ),
  ai_start: Type.Object(
    { type: Type.Literal('ai_start'), ...AssistantReply },
    { description: 'The assistant started answering message reply_to' },
  ),
  ai_delta: Type.Object(
    {
      type: Type.Literal('ai_delta'),
      ...AssistantReply,
      delta: Type.String({ description: 'The next piece of the reply' }),
      offset: Type.Integer({ description: "The reply's length in UTF-16 code units before this piece" }),
    },
    { description: 'The next piece of a reply being written (at most one frame per 50 ms per reply)' },
  ),
  ai_error: Type.Object(
    { type: Type.Literal('ai_error'), ...AssistantReply, detail: Type.String() },
    { description: 'The reply failed; nothing was stored' },
  ),
  ai_tool: Type.Object(
    {
      type: Type.Literal('ai_tool'),
      ...AssistantReply,
      name: Type.String({ description: 'The tool: search_room_history' }),
      arguments: Type.Record(Type.String(), Type.Unknown(), {
        description:
          'What the assistant asked the tool (its JSON arguments; {} when they were not valid JSON)',
      }),
      status: StringEnum(['running', 'done']),
      result_count: Nullable(
        Type.Integer({ description: 'How many results the tool gave; null while running' }),
      ),
    },
    {
      description: 'The assistant, while writing the reply to reply_to, uses a tool: once running, once done',
    },
  ),
  message_updated: messageFrame('message_updated', 'An edited message, as it is now'),
  message_deleted: Type.Object(
    {
      type: Type.Literal('message_deleted'),
      session_id: Type.Integer(),
      id: Type.Integer(),
      seq: Type.Integer(),
      timestamp: Timestamp,
    },
    { description: 'The message is now a tombstone' },
  ),
  reaction_added: reactionFrame('reaction_added', 'Someone reacted to a message'),
  reaction_removed: reactionFrame('reaction_removed', 'Someone took back a reaction'),
  read: Type.Object(
    {
      type: Type.Literal('read'),
      session_id: Type.Integer(),
      user_id: Type.Integer(),
      seq: Type.Integer(),
      timestamp: Timestamp,
    },
    { description: "A participant's read marker moved" },
  ),
  error: Type.Object(
    {
      type: Type.Literal('error'),
      code: Type.String({ description: 'invalid_json, invalid_frame, unknown_type, or an HTTP API code' }),
      detail: Type.String(),
      session_id: Type.Optional(Type.Integer()),
      client_msg_id: Type.Optional(Type.String()),
    },
    { description: 'A frame failed; the socket stays open' },
  ),
  pong: Type.Object(
    { type: Type.Literal('pong'), content: Type.Literal('pong'), timestamp: Timestamp },
    { description: 'The answer to ping' },
  ),
} satisfies Record<string, TSchema>

export type ServerFrameType = keyof typeof serverFrames
export type ServerFrameOf<K extends ServerFrameType> = Static<(typeof serverFrames)[K]>
export type ServerFrame = { [K in ServerFrameType]: ServerFrameOf<K> }[ServerFrameType]

/** Every server frame as one schema: exactly one member matches a frame, by its `type`. */
export const ServerFrame = Type.Union(Object.values(serverFrames))
