// Rooms: create, list (mine and public), read, update, soft delete.
import { and, count, desc, eq, ilike, isNull, or, sql } from 'drizzle-orm'
import { alias } from 'drizzle-orm/pg-core'
import type { AssistantSettingsView } from '../ai/settings.schemas.js'
import type { Actor } from '../auth/actor.js'
import type { Executor } from '../db/connect.js'
import {
  chatMessages,
  chatParticipants,
  chatSessions,
  roomAssistants,
  type SessionType,
  users,
} from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import {
  listParticipantRows,
  loadVisibleSession,
  lockSession,
  sessionNotFound,
  toParticipantView,
  type VisibleSession,
} from './access.js'
import type {
  MessageView,
  PagingInput,
  PublicSessionsQueryInput,
  SessionCreateInput,
  SessionDetailView,
  SessionUpdateInput,
  SessionView,
} from './chat.schemas.js'
import { findMessagesByIds } from './message-queries.js'
import { assertCan } from './permissions.js'

type ChatDeps = Pick<Deps, 'db' | 'config' | 'events' | 'presence' | 'limits'>

export interface SessionPage {
  sessions: SessionView[]
  total: number
}

/**
 * What a session view selects, for the caller: the room, its owner's name, the caller's role and read
 * state, and the id of the newest message that is not deleted. Unread = the messages after the
 * caller's marker (seq has no gaps, so a subtraction) less the deleted ones and the caller's own in that
 * range, both counted on small partial or narrow indexes: it does not grow with the room's history.
 */
const [deleted, own, newest] = [alias(chatMessages, 'd'), alias(chatMessages, 'o'), alias(chatMessages, 'n')]
const sessionViewColumns = (actorId: number) => ({
  session: chatSessions,
  ownerUsername: users.username,
  role: chatParticipants.role,
  lastReadSeq: sql<number>`coalesce(${chatParticipants.lastReadSeq}, 0)`.mapWith(Number),
  unreadCount: sql<number>`case when ${chatParticipants.id} is null then 0 else
      (${chatSessions.lastSeq} - ${chatParticipants.lastReadSeq})
      - (select count(*) from ${chatMessages} ${deleted} where ${deleted.sessionId} = ${chatSessions.id}
           and ${deleted.seq} > ${chatParticipants.lastReadSeq} and ${deleted.deletedAt} is not null)
      - (select count(*) from ${chatMessages} ${own} where ${own.sessionId} = ${chatSessions.id}
           and ${own.seq} > ${chatParticipants.lastReadSeq} and ${own.userId} = ${actorId} and ${own.deletedAt} is null)
    end`.mapWith(Number),
  // Only for participants: reading a room's messages needs participation, the newest one too.
  lastMessageId: sql<number | null>`case when ${chatParticipants.id} is null then null else
      (select ${newest.id} from ${chatMessages} ${newest} where ${newest.sessionId} = ${chatSessions.id}
          and ${newest.deletedAt} is null order by ${newest.seq} desc limit 1) end`,
  total: sql<number>`count(*) over ()`.mapWith(Number),
})

type SessionViewRow = VisibleSession & {
  lastReadSeq: number
  unreadCount: number
  lastMessageId: number | string | null
}

const byNewestActivity = [desc(chatSessions.lastActivityAt), desc(chatSessions.id)] as const

function toSessionView(row: SessionViewRow, lastMessage: MessageView | null): SessionView {
  const { session, ownerUsername, role } = row
  return {
    id: session.id,
    title: session.title,
    description: session.description,
    session_type: session.sessionType,
    max_participants: session.maxParticipants,
    owner_id: session.ownerId,
    owner_username: ownerUsername,
    is_active: session.deletedAt === null,
    ai_mode: session.aiMode,
    created_at: session.createdAt.toISOString(),
    updated_at: session.updatedAt.toISOString(),
    participant_count: session.participantCount,
    message_count: session.messageCount,
    my_role: role,
    last_read_seq: row.lastReadSeq,
    unread_count: row.unreadCount,
    last_message: lastMessage,
  }
}

/** Views for rows of one query, with every room's last message loaded in one more query. */
async function toSessionViews(db: Executor, actor: Actor, rows: SessionViewRow[]): Promise<SessionView[]> {
  const ids = rows
    .map((r) => r.lastMessageId)
    .filter((id): id is number | string => id !== null)
    .map(Number)
  const lastMessages = new Map((await findMessagesByIds(db, ids, actor.id)).map((m) => [m.id, m]))
  return rows.map((row) => toSessionView(row, lastMessages.get(Number(row.lastMessageId)) ?? null))
}

