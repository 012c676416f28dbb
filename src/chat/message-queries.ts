// Every statement that reads or stores messages: the send, the history pages (HTTP, replay, gap fill,
// the assistant's context), single messages and search's columns. The hot ones are named prepared
// statements built once per database (PostgreSQL plans them once per connection, Drizzle builds their
// text once), and every row type is inferred from the schema and checked against the Message view
// below: a column added to the table and the view but not here does not compile.
import {
  and,
  type Column,
  desc,
  eq,
  getTableColumns,
  getTableName,
  gt,
  lt,
  type SQL,
  type SQLWrapper,
  sql,
} from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { Executor } from '../db/connect.js'
import { preparedRows, type StatementText, statementText } from '../db/prepared.js'
import {
  type AiUsage,
  chatMessages,
  chatParticipants,
  chatSessions,
  messageReactions,
  users,
} from '../db/schema.js'
import type { MessagesQueryInput, MessageView, ReactionView, SessionView } from './chat.schemas.js'
import { rolesAllowed } from './permissions.js'

/** ISO-8601 UTC with milliseconds, formatted by the database so both drivers return the same text. */
function iso<Nullable extends boolean = false>(column: Column | SQL) {
  return sql<
    Nullable extends true ? string | null : string
  >`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
}

/**
 * A column of the outer query, qualified, for a subquery: Drizzle leaves the columns of a one-table
 * select unqualified, and there an outer `"id"` would silently name a column of the subquery's table
 * once that table had one.
 */
function outer(column: Column): SQL {
  return sql`${sql.identifier(getTableName(column.table))}.${sql.identifier(column.name)}`
}

/** A column of the `stored` CTE, qualified whatever Drizzle would render for it. */
function inStored(column: Column): SQL {
  return sql`${sql.identifier('stored')}.${sql.identifier(column.name)}`
}

type MessageColumns = { [K in keyof typeof chatMessages._.columns]: Column }

/** The Message view's fields from a source of message columns (the table, an alias, or a CTE of it). */
function messageFields<M extends MessageColumns>(
  m: M,
  username: SQL<string>,
  reactions: SQL<ReactionView[]>,
) {
  return {
    id: m.id as M['id'],
    session_id: m.sessionId as M['sessionId'],
    seq: m.seq as M['seq'],
    user_id: m.userId as M['userId'],
    username,
    role: m.role as M['role'],
    content: m.content as M['content'],
    client_msg_id: m.clientMsgId as M['clientMsgId'],
    reply_to: m.replyTo as M['replyTo'],
    ai_usage: m.aiUsage as M['aiUsage'],
    created_at: iso(m.createdAt),
    edited_at: iso<true>(m.editedAt),
    deleted_at: iso<true>(m.deletedAt),
    reactions,
  }
}

/**
 * A stored message's fields with its author's current name and its reactions, per emoji in the order
 * they first appeared, aggregated in the same query (one indexed lookup per message). `viewer` decides
 * each reaction's `me`; frames shared by every socket pass 0 (`me` is then false).
 */
export function readMessageFields<M extends MessageColumns>(m: M, viewer: SQLWrapper | number) {
  return messageFields(
    m,
    sql<string>`coalesce((select u.username from ${users} u where u.id = ${outer(m.userId)}), ${m.role}::text)`,
    sql<ReactionView[]>`coalesce((
      select json_agg(json_build_object('emoji', x.emoji, 'count', x.count, 'me', x.me) order by x.first, x.emoji)
        from (select emoji, count(*)::int as count, bool_or(user_id = ${viewer}) as me, min(created_at) as first
                from ${messageReactions} where message_id = ${outer(m.id)} group by emoji) x), '[]'::json)`,
  )
}

const m = alias(chatMessages, 'm')
const viewer = sql.placeholder('viewer')
const room = sql.placeholder('room')

// ---- send ----

const sendRoles = sql.raw(
  rolesAllowed('send_message')
    .map((role) => `'${role}'`)
    .join(', '),
)

/**
 * The only statement that allocates seq. One statement: the room's counter UPDATE and the INSERT commit
 * together, so seq has no gaps and no duplicates however many people send at once. The sender's right
 * to send rides in the UPDATE (no extra round trip); the assistant's reply has none to check. It
 * returns the message with the author's current name (a rename is seen at once), and what the
 * assistant needs to decide whether to answer: the room's mode and title.
 */
function sendQuery(db: Executor, by: 'user' | 'assistant') {
  const role = sql.raw(`'${by}'`)
  const mayStore =
    by === 'user'
      ? sql`exists (select 1 from ${chatParticipants} p where p.session_id = ${room}
                       and p.user_id = ${sql.placeholder('user')} and p.role in (${sendRoles}))`
      : sql`true`
  const slot = db.$with('slot', { aiMode: chatSessions.aiMode, title: chatSessions.title }).as(
    sql`update ${chatSessions}
             set last_seq = last_seq + 1, message_count = message_count + 1, last_activity_at = now()
           where id = ${room} and deleted_at is null and ${mayStore}
       returning id, last_seq, ai_mode, title`,
  )
  const stored = db.$with('stored', getTableColumns(chatMessages)).as(
    sql`insert into ${chatMessages} (session_id, seq, user_id, role, content, client_msg_id, reply_to, ai_usage)
        select slot.id, slot.last_seq, ${sql.placeholder('user')}::integer, ${role}::message_role,
               ${sql.placeholder('content')}::text, ${sql.placeholder('clientMsgId')}::varchar,
               ${sql.placeholder('replyTo')}::bigint, ${sql.placeholder('aiUsage')}::jsonb
          from slot
        returning *`,
  )
  return db
    .with(slot, stored)
    .select({
      message: messageFields(
        stored,
        sql<string>`coalesce((select u.username from ${users} u where u.id = ${inStored(stored.userId)}), ${role})`,
        sql<ReactionView[]>`'[]'::json`,
      ),
      ai_mode: sql<SessionView['ai_mode']>`(select ai_mode from slot)`,
      title: sql<string>`(select title from slot)`,
    })
    .from(stored)
}

function sendStatement(db: Executor, by: 'user' | 'assistant') {
  return preparedRows(db, `send_${by}`, () => sendQuery(db, by))
}

export interface NewMessage {
  sessionId: number
  /** Null for the assistant. */
  userId: number | null
  content: string
  clientMsgId: string | null
  replyTo: number | null
  /** The assistant's reply only: what it cost. */
  aiUsage?: AiUsage | null
}

/** The message stored, with the room's mode and title; undefined when the room is gone or the sender may not send. */
export async function insertMessage(db: Executor, message: NewMessage) {
  const by = message.userId === null ? 'assistant' : 'user'
  const [row] = await sendStatement(db, by).execute({
    room: message.sessionId,
    user: message.userId,
    content: message.content,
    clientMsgId: message.clientMsgId,
    replyTo: message.replyTo,
    // pg would send an object as its JSON text anyway; stringified here so the ::jsonb cast reads it.
    aiUsage: message.aiUsage ? JSON.stringify(message.aiUsage) : null,
  })
  return row
}

/**
 * Several users' sends in one statement: what the send statement does, for each of up to
 * SEND_BATCH_MAX messages at once (any rooms). The rooms' rows are locked in id order first, so two
 * batches (or a batch and a single send) touching the same rooms wait for each other instead of
 * deadlocking, which separate statements in one transaction would. Each room's counter moves by its
 * number of messages, numbered in the order they were submitted: seq stays gapless. A message whose
 * sender may not send there (or whose room is gone) is left out, like the single statement does.
 */
function sendBatchQuery(db: Executor) {
  const sub = (name: string) => db.$with(name, {}).as
  const input = sub('input')(
    sql`select * from unnest(${sql.placeholder('rooms')}::integer[], ${sql.placeholder('users')}::integer[],
                             ${sql.placeholder('contents')}::text[], ${sql.placeholder('clientMsgIds')}::varchar[])
                 with ordinality as t(room, author, content, client_msg_id, ord)`,
  )
  const locked = sub('locked')(
    sql`select s.id from ${chatSessions} s where s.id in (select room from input) and s.deleted_at is null
         order by s.id for update`,
  )
  const allowed = sub('allowed')(
    sql`select i.* from input i join locked l on l.id = i.room
         where exists (select 1 from ${chatParticipants} p where p.session_id = i.room
                          and p.user_id = i.author and p.role in (${sendRoles}))`,
  )
  const counts = sub('counts')(sql`select room, count(*)::bigint as n from allowed group by room`)
  const slot = sub('slot')(
    sql`update ${chatSessions} s
           set last_seq = s.last_seq + c.n, message_count = s.message_count + c.n, last_activity_at = now()
          from counts c where s.id = c.room
     returning s.id, s.last_seq, c.n, s.ai_mode, s.title`,
  )
  const numbered = sub('numbered')(
    sql`select a.*, slot.last_seq - slot.n + row_number() over (partition by a.room order by a.ord) as seq
          from allowed a join slot on slot.id = a.room`,
  )
  const stored = db.$with('stored', getTableColumns(chatMessages)).as(
    sql`insert into ${chatMessages} (session_id, seq, user_id, role, content, client_msg_id)
        select room, seq, author, 'user'::message_role, content, client_msg_id from numbered
        returning *`,
  )
  return db
    .with(input, locked, allowed, counts, slot, numbered, stored)
    .select({
      ord: sql<number>`(select n.ord from numbered n where n.room = ${inStored(stored.sessionId)}
                          and n.seq = ${inStored(stored.seq)})`.mapWith(Number),
      message: messageFields(
        stored,
        sql<string>`(select u.username from ${users} u where u.id = ${inStored(stored.userId)})`,
        sql<ReactionView[]>`'[]'::json`,
      ),
      ai_mode: sql<
        SessionView['ai_mode']
      >`(select ai_mode from slot where slot.id = ${inStored(stored.sessionId)})`,
      title: sql<string>`(select title from slot where slot.id = ${inStored(stored.sessionId)})`,
    })
    .from(stored)
}

/** The most sends one batch statement takes. */
export const SEND_BATCH_MAX = 64

/**
 * Users' messages stored by one statement; the result is in the order given, undefined where the
 * room is gone or the sender may not send. A client_msg_id seen before fails the whole statement
 * (nothing is stored): the caller then stores them one at a time.
 */
export async function insertMessages(db: Executor, messages: (NewMessage & { userId: number })[]) {
  const rows = await preparedRows(db, 'send_batch', () => sendBatchQuery(db)).execute({
    rooms: messages.map((m) => m.sessionId),
    users: messages.map((m) => m.userId),
    contents: messages.map((m) => m.content),
    clientMsgIds: messages.map((m) => m.clientMsgId),
  })
  const byOrd = new Map(rows.map(({ ord, ...stored }) => [ord, stored]))
  return messages.map((_, i) => byOrd.get(i + 1))
}

// ---- reads ----

/** A read statement's rows: the Message view itself (checked below). */
function selectMessages(db: Executor) {
  return db.select(readMessageFields(m, viewer)).from(m)
}

type MessageRow = Awaited<ReturnType<ReturnType<typeof selectMessages>['execute']>>[number]
// The compiler connects the schema, these statements and the response schema: either side changing
// alone fails here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const rowsAreMessageViews: Same<MessageRow, MessageView> = true
void rowsAreMessageViews

/**
 * The caller's access, checked in the page's query: a participant of a room that is not deleted.
 * Only an empty page needs to find out why.
 */
const mayRead = sql`exists (select 1 from ${chatParticipants} p join ${chatSessions} s on s.id = p.session_id
                             where p.session_id = ${room} and p.user_id = ${viewer} and s.deleted_at is null)`

type PageShape = 'newest' | 'before' | 'after'

/**
 * A page of history in one of three shapes. The page size (1..200, validated) and a zero skip are
 * literals in the statement's text, not parameters: with parameters PostgreSQL keeps planning every
 * execution anew; with literals a plan is made once per shape and size and reused.
 */
function pageQuery(db: Executor, shape: PageShape, limit: number, skip: number, checked: boolean) {
  const conditions: SQL[] = [eq(m.sessionId, room)]
  if (shape === 'before') conditions.push(lt(m.seq, sql.placeholder('seq')))
  if (shape === 'after') conditions.push(gt(m.seq, sql.placeholder('seq')))
  if (checked) conditions.push(mayRead)
  return selectMessages(db)
    .where(and(...conditions))
    .orderBy(shape === 'after' ? m.seq : desc(m.seq))
    .limit(sql.raw(String(limit)) as unknown as number)
    .offset(skip === 0 ? (sql.raw('0') as unknown as number) : sql.placeholder('skip'))
}

function pageStatement(db: Executor, shape: PageShape, limit: number, skip: number, checked: boolean) {
  const name = `history_${shape}_${limit}_${skip === 0 ? 'first' : 'skip'}${checked ? '_checked' : ''}`
  return preparedRows(db, name, () => pageQuery(db, shape, limit, skip, checked))
}

/**
 * A page of a room's history, oldest first. Without a cursor: the newest `limit`; `before_seq`: the
 * newest `limit` before it; `after_seq`: the oldest `limit` after it; `skip` counts back from the newest.
 * Deleted messages stay in as tombstones, so seq has no gaps here either. `readerId`: the page is
 * empty unless they are a participant of the room (and their reactions are marked `me`).
 */
export async function selectPage(
  db: Executor,
  sessionId: number,
  query: MessagesQueryInput,
  readerId?: number,
): Promise<MessageView[]> {
  const shape: PageShape =
    query.after_seq !== undefined ? 'after' : query.before_seq !== undefined ? 'before' : 'newest'
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 200)
    throw new RangeError(`page size ${query.limit} is not 1..200`)
  const rows = await pageStatement(db, shape, query.limit, query.skip, readerId !== undefined).execute({
    room: sessionId,
    viewer: readerId ?? 0,
    seq: query.after_seq ?? query.before_seq,
    skip: query.skip,
  })
  if (shape !== 'after') rows.reverse()
  return rows
}

/** One message of a room (a tombstone too), with its author's name and reactions. */
export async function findMessage(
  db: Executor,
  sessionId: number,
  messageId: number,
  viewerId = 0,
): Promise<MessageView | undefined> {
  const statement = preparedRows(db, 'message_by_id', () =>
    selectMessages(db).where(and(eq(m.sessionId, room), eq(m.id, sql.placeholder('id')))),
  )
  const [row] = await statement.execute({ room: sessionId, id: messageId, viewer: viewerId })
  return row
}

/** The sender's message with this `client_msg_id`, as it is now (edits and reactions included). */
export async function findByClientMsgId(
  db: Executor,
  sessionId: number,
  userId: number,
  clientMsgId: string,
): Promise<MessageView | undefined> {
  const statement = preparedRows(db, 'message_by_client_msg_id', () =>
    selectMessages(db).where(
      and(eq(m.sessionId, room), eq(m.userId, viewer), eq(m.clientMsgId, sql.placeholder('clientMsgId'))),
    ),
  )
  const [row] = await statement.execute({ room: sessionId, viewer: userId, clientMsgId })
  return row
}

/** Messages by id (any rooms), with their authors' names and reactions, in one query. */
export async function findMessagesByIds(db: Executor, ids: number[], viewerId = 0): Promise<MessageView[]> {
  if (ids.length === 0) return []
  const statement = preparedRows(db, 'messages_by_ids', () =>
    selectMessages(db).where(sql`${m.id} = any(${sql.placeholder('ids')}::bigint[])`),
  )
  return statement.execute({ ids, viewer: viewerId })
}

/**
 * The SQL of a user's send and of a history page by `before_seq` as the caller's, exactly as Insurge
 * prepares them: bench/servers/bare-chat.ts runs these without the app around them.
 */
export function statementTexts(db: Executor, pageSize: number): Record<'send' | 'page', StatementText> {
  return {
    send: statementText('send_user', sendQuery(db, 'user')),
    page: statementText(`history_before_${pageSize}`, pageQuery(db, 'before', pageSize, 0, true)),
  }
}
