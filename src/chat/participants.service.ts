// Who is in a room and as what: join, leave, invite, change role (and transfer ownership), remove.
import { and, eq, inArray, lt, sql } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import type { Executor } from '../db/connect.js'
import { chatBans, chatParticipants, chatSessions, type ParticipantRole, users } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import {
  findParticipantRow,
  listParticipantRows,
  loadVisibleSession,
  lockSession,
  toParticipantView,
} from './access.js'
import type { InviteInput, ParticipantView } from './chat.schemas.js'
import { assertCan, type ChatAction, canAssignRole, canRemove } from './permissions.js'

type ChatDeps = Pick<Deps, 'db' | 'events' | 'presence' | 'limits'>

export interface JoinResult {
  message: string
  participant_id: number
  participant: ParticipantView
}

const privateRoom = () =>
  new AppError('forbidden', 'A private session has no other participants; make it invite_only first')
const notParticipant = () => new AppError('not_found', 'That user is not a participant of this session')

export async function listParticipants(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
): Promise<ParticipantView[]> {
  await loadVisibleSession(deps.db, actor, sessionId)
  const [rows, online] = await Promise.all([
    listParticipantRows(deps.db, sessionId),
    deps.presence.online(sessionId),
  ])
  return rows.map((row) => toParticipantView(row, online))
}

/** Joins a public room as a member. Joining again is a no-op that answers the same. */
export async function joinSession(deps: ChatDeps, actor: Actor, sessionId: number): Promise<JoinResult> {
  await deps.limits.hit('manage', actor.id)
  const visible = await loadVisibleSession(deps.db, actor, sessionId)
  // loadVisibleSession only shows a room the caller is not in when it is public.
  if (visible.role === null) {
    const added = await deps.db.transaction(async (tx) => {
      await lockSession(tx, sessionId)
      // Under the lock: the room may have stopped being public, or the caller joined meanwhile.
      if ((await loadVisibleSession(tx, actor, sessionId)).role !== null) return false
      const [ban] = await tx
        .select({ userId: chatBans.userId })
        .from(chatBans)
        .where(and(eq(chatBans.sessionId, sessionId), eq(chatBans.userId, actor.id)))
      if (ban)
        throw new AppError(
          'forbidden',
          'You are banned from this session; an owner or admin can invite you back',
        )
      await takeSeat(tx, sessionId)
      await tx
        .insert(chatParticipants)
        .values({ sessionId, userId: actor.id, role: 'member', lastReadSeq: newestSeq(sessionId) })
      return true
    })
    if (added) await emitJoined(deps, sessionId, actor.id)
  }
  const participant = await requireParticipant(deps, sessionId, actor.id)
  return { message: 'Successfully joined chat session', participant_id: participant.id, participant }
}

/** Leaves a room. The owner cannot: ownership must be transferred, or the room deleted. */
export async function leaveSession(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
): Promise<{ message: string }> {
  await deps.limits.hit('manage', actor.id)
  const left = await deps.db.transaction(async (tx) => {
    await lockSession(tx, sessionId)
    // Under the lock: a concurrent transfer may just have made the caller the owner.
    const { role } = await loadVisibleSession(tx, actor, sessionId)
    if (role === null) throw new AppError('not_found', 'You are not a participant of this session')
    if (role === 'owner') {
      throw new AppError('conflict', 'The owner cannot leave: transfer ownership or delete the session')
    }
    return removeRow(tx, sessionId, actor.id, [role])
  })
  if (left)
    deps.events.emit({ type: 'participant_left', sessionId, userId: actor.id, username: actor.username })
  return { message: 'Successfully left chat session' }
}