/** Rooms with their owner and, when the caller is in them, the caller's participation. */
function selectSessionViews(db: Executor, actor: Actor) {
  return db
    .select(sessionViewColumns(actor.id))
    .from(chatSessions)
    .innerJoin(users, eq(users.id, chatSessions.ownerId))
    .leftJoin(
      chatParticipants,
      and(eq(chatParticipants.sessionId, chatSessions.id), eq(chatParticipants.userId, actor.id)),
    )
    .$dynamic()
}

/** One room as the caller sees it (the room must already be known to be visible to them). */
async function loadSessionView(db: Executor, actor: Actor, sessionId: number): Promise<SessionView> {
  const rows = await selectSessionViews(db, actor).where(eq(chatSessions.id, sessionId))
  const [view] = await toSessionViews(db, actor, rows)
  if (!view) throw sessionNotFound()
  return view
}

/** The assistant answers everything in a personal room, and only when called elsewhere. */
export const defaultAiMode = (type: SessionType) => (type === 'private' ? 'always' : 'mention')

export async function createSession(
  deps: ChatDeps,
  actor: Actor,
  input: SessionCreateInput,
): Promise<SessionView> {
  await deps.limits.hit('create_room', actor.id)
  const sessionType = input.session_type ?? 'private'
  const maxParticipants = input.max_participants ?? deps.config.MAX_CHAT_PARTICIPANTS
  assertWithinLimit(deps, maxParticipants)
  const session = await deps.db.transaction(async (tx) => {
    const [created] = await tx
      .insert(chatSessions)
      .values({
        title: input.title,
        description: input.description ?? null,
        sessionType,
        maxParticipants,
        ownerId: actor.id,
        aiMode: input.ai_mode ?? defaultAiMode(sessionType),
        participantCount: 1,
      })
      .returning()
    if (!created) throw new Error('insert into chat_sessions returned no row')
    await tx.insert(chatParticipants).values({ sessionId: created.id, userId: actor.id, role: 'owner' })
    return created
  })
  // A new room: nothing in it yet, so nothing to read.
  return toSessionView(
    {
      session,
      ownerUsername: actor.username,
      role: 'owner',
      lastReadSeq: 0,
      unreadCount: 0,
      lastMessageId: null,
    },
    null,
  )
}

/** The rooms the caller is in, newest activity first; one query for the page and its total. */
export async function listMySessions(deps: ChatDeps, actor: Actor, page: PagingInput): Promise<SessionPage> {
  const where = and(eq(chatParticipants.userId, actor.id), isNull(chatSessions.deletedAt))
  const rows = await deps.db
    .select(sessionViewColumns(actor.id))
    .from(chatParticipants)
    .innerJoin(chatSessions, eq(chatSessions.id, chatParticipants.sessionId))
    .innerJoin(users, eq(users.id, chatSessions.ownerId))
    .where(where)
    .orderBy(...byNewestActivity)
    .limit(page.limit)
    .offset(page.skip)
  const total = await pageTotal(rows, page.skip, () =>
    deps.db
      .select({ n: count() })
      .from(chatParticipants)
      .innerJoin(chatSessions, eq(chatSessions.id, chatParticipants.sessionId))
      .where(where),
  )
  return { sessions: await toSessionViews(deps.db, actor, rows), total }
}

/** Public rooms anyone may join, newest activity first, optionally matching `search` in title or description. */
export async function listPublicSessions(
  deps: ChatDeps,
  actor: Actor,
  query: PublicSessionsQueryInput,
): Promise<SessionPage> {
  const search = query.search?.trim()
  const pattern = search ? `%${search.replace(/[\\%_]/g, '\\$&')}%` : undefined
  const where = and(
    eq(chatSessions.sessionType, 'public'),
    isNull(chatSessions.deletedAt),
    pattern ? or(ilike(chatSessions.title, pattern), ilike(chatSessions.description, pattern)) : undefined,
  )
  const rows = await selectSessionViews(deps.db, actor)
    .where(where)
    .orderBy(...byNewestActivity)
    .limit(query.limit)
    .offset(query.skip)
  const total = await pageTotal(rows, query.skip, () =>
    deps.db.select({ n: count() }).from(chatSessions).where(where),
  )
  return { sessions: await toSessionViews(deps.db, actor, rows), total }
}

