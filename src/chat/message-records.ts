// How messages are read: the columns, their mapping to the Message view, reactions for a whole page
// in one query, and the paged history query every reader uses.
import { type SQL, sql } from 'drizzle-orm'
import { type Database, type Executor, queryRows } from '../db/connect.js'
import { chatMessages, messageReactions, users } from '../db/schema.js'
import type { MessagesQueryInput, MessageView, ReactionView } from './chat.schemas.js'

/** A message as raw SQL returns it (bigints may arrive as strings). */
export interface MessageRecord {
  id: number | string
  session_id: number
  seq: number | string
  user_id: number | null
  username?: string
  role: MessageView['role']
  content: string
  client_msg_id: string | null
  reply_to: number | string | null
  created_at: string
  edited_at: string | null
  deleted_at: string | null
}

/** ISO-8601 UTC with milliseconds, formatted by the database so both drivers return the same text. */
const iso = (column: string) =>
  sql.raw(`to_char(m.${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${column}`)

/** The columns of a message, from `chat_messages m`. */
export const MESSAGE_COLUMNS = sql`m.id, m.session_id, m.seq, m.user_id, m.role, m.content, m.client_msg_id,
  m.reply_to, ${iso('created_at')}, ${iso('edited_at')}, ${iso('deleted_at')}`

/** `reactions` comes from `withReactions`; a message just stored has none. */
export function toMessageView(record: MessageRecord, reactions: ReactionView[] = []): MessageView {
  return {
    id: Number(record.id),
    session_id: Number(record.session_id),
    seq: Number(record.seq),
    user_id: record.user_id === null ? null : Number(record.user_id),
    username: record.username ?? record.role,
    role: record.role,
    content: record.content,
    client_msg_id: record.client_msg_id,
    reply_to: record.reply_to === null ? null : Number(record.reply_to),
    created_at: record.created_at,
    edited_at: record.edited_at,
    deleted_at: record.deleted_at,
    reactions,
  }
}

/**
 * Message views with their reactions, loaded for all of them in one query. `viewerId` decides each
 * reaction's `me`; frames shared by every socket pass none (`me` is then false).
 */
export async function withReactions(
  db: Executor,
  records: MessageRecord[],
  viewerId?: number,
): Promise<MessageView[]> {
  if (records.length === 0) return []
  const ids = records.map((r) => Number(r.id))
  const rows = await queryRows<{
    message_id: number | string
    emoji: string
    count: number | string
    me: boolean
  }>(
    db as Database,
    sql`select message_id, emoji, count(*) as count, bool_or(user_id = ${viewerId ?? 0}) as me
          from ${messageReactions}
         where message_id in ${inList(ids)}
         group by message_id, emoji
         order by min(created_at), emoji`,
  )
  const byMessage = new Map<number, ReactionView[]>()
  for (const row of rows) {
    const list = byMessage.get(Number(row.message_id)) ?? []
    list.push({ emoji: row.emoji, count: Number(row.count), me: viewerId !== undefined && row.me })
    byMessage.set(Number(row.message_id), list)
  }
  return records.map((r) => toMessageView(r, byMessage.get(Number(r.id))))
}

/**
 * A page of a room's history, oldest first. Without a cursor: the newest `limit`; `before_seq`: the
 * newest `limit` before it; `after_seq`: the oldest `limit` after it; `skip` counts back from the newest.
 * Deleted messages stay in as tombstones, so seq has no gaps here either.
 */
export async function selectMessages(
  db: Executor,
  sessionId: number,
  query: MessagesQueryInput,
  viewerId?: number,
): Promise<MessageView[]> {
  const filters: SQL[] = [sql`m.session_id = ${sessionId}`]
  if (query.after_seq !== undefined) filters.push(sql`m.seq > ${query.after_seq}`)
  if (query.before_seq !== undefined) filters.push(sql`m.seq < ${query.before_seq}`)
  const ascending = query.after_seq !== undefined
  const records = await queryRows<MessageRecord>(
    db as Database,
    sql`select ${MESSAGE_COLUMNS}, coalesce(u.username, m.role::text) as username
          from ${chatMessages} m left join ${users} u on u.id = m.user_id
         where ${sql.join(filters, sql` and `)}
         order by m.seq ${ascending ? sql`asc` : sql`desc`}
         limit ${query.limit} offset ${query.skip}`,
  )
  if (!ascending) records.reverse()
  return withReactions(db, records, viewerId)
}

/** One message of a room (a tombstone too), with its author's name and reactions. */
export async function findMessage(
  db: Executor,
  sessionId: number,
  messageId: number,
  viewerId?: number,
): Promise<MessageView | undefined> {
  const records = await queryRows<MessageRecord>(
    db as Database,
    sql`select ${MESSAGE_COLUMNS}, coalesce(u.username, m.role::text) as username
          from ${chatMessages} m left join ${users} u on u.id = m.user_id
         where m.session_id = ${sessionId} and m.id = ${messageId}`,
  )
  const [message] = await withReactions(db, records, viewerId)
  return message
}

export function inList(values: readonly (string | number)[]): SQL {
  return sql`(${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`
}

/** Messages by id (any rooms), with their authors' names and reactions, in one query (plus reactions). */
export async function findMessagesByIds(
  db: Executor,
  ids: number[],
  viewerId?: number,
): Promise<MessageView[]> {
  if (ids.length === 0) return []
  const records = await queryRows<MessageRecord>(
    db as Database,
    sql`select ${MESSAGE_COLUMNS}, coalesce(u.username, m.role::text) as username
          from ${chatMessages} m left join ${users} u on u.id = m.user_id
         where m.id in ${inList(ids)}`,
  )
  return withReactions(db, records, viewerId)
}
