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
  /** JSON aggregated by the database (both drivers parse json columns); absent on a fresh insert. */
  reactions?: ReactionView[]
}

/** ISO-8601 UTC with milliseconds, formatted by the database so both drivers return the same text. */
const iso = (column: string) =>
  sql.raw(`to_char(m.${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${column}`)

/** The columns of a message, from `chat_messages m`. */
export const MESSAGE_COLUMNS = sql`m.id, m.session_id, m.seq, m.user_id, m.role, m.content, m.client_msg_id,
  m.reply_to, ${iso('created_at')}, ${iso('edited_at')}, ${iso('deleted_at')}`

/** A message just stored has no reactions; one read through `selectMessageRows` carries them. */
export function toMessageView(
  record: MessageRecord,
  reactions: ReactionView[] = record.reactions ?? [],
): MessageView {
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
 * `select … from chat_messages m` with the author's name and the reactions, per emoji in the order
 * they first appeared, aggregated by the database in the same query (one indexed lookup per message).
 * `viewerId` decides each reaction's `me`; frames shared by every socket pass none (`me` is then false).
 * `extra` adds columns; the caller continues with joins and `where`.
 */
export function selectMessageRows(viewerId?: number, extra: SQL = sql``): SQL {
  return sql`select ${MESSAGE_COLUMNS}, coalesce(u.username, m.role::text) as username,
           coalesce(r.reactions, '[]'::json) as reactions ${extra}
      from ${chatMessages} m
      left join ${users} u on u.id = m.user_id
      left join lateral (
        select json_agg(json_build_object('emoji', x.emoji, 'count', x.count, 'me', x.me)
                        order by x.first, x.emoji) as reactions
          from (select emoji, count(*)::int as count, bool_or(user_id = ${viewerId ?? 0}) as me,
                       min(created_at) as first
                  from ${messageReactions} where message_id = m.id group by emoji) x
      ) r on true`
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
  /** A further condition (the caller's access, checked in the same query). */
  onlyIf?: SQL,
): Promise<MessageView[]> {
  const filters: SQL[] = [sql`m.session_id = ${sessionId}`]
  if (query.after_seq !== undefined) filters.push(sql`m.seq > ${query.after_seq}`)
  if (query.before_seq !== undefined) filters.push(sql`m.seq < ${query.before_seq}`)
  const ascending = query.after_seq !== undefined
  if (onlyIf) filters.push(onlyIf)
  const records = await queryRows<MessageRecord>(
    db as Database,
    sql`${selectMessageRows(viewerId)}
         where ${sql.join(filters, sql` and `)}
         order by m.seq ${ascending ? sql`asc` : sql`desc`}
         limit ${query.limit} offset ${query.skip}`,
  )
  if (!ascending) records.reverse()
  return records.map((record) => toMessageView(record))
}

/** One message of a room (a tombstone too), with its author's name and reactions. */
export async function findMessage(
  db: Executor,
  sessionId: number,
  messageId: number,
  viewerId?: number,
): Promise<MessageView | undefined> {
  const [record] = await queryRows<MessageRecord>(
    db as Database,
    sql`${selectMessageRows(viewerId)} where m.session_id = ${sessionId} and m.id = ${messageId}`,
  )
  return record && toMessageView(record)
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
    sql`${selectMessageRows(viewerId)} where m.id in ${inList(ids)}`,
  )
  return records.map((record) => toMessageView(record))
}
