// Rooms: create, list (mine and public), read, update, soft delete.
import { and, count, desc, eq, ilike, isNull, or, sql } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import { chatParticipants, chatSessions, type SessionType, users } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import {
  listParticipantRows,
  loadVisibleSession,
  lockSession,
  sessionNotFound,
  toParticipantView,
  toSessionView,
} from './access.js'
import type {
  PagingInput,
  PublicSessionsQueryInput,
  SessionCreateInput,
  SessionDetailView,
  SessionUpdateInput,
  SessionView,
} from './chat.schemas.js'
import { assertCan } from './permissions.js'

type ChatDeps = Pick<Deps, 'db' | 'config' | 'events' | 'presence'>

export interface SessionPage {
  sessions: SessionView[]
  total: number
}

/** What a session listing selects: the room, its owner's name, the caller's role, and the total. */
const listedSession = {
  session: chatSessions,
  ownerUsername: users.username,
  role: chatParticipants.role,
  total: sql<number>`count(*) over ()`.mapWith(Number),
}
const byNewestActivity = [desc(chatSessions.lastActivityAt), desc(chatSessions.id)] as const

/** The assistant answers everything in a personal room, and only when called elsewhere. */
export const defaultAiMode = (type: SessionType) => (type === 'private' ? 'always' : 'mention')

export async function createSession(
  deps: ChatDeps,
  actor: Actor,
  input: SessionCreateInput,
): Promise<SessionView> {
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
  return toSessionView({ session, ownerUsername: actor.username, role: 'owner' })
}

/** The rooms the caller is in, newest activity first; one query for the page and its total. */
export async function listMySessions(deps: ChatDeps, actor: Actor, page: PagingInput): Promise<SessionPage> {
  const where = and(eq(chatParticipants.userId, actor.id), isNull(chatSessions.deletedAt))
  const rows = await deps.db
    .select(listedSession)
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
  return { sessions: rows.map(toSessionView), total }
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
  const rows = await deps.db
    .select(listedSession)
    .from(chatSessions)
    .innerJoin(users, eq(users.id, chatSessions.ownerId))
    .leftJoin(
      chatParticipants,
      and(eq(chatParticipants.sessionId, chatSessions.id), eq(chatParticipants.userId, actor.id)),
    )
    .where(where)
    .orderBy(...byNewestActivity)
    .limit(query.limit)
    .offset(query.skip)
  const total = await pageTotal(rows, query.skip, () =>
    deps.db.select({ n: count() }).from(chatSessions).where(where),
  )
  return { sessions: rows.map(toSessionView), total }
}

export async function getSession(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
): Promise<SessionDetailView> {
  const visible = await loadVisibleSession(deps.db, actor, sessionId)
  const [participants, online] = await Promise.all([
    listParticipantRows(deps.db, sessionId),
    deps.presence.online(sessionId),
  ])
  return { ...toSessionView(visible), participants: participants.map((p) => toParticipantView(p, online)) }
}

export async function updateSession(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  patch: SessionUpdateInput,
): Promise<SessionView> {
  if (patch.max_participants !== undefined) assertWithinLimit(deps, patch.max_participants)
  const updated = await deps.db.transaction(async (tx) => {
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
    const [session] = await tx
      .update(chatSessions)
      .set({
        title: patch.title,
        description: patch.description,
        sessionType: patch.session_type,
        maxParticipants: patch.max_participants,
        aiMode: patch.ai_mode,
        updatedAt: new Date(),
      })
      .where(eq(chatSessions.id, sessionId))
      .returning()
    if (!session) throw sessionNotFound()
    return { ...visible, session }
  })
  const view = toSessionView(updated)
  const { my_role: _, ...shared } = view
  deps.events.emit({ type: 'session_updated', sessionId, session: shared })
  return view
}

/** Soft delete: the room disappears from every listing and answers 404; its rows are kept. */
export async function deleteSession(deps: ChatDeps, actor: Actor, sessionId: number): Promise<void> {
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
