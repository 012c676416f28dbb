import Type, { type Static } from 'typebox'
import { Nullable, StringEnum } from '../http/schemas.js'

export const SessionTypeField = StringEnum(['public', 'invite_only', 'private'], {
  description:
    'public (listed, anyone may join), invite_only (owner/admins add people), private (owner only)',
})
export const RoleField = StringEnum(['owner', 'admin', 'member', 'viewer'])
export const AiModeField = StringEnum(['off', 'mention', 'always'], {
  description: 'off, mention (answers @assistant), always',
})
const Timestamp = Type.String({ format: 'date-time' })

// ---- params and queries ----

export const SessionParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) })
export const ParticipantParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  user_id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
})
/**
 * Every integer in a path or query has a maximum: without one, a number PostgreSQL cannot take
 * (`?skip=1e20`) was a 500 instead of a 422. No list is long enough for a larger skip to mean anything.
 */
const MAX_SKIP = 2_147_483_647
const Skip = Type.Integer({ minimum: 0, maximum: MAX_SKIP, default: 0 })
export const Paging = Type.Object({
  skip: Skip,
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
})
export const PublicSessionsQuery = Type.Object({
  skip: Skip,
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
  search: Type.Optional(
    Type.String({ maxLength: 200, description: 'Matches title or description, any case' }),
  ),
})
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })
export const MessagesQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  before_seq: Type.Optional(Seq),
  after_seq: Type.Optional(Seq),
  skip: Type.Integer({
    minimum: 0,
    maximum: MAX_SKIP,
    default: 0,
    description: 'Counts back from the newest (for older clients)',
  }),
})

// ---- bodies ----

export const SessionCreate = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
    session_type: Type.Optional(SessionTypeField),
    max_participants: Type.Optional(Type.Integer({ minimum: 2, description: '2..MAX_CHAT_PARTICIPANTS' })),
    ai_mode: Type.Optional(AiModeField),
  },
  {
    examples: [
      {
        title: 'General Discussion',
        description: 'Open chat for everyone',
        session_type: 'public',
        max_participants: 50,
      },
    ],
  },
)

export const SessionUpdate = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
    description: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
    session_type: Type.Optional(SessionTypeField),
    max_participants: Type.Optional(Type.Integer({ minimum: 2 })),
    ai_mode: Type.Optional(AiModeField),
  },
  { examples: [{ title: 'Planning', ai_mode: 'always' }] },
)

export const InviteBody = Type.Object(
  {
    // Nullable: clients that send unused fields as null (as Python ones do) mean "not this one".
    user_id: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 2_147_483_647 }))),
    username: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 50 }))),
    email: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 254 }))),
    role: Type.Optional(RoleField),
  },
  {
    description: 'Exactly one of user_id, username or email; role defaults to member (never owner).',
    examples: [{ username: 'grace', role: 'member' }],
  },
)

export const RoleBody = Type.Object({ role: RoleField }, { examples: [{ role: 'admin' }] })

export const MessageCreate = Type.Object(
  {
    content: Type.String({
      minLength: 1,
      maxLength: 10_000,
      pattern: '\\S',
      description: '1-10000 characters, not blank',
    }),
    role: Type.Optional(StringEnum(['user'], { description: 'Clients may only send user messages' })),
    client_msg_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'Makes retries safe: the same id returns the first message',
      }),
    ),
  },
  {
    examples: [
      { content: 'Hello everyone!', role: 'user', client_msg_id: '5f0c7a1e-0d1b-4a53-9a57-8d3b2b6f1c11' },
    ],
  },
)

export const RemoveQuery = Type.Object({
  ban: Type.Boolean({
    default: false,
    description: 'Also keep them from joining this public room again until invited',
  }),
})
export const MessageParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  message_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
})
export const ReactionParams = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
  message_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  emoji: Type.String({
    minLength: 1,
    maxLength: 32,
    pattern: '^\\S+$',
    description: '1-32 characters, no spaces',
  }),
})
export const MessageEdit = Type.Object(
  {
    content: Type.String({
      minLength: 1,
      maxLength: 10_000,
      pattern: '\\S',
      description: '1-10000 characters, not blank',
    }),
  },
  { examples: [{ content: 'Hello everyone! (edited)' }] },
)
export const ReadBody = Type.Object(
  {
    seq: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'The newest seq the caller has seen',
    }),
  },
  { examples: [{ seq: 42 }] },
)
export const SearchQuery = Type.Object({
  q: Type.String({
    minLength: 1,
    maxLength: 200,
    pattern: '\\S',
    description: 'Words to find (web search syntax: "phrase", -word, or)',
  }),
  session_id: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  before_id: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'next_before_id of the previous page',
    }),
  ),
})

// ---- responses ----

const Reaction = Type.Object({ emoji: Type.String(), count: Type.Integer(), me: Type.Boolean() })