/** Adds a user by id, username or email. Never into a private room, never as owner. */
export async function inviteParticipant(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  input: InviteInput,
): Promise<ParticipantView> {
  await deps.limits.hit('invite', actor.id)
  const role = input.role ?? 'member'
  const visible = await loadVisibleSession(deps.db, actor, sessionId)
  assertCan(visible.role, 'invite_users')
  if (role === 'owner')
    throw new AppError('forbidden', 'Nobody can be invited as owner; transfer ownership instead')
  if (visible.session.sessionType === 'private') throw privateRoom()
  const invitee = await findInvitee(deps.db, input)
  await deps.db.transaction(async (tx) => {
    await lockSession(tx, sessionId)
    const current = await loadVisibleSession(tx, actor, sessionId)
    assertCan(current.role, 'invite_users')
    if (current.session.sessionType === 'private') throw privateRoom()
    if (await findParticipantRow(tx, sessionId, invitee.id)) {
      throw new AppError('conflict', 'That user is already a participant of this session')
    }
    await takeSeat(tx, sessionId)
    await tx
      .insert(chatParticipants)
      .values({ sessionId, userId: invitee.id, role, lastReadSeq: newestSeq(sessionId) })
    // An invitation lifts a ban.
    await tx.delete(chatBans).where(and(eq(chatBans.sessionId, sessionId), eq(chatBans.userId, invitee.id)))
  })
  return emitJoined(deps, sessionId, invitee.id)
}

/**
 * Sets a participant's role. The owner granting `owner` transfers ownership: the old owner becomes
 * admin in the same transaction, so there is exactly one owner at every moment.
 */
export async function changeRole(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  userId: number,
  newRole: ParticipantRole,
): Promise<ParticipantView> {
  await deps.limits.hit('manage', actor.id)
  await loadVisibleSession(deps.db, actor, sessionId).then((v) => assertCan(v.role, 'change_roles'))
  const changes = await deps.db.transaction(async (tx) => {
    const { actorRole, target } = await lockForAction(tx, actor, sessionId, userId, 'change_roles')
    if (!canAssignRole(actorRole, target.role, newRole)) {
      throw new AppError('forbidden', 'Admins cannot grant the owner role nor change the owner’s role')
    }
    if (target.role === newRole) return []
    if (target.role === 'owner') {
      throw new AppError(
        'conflict',
        'The owner keeps the owner role: grant owner to another participant instead',
      )
    }
    if (newRole === 'owner') {
      await setRole(tx, sessionId, actor.id, 'admin')
      await setRole(tx, sessionId, userId, 'owner')
      await tx
        .update(chatSessions)
        .set({ ownerId: userId, updatedAt: new Date() })
        .where(eq(chatSessions.id, sessionId))
      return [
        { userId: actor.id, previousRole: 'owner' as const },
        { userId, previousRole: target.role },
      ]
    }
    await setRole(tx, sessionId, userId, newRole)
    return [{ userId, previousRole: target.role }]
  })
  for (const change of changes) {
    const participant = await requireParticipant(deps, sessionId, change.userId)
    deps.events.emit({ type: 'role_changed', sessionId, participant, previousRole: change.previousRole })
  }
  return requireParticipant(deps, sessionId, userId)
}

/** Removes a participant (never the owner); with `ban`, they cannot join the public room again until invited. */
export async function removeParticipant(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  userId: number,
  ban = false,
): Promise<{ message: string }> {
  await deps.limits.hit('manage', actor.id)
  await loadVisibleSession(deps.db, actor, sessionId).then((v) => assertCan(v.role, 'remove_participants'))
  const removed = await deps.db.transaction(async (tx) => {
    const { actorRole, target } = await lockForAction(tx, actor, sessionId, userId, 'remove_participants')
    if (!canRemove(actorRole, target.role)) throw new AppError('forbidden', 'The owner cannot be removed')
    await removeRow(tx, sessionId, userId, [target.role])
    if (ban) await tx.insert(chatBans).values({ sessionId, userId, bannedBy: actor.id }).onConflictDoNothing()
    return target
  })
  deps.events.emit({
    type: 'participant_removed',
    sessionId,
    userId,
    username: removed.username,
    banned: ban,
  })
  return { message: ban ? 'Participant removed and banned' : 'Participant removed' }
}