export async function getSession(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
): Promise<SessionDetailView> {
  await loadVisibleSession(deps.db, actor, sessionId)
  const [view, participants, online] = await Promise.all([
    loadSessionView(deps.db, actor, sessionId),
    listParticipantRows(deps.db, sessionId),
    deps.presence.online(sessionId),
  ])
  return { ...view, participants: participants.map((p) => toParticipantView(p, online)) }
}

export async function updateSession(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  patch: SessionUpdateInput,
): Promise<SessionView> {
  await deps.limits.hit('manage', actor.id)
  if (patch.max_participants !== undefined) assertWithinLimit(deps, patch.max_participants)
  await deps.db.transaction(async (tx) => {
    await lockSession(tx, sessionId)
    const visible = await loadVisibleSession(tx, actor, sessionId)
    assertCan(visible.role, 'update_session')
    const count = visible.session.participantCount
    if (patch.max_participants !== undefined && patch.max_participants < count) {
      throw new AppError(
        'conflict',
        `max_participants cannot be lower than the current number of participants (${count})`,
      )
    }
    if (patch.session_type === 'private' && count > 1) {
      throw new AppError('conflict', 'A session with other participants cannot be made private')
    }
    const now = new Date()
    const [session] = await tx
      .update(chatSessions)
      .set({
        title: patch.title,
        description: patch.description,
        sessionType: patch.session_type,
        maxParticipants: patch.max_participants,
        aiMode: patch.ai_mode,
        updatedAt: now,
      })
      .where(eq(chatSessions.id, sessionId))
      .returning()
    if (!session) throw sessionNotFound()
    // The mode is one of the assistant's settings too (GET /assistant): their updated_at moves with it.
    if (patch.ai_mode !== undefined && patch.ai_mode !== visible.session.aiMode)
      await tx
        .insert(roomAssistants)
        .values({ sessionId, updatedAt: now })
        .onConflictDoUpdate({ target: roomAssistants.sessionId, set: { updatedAt: now } })
  })
  return announceSessionUpdate(deps, actor, sessionId)
}

/**
 * Tells the room's sockets what the room is now (`session_updated`), with the assistant's settings when
 * they are what changed, and returns the caller's view of it.
 */
export async function announceSessionUpdate(
  deps: Pick<ChatDeps, 'db' | 'events' | 'presence'>,
  actor: Actor,
  sessionId: number,
  extra: { assistant?: AssistantSettingsView } = {},
): Promise<SessionView> {
  const view = await loadSessionView(deps.db, actor, sessionId)
  // Shared with every socket of the room: nothing that is the caller's own.
  const { my_role: _role, last_read_seq: _read, unread_count: _unread, last_message, ...rest } = view
  const shared = {
    ...rest,
    last_message: last_message && {
      ...last_message,
      reactions: last_message.reactions.map((r) => ({ ...r, me: false })),
    },
  }
  deps.events.emit({ type: 'session_updated', sessionId, session: shared, ...extra })
  return view
}

/** Soft delete: the room disappears from every listing and answers 404; its rows are kept. */
export async function deleteSession(deps: ChatDeps, actor: Actor, sessionId: number): Promise<void> {
  await deps.limits.hit('manage', actor.id)
  const visible = await loadVisibleSession(deps.db, actor, sessionId)
  assertCan(visible.role, 'delete_session')
  const [deleted] = await deps.db
    .update(chatSessions)
    .set({ deletedAt: new Date(), updatedAt: new Date() })
    .where(and(eq(chatSessions.id, sessionId), isNull(chatSessions.deletedAt)))
    .returning({ id: chatSessions.id })
  if (!deleted) throw sessionNotFound()
  deps.events.emit({ type: 'session_deleted', sessionId })
}

function assertWithinLimit(deps: ChatDeps, maxParticipants: number): void {
  const limit = deps.config.MAX_CHAT_PARTICIPANTS
  if (maxParticipants > limit) {
    throw new AppError('invalid', `max_participants must be at most ${limit}`, [
      { path: 'body.max_participants', message: `must be <= ${limit}` },
    ])
  }
}

/** count(*) over () rides along with each row; only a page past the end needs a count of its own. */
async function pageTotal(
  rows: { total: number }[],
  skip: number,
  countAll: () => Promise<{ n: number }[]>,
): Promise<number> {
  if (rows[0]) return rows[0].total
  if (skip === 0) return 0
  const [row] = await countAll()
  return row?.n ?? 0
}
