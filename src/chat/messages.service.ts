// Messages: the one send function (HTTP, WebSocket and the assistant all come through it) and history.
import { type SQL, sql } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import { type Database, queryRows } from '../db/connect.js'
import { violatedUniqueConstraint } from '../db/errors.js'
import { chatMessages, chatParticipants, chatSessions, users } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { loadJoinedSession } from './access.js'
import type { MessageCreateInput, MessagesQueryInput, MessageView } from './chat.schemas.js'
import {
  inList,
  MESSAGE_COLUMNS,
  type MessageRecord,
  selectMessageRows,
  selectMessages,
  toMessageView,
} from './message-records.js'
import { assertCan, rolesAllowed } from './permissions.js'

type ChatDeps = Pick<Deps, 'db' | 'events' | 'limits'>

export interface SendResult {
  message: MessageView
  /** False when `client_msg_id` matched an earlier message: the retry gets that one back. */
  created: boolean
}

/** Stores a user message with the room's next seq (if the sender may send), then emits it. */
export async function sendMessage(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  input: MessageCreateInput,
): Promise<SendResult> {
  await deps.limits.hit('send', actor.id)
  const clientMsgId = input.client_msg_id ?? null
  let record: MessageRecord | undefined
  try {
    record = await insertWithNextSeq(deps.db, {
      sessionId,
      userId: actor.id,
      role: 'user',
      content: input.content,
      clientMsgId,
      replyTo: null,
      // The permission check rides in the same statement: no extra round trip on the hot path.
      onlyIf: sql`exists (select 1 from ${chatParticipants} p
                           where p.session_id = ${sessionId} and p.user_id = ${actor.id}
                             and p.role in ${inList(rolesAllowed('send_message'))})`,
    })
  } catch (error) {
    // The same client_msg_id again: the statement rolled back whole (no seq taken); answer with the first.
    if (clientMsgId !== null && violatedUniqueConstraint(error) === 'chat_messages_client_msg_id_key') {
      return { message: await findByClientMsgId(deps, actor, sessionId, clientMsgId), created: false }
    }
    throw error
  }
  if (!record) throw await whyNotSent(deps, actor, sessionId)
  const message = toMessageView(record)
  deps.events.emit({ type: 'message_created', sessionId, message })
  return { message, created: true }
}

/**
 * Stores the assistant's reply to `replyTo` with the room's next seq, like any message, and emits it.
 * Returns null when the room was deleted meanwhile.
 */
export async function storeAssistantReply(
  deps: Pick<Deps, 'db' | 'events'>,
  sessionId: number,
  replyTo: number,
  content: string,
): Promise<MessageView | null> {
  const record = await insertWithNextSeq(deps.db, {
    sessionId,
    userId: null,
    role: 'assistant',
    content,
    clientMsgId: null,
    replyTo,
    onlyIf: sql`true`,
  })
  if (!record) return null
  const message = toMessageView(record)
  deps.events.emit({ type: 'message_created', sessionId, message })
  return message
}

interface NewMessage {
  sessionId: number
  userId: number | null
  role: MessageView['role']
  content: string
  clientMsgId: string | null
  replyTo: number | null
  /** A condition the room's counter UPDATE must also meet, or nothing is stored. */
  onlyIf: SQL
}

/**
 * The only place that allocates seq. One statement: the counter UPDATE and the INSERT commit together,
 * so seq has no gaps and no duplicates however many people send at once. It returns the author's
 * current username (a rename is seen at once, whatever the sender's socket was told at connect time).
 * Undefined when the room is gone or `onlyIf` failed.
 */
async function insertWithNextSeq(db: Database, m: NewMessage): Promise<MessageRecord | undefined> {
  const [record] = await queryRows<MessageRecord>(
    db,
    sql`with slot as (
          update ${chatSessions}
             set last_seq = last_seq + 1, message_count = message_count + 1, last_activity_at = now()
           where id = ${m.sessionId} and deleted_at is null and ${m.onlyIf}
       returning id, last_seq)
        insert into ${chatMessages} as m (session_id, seq, user_id, role, content, client_msg_id, reply_to)
        select slot.id, slot.last_seq, ${m.userId}::integer, ${m.role}::message_role, ${m.content}::text,
               ${m.clientMsgId}::varchar, ${m.replyTo}::bigint
          from slot
        returning ${MESSAGE_COLUMNS}, (select u.username from ${users} u where u.id = m.user_id) as username`,
  )
  return record
}

/**
 * A page of history, oldest first. Without a cursor: the newest `limit`; `before_seq`: the newest
 * `limit` before it; `after_seq`: the oldest `limit` after it; `skip` counts back from the newest.
 */
export async function listMessages(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  query: MessagesQueryInput,
): Promise<MessageView[]> {
  // The access check rides in the page's query; only an empty page needs to find out why.
  const mayRead = sql`exists (select 1 from ${chatParticipants} p join ${chatSessions} s on s.id = p.session_id
                               where p.session_id = ${sessionId} and p.user_id = ${actor.id} and s.deleted_at is null)`
  const page = await selectMessages(deps.db, sessionId, query, actor.id, mayRead)
  if (page.length === 0) await loadJoinedSession(deps.db, actor, sessionId)
  return page
}

/**
 * Stored messages of a room with seq > afterSeq, oldest first: the WebSocket replay and gap fill.
 * No access check: the caller has already checked the socket's right to the room.
 */
export function listMessagesAfter(db: Database, sessionId: number, afterSeq: number, limit: number) {
  return selectMessages(db, sessionId, { after_seq: afterSeq, limit, skip: 0 })
}

/** The newest `limit` stored messages of a room with seq < beforeSeq, oldest first: the assistant's context. */
export function listMessagesBefore(db: Database, sessionId: number, beforeSeq: number, limit: number) {
  return selectMessages(db, sessionId, { before_seq: beforeSeq, limit, skip: 0 })
}

async function findByClientMsgId(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  clientMsgId: string,
): Promise<MessageView> {
  // Read like any stored message: a retry gets the first one as it is now (edits, reactions included).
  const [record] = await queryRows<MessageRecord>(
    deps.db,
    sql`${selectMessageRows(actor.id)}
         where m.session_id = ${sessionId} and m.user_id = ${actor.id} and m.client_msg_id = ${clientMsgId}`,
  )
  if (!record) throw new Error('client_msg_id conflict without a matching message')
  return toMessageView(record)
}

/** The send statement stored nothing: say why, with the same rules as every other room access. */
async function whyNotSent(deps: ChatDeps, actor: Actor, sessionId: number): Promise<AppError> {
  try {
    const { role } = await loadJoinedSession(deps.db, actor, sessionId)
    assertCan(role, 'send_message')
    return new AppError('conflict', 'The message could not be stored; try again')
  } catch (error) {
    if (error instanceof AppError) return error
    throw error
  }
}