export const AiUsage = Type.Object(
  {
    prompt_tokens: Type.Integer({ minimum: 0 }),
    completion_tokens: Type.Integer({ minimum: 0 }),
    model: Type.String(),
  },
  {
    description:
      'What an assistant reply cost, as the provider reported it (estimated as characters / 4 when it reported none)',
  },
)

export const Message = Type.Object(
  {
    id: Type.Integer(),
    session_id: Type.Integer(),
    seq: Type.Integer(),
    user_id: Nullable(Type.Integer()),
    username: Type.String(),
    role: StringEnum(['user', 'assistant', 'system']),
    content: Type.String(),
    client_msg_id: Nullable(Type.String()),
    reply_to: Nullable(Type.Integer()),
    ai_usage: Nullable(AiUsage),
    created_at: Timestamp,
    edited_at: Nullable(Type.String({ format: 'date-time' })),
    deleted_at: Nullable(Type.String({ format: 'date-time' })),
    reactions: Type.Array(Reaction, {
      description:
        'Per emoji: how many reacted, and whether the caller did (always false in WebSocket frames)',
    }),
  },
  {
    examples: [
      {
        id: 1001,
        session_id: 7,
        seq: 42,
        user_id: 1,
        username: 'ada',
        role: 'user',
        content: 'Hello everyone!',
        client_msg_id: null,
        reply_to: null,
        ai_usage: null,
        created_at: '2026-11-25T12:00:00.000Z',
        edited_at: null,
        deleted_at: null,
        reactions: [{ emoji: '👍', count: 2, me: true }],
      },
    ],
  },
)

export const Participant = Type.Object({
  id: Type.Integer(),
  user_id: Type.Integer(),
  username: Type.String(),
  first_name: Nullable(Type.String()),
  last_name: Nullable(Type.String()),
  role: RoleField,
  joined_at: Timestamp,
  is_online: Type.Boolean(),
})

const sessionFields = {
  id: Type.Integer(),
  title: Type.String(),
  description: Nullable(Type.String()),
  session_type: SessionTypeField,
  max_participants: Type.Integer(),
  owner_id: Type.Integer(),
  owner_username: Type.String(),
  is_active: Type.Boolean(),
  ai_mode: AiModeField,
  created_at: Timestamp,
  updated_at: Timestamp,
  participant_count: Type.Integer(),
  message_count: Type.Integer(),
  my_role: Type.Union([RoleField, Type.Null()]),
  last_read_seq: Type.Integer({ description: 'The caller’s read marker (0 when not a participant)' }),
  unread_count: Type.Integer({
    description: 'Messages after last_read_seq, not the caller’s own, not deleted',
  }),
  last_message: Type.Union([Message, Type.Null()], { description: 'The newest message that is not deleted' }),
}

const SESSION_EXAMPLE = {
  id: 7,
  title: 'General Discussion',
  description: 'Open chat for everyone',
  session_type: 'public',
  max_participants: 50,
  owner_id: 1,
  owner_username: 'ada',
  is_active: true,
  ai_mode: 'mention',
  created_at: '2026-11-25T12:00:00.000Z',
  updated_at: '2026-11-25T12:00:00.000Z',
  participant_count: 3,
  message_count: 42,
  my_role: 'member',
  last_read_seq: 40,
  unread_count: 2,
  last_message: null,
}

export const Session = Type.Object(sessionFields, { examples: [SESSION_EXAMPLE] })
export const SessionDetail = Type.Object({ ...sessionFields, participants: Type.Array(Participant) })
export const PublicSessions = Type.Object({ sessions: Type.Array(Session), total: Type.Integer() })

export const SearchResults = Type.Object({
  results: Type.Array(Type.Object({ ...Message.properties, session_title: Type.String() })),
  next_before_id: Nullable(
    Type.Integer({ description: 'Pass as before_id for the next page; null on the last one' }),
  ),
})

export const JoinResult = Type.Object({
  message: Type.String(),
  participant_id: Type.Integer(),
  participant: Participant,
})
export const MessageResult = Type.Object({ message: Type.String() })

export type SessionView = Static<typeof Session>
export type SessionDetailView = Static<typeof SessionDetail>
export type ParticipantView = Static<typeof Participant>
export type MessageView = Static<typeof Message>
export type SessionCreateInput = Static<typeof SessionCreate>
export type SessionUpdateInput = Static<typeof SessionUpdate>
export type InviteInput = Static<typeof InviteBody>
export type MessageCreateInput = Static<typeof MessageCreate>
export type MessagesQueryInput = Static<typeof MessagesQuery>
export type SearchQueryInput = Static<typeof SearchQuery>
export type SearchResultsView = Static<typeof SearchResults>
export type ReactionView = Static<typeof Reaction>
export type PagingInput = Static<typeof Paging>
export type PublicSessionsQueryInput = Static<typeof PublicSessionsQuery>