/**
 * Takes the room's lock, then re-reads under it the caller's role (a concurrent transfer may have
 * changed who the owner is), which must allow `action`, and the participant acted on.
 */
async function lockForAction(
  tx: Executor,
  actor: Actor,
  sessionId: number,
  userId: number,
  action: ChatAction,
) {
  await lockSession(tx, sessionId)
  const { role: actorRole } = await loadVisibleSession(tx, actor, sessionId)
  assertCan(actorRole, action)
  const target = await findParticipantRow(tx, sessionId, userId)
  if (!target) throw notParticipant()
  return { actorRole, target }
}

/** A newcomer's read marker: the room's newest seq, so that the history from before is not unread. */
const newestSeq = (sessionId: number) =>
  sql<number>`(select ${chatSessions.lastSeq} from ${chatSessions} where ${chatSessions.id} = ${sessionId})`

/** Counts one more participant unless the room is full; the UPDATE's row lock makes the check exact. */
async function takeSeat(tx: Executor, sessionId: number): Promise<void> {
  const [seat] = await tx
    .update(chatSessions)
    .set({ participantCount: sql`${chatSessions.participantCount} + 1` })
    .where(
      and(eq(chatSessions.id, sessionId), lt(chatSessions.participantCount, chatSessions.maxParticipants)),
    )
    .returning({ id: chatSessions.id })
  if (!seat) throw new AppError('conflict', 'This session is full')
}

/** Deletes the participant row (only if its role is one of `roles`) and frees its seat. */
async function removeRow(
  tx: Executor,
  sessionId: number,
  userId: number,
  roles: ParticipantRole[],
): Promise<boolean> {
  const deleted = await tx
    .delete(chatParticipants)
    .where(
      and(
        eq(chatParticipants.sessionId, sessionId),
        eq(chatParticipants.userId, userId),
        inArray(chatParticipants.role, roles),
      ),
    )
    .returning({ id: chatParticipants.id })
  if (deleted.length === 0) return false
  await tx
    .update(chatSessions)
    .set({ participantCount: sql`${chatSessions.participantCount} - 1` })
    .where(eq(chatSessions.id, sessionId))
  return true
}

async function setRole(
  tx: Executor,
  sessionId: number,
  userId: number,
  role: ParticipantRole,
): Promise<void> {
  await tx
    .update(chatParticipants)
    .set({ role })
    .where(and(eq(chatParticipants.sessionId, sessionId), eq(chatParticipants.userId, userId)))
}

async function findInvitee(db: Executor, input: InviteInput): Promise<{ id: number }> {
  const given = [input.user_id, input.username, input.email].filter((v) => v !== undefined && v !== null)
  if (given.length !== 1) {
    throw new AppError('invalid', 'Give exactly one of user_id, username or email', [
      { path: 'body', message: 'must have exactly one of user_id, username, email' },
    ])
  }
  const match =
    input.user_id !== undefined && input.user_id !== null
      ? eq(users.id, input.user_id)
      : input.username !== undefined && input.username !== null
        ? eq(sql`lower(${users.username})`, input.username.toLowerCase())
        : eq(sql`lower(${users.email})`, (input.email ?? '').toLowerCase())
  const [user] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(match, eq(users.isActive, true)))
    .limit(1)
  if (!user) throw new AppError('not_found', 'User not found')
  return user
}

async function requireParticipant(
  deps: ChatDeps,
  sessionId: number,
  userId: number,
): Promise<ParticipantView> {
  const row = await findParticipantRow(deps.db, sessionId, userId)
  if (!row) throw notParticipant()
  return toParticipantView(row, await deps.presence.online(sessionId))
}

async function emitJoined(deps: ChatDeps, sessionId: number, userId: number): Promise<ParticipantView> {
  const participant = await requireParticipant(deps, sessionId, userId)
  deps.events.emit({ type: 'participant_joined', sessionId, participant })
  return participant
}
