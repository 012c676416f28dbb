// The one door to a room: loads it with the caller's role, and hides what the caller may not see.
import { and, asc, eq, getTableColumns, isNull, sql } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import type { Executor } from '../db/connect.js'
import { preparedRows } from '../db/prepared.js'
import {
  type ChatSessionRow,
  chatParticipants,
  chatSessions,
  type ParticipantRole,
  users,
} from '../db/schema.js'
import { AppError } from '../errors.js'
import type { ParticipantView } from './chat.schemas.js'

export interface VisibleSession {
  session: ChatSessionRow
  ownerUsername: string
  /** The caller's role, or null for a public room they have not joined. */
  role: ParticipantRole | null
}

export const sessionNotFound = () => new AppError('not_found', 'Chat session not found')

/**
 * The room with the caller's role. Deleted rooms, and rooms other than public ones that the caller
 * is not in, are 404: their existence is not revealed.
 */
export async function loadVisibleSession(
  db: Executor,
  actor: Pick<Actor, 'id'>,
  sessionId: number,
): Promise<VisibleSession> {
  // Prepared: every socket set-up and most room requests start here, and Drizzle building its SQL
  // again each time was most of a WebSocket connect's CPU besides the socket writes.
  const statement = preparedRows(db, 'visible_session', () =>
    db
      .select({
        session: getTableColumns(chatSessions),
        ownerUsername: users.username,
        role: chatParticipants.role,
      })
      .from(chatSessions)
      .innerJoin(users, eq(users.id, chatSessions.ownerId))
      .leftJoin(
        chatParticipants,
        and(
          eq(chatParticipants.sessionId, chatSessions.id),
          eq(chatParticipants.userId, sql.placeholder('userId')),
        ),
      )
      .where(and(eq(chatSessions.id, sql.placeholder('sessionId')), isNull(chatSessions.deletedAt)))
      .limit(sql.raw('1') as unknown as number),
  )
  const [row] = await statement.execute({ sessionId, userId: actor.id })
  if (!row || (row.role === null && row.session.sessionType !== 'public')) throw sessionNotFound()
  return row
}

/** Like loadVisibleSession, for reading the room's content: a public room must be joined first (403). */
export async function loadJoinedSession(
  db: Executor,
  actor: Pick<Actor, 'id'>,
  sessionId: number,
): Promise<VisibleSession & { role: ParticipantRole }> {
  const visible = await loadVisibleSession(db, actor, sessionId)
  if (visible.role === null) throw new AppError('forbidden', 'Join this session first')
  return visible as VisibleSession & { role: ParticipantRole }
}

/**
 * Takes the room's row lock for the rest of the transaction: membership changes of one room
 * (joins, invites, role changes, removals) run one at a time, so counts and the single owner hold.
 */
export async function lockSession(tx: Executor, sessionId: number): Promise<void> {
  await tx
    .select({ id: chatSessions.id })
    .from(chatSessions)
    .where(eq(chatSessions.id, sessionId))
    .for('update')
}

const participantColumns = {
  id: chatParticipants.id,
  userId: chatParticipants.userId,
  role: chatParticipants.role,
  joinedAt: chatParticipants.joinedAt,
  username: users.username,
  firstName: users.firstName,
  lastName: users.lastName,
}

type ParticipantRow = {
  id: number
  userId: number
  role: ParticipantRole
  joinedAt: Date
  username: string
  firstName: string | null
  lastName: string | null
}

/** `online`: the ids of the users with a socket in the room (Presence.onlineUsers). */
export function toParticipantView(row: ParticipantRow, online: ReadonlySet<number>): ParticipantView {
  return {
    id: row.id,
    user_id: row.userId,
    username: row.username,
    first_name: row.firstName,
    last_name: row.lastName,
    role: row.role,
    joined_at: row.joinedAt.toISOString(),
    is_online: online.has(row.userId),
  }
}

/** Every participant of the room, oldest first. */
export async function listParticipantRows(db: Executor, sessionId: number): Promise<ParticipantRow[]> {
  return db
    .select(participantColumns)
    .from(chatParticipants)
    .innerJoin(users, eq(users.id, chatParticipants.userId))
    .where(eq(chatParticipants.sessionId, sessionId))
    .orderBy(asc(chatParticipants.joinedAt), asc(chatParticipants.id))
}

/** One participant of the room, or undefined. */
export async function findParticipantRow(
  db: Executor,
  sessionId: number,
  userId: number,
): Promise<ParticipantRow | undefined> {
  const [row] = await db
    .select(participantColumns)
    .from(chatParticipants)
    .innerJoin(users, eq(users.id, chatParticipants.userId))
    .where(and(eq(chatParticipants.sessionId, sessionId), eq(chatParticipants.userId, userId)))
    .limit(1)
  return row
}
