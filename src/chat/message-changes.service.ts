// What happens to a message after it is sent: edits, deletion as a tombstone, reactions, and read markers.
import { and, eq, isNull, lt, sql } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import { queryRows } from '../db/connect.js'
import { chatMessages, chatParticipants, chatSessions, messageReactions } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { loadJoinedSession } from './access.js'
import type { MessageView } from './chat.schemas.js'
import { findMessage } from './message-queries.js'
import { assertCan, can } from './permissions.js'

type ChatDeps = Pick<Deps, 'db' | 'events' | 'limits'>

/** Distinct emoji one user may put on one message (DESIGN section 9): a bound on what one user can store. */
const MAX_REACTIONS_PER_USER = 20

const messageNotFound = () => new AppError('not_found', 'Message not found')
const deletedMessage = () => new AppError('conflict', 'This message has been deleted')

/** The message, which must belong to the room (a message of another room is as unknown as none). */
async function requireMessage(deps: ChatDeps, sessionId: number, messageId: number, viewerId: number) {
  const message = await findMessage(deps.db, sessionId, messageId, viewerId)
  if (!message) throw messageNotFound()
  return message
}

/** The author changes their message's content; assistant and system messages cannot be edited. */
export async function editMessage(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  messageId: number,
  content: string,
): Promise<MessageView> {
  await deps.limits.hit('edit', actor.id)
  const { role } = await loadJoinedSession(deps.db, actor, sessionId)
  const message = await requireMessage(deps, sessionId, messageId, actor.id)
  if (message.role !== 'user')
    throw new AppError('forbidden', 'Assistant and system messages cannot be edited')
  if (message.user_id !== actor.id) throw new AppError('forbidden', 'Only the author can edit a message')
  assertCan(role, 'send_message')
  const [edited] = await deps.db
    .update(chatMessages)
    .set({ content, editedAt: new Date() })
    .where(
      and(eq(chatMessages.id, messageId), eq(chatMessages.userId, actor.id), isNull(chatMessages.deletedAt)),
    )
    .returning({ id: chatMessages.id })
  if (!edited) throw deletedMessage()
  const updated = await requireMessage(deps, sessionId, messageId, actor.id)
  deps.events.emit({ type: 'message_updated', sessionId, message: updated })
  return updated
}

/**
 * Deletes a message by its author, or by the owner or an admin as moderation. The row stays as a
 * tombstone (same id and seq, empty content, deleted_at set) so history keeps no gaps; its reactions go.
 * Deleting a tombstone again changes nothing.
 */
export async function deleteMessage(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  messageId: number,
): Promise<void> {
  await deps.limits.hit('edit', actor.id)
  const { role } = await loadJoinedSession(deps.db, actor, sessionId)
  const message = await requireMessage(deps, sessionId, messageId, actor.id)
  if (message.user_id !== actor.id) assertCan(role, 'moderate_messages')
  const deleted = await deps.db.transaction(async (tx) => {
    const [tombstone] = await tx
      .update(chatMessages)
      .set({ content: '', deletedAt: new Date() })
      .where(and(eq(chatMessages.id, messageId), isNull(chatMessages.deletedAt)))
      .returning({ seq: chatMessages.seq })
    if (!tombstone) return undefined
    await tx.delete(messageReactions).where(eq(messageReactions.messageId, messageId))
    await tx
      .update(chatSessions)
      .set({ messageCount: sql`${chatSessions.messageCount} - 1` })
      .where(eq(chatSessions.id, sessionId))
    return tombstone
  })
  if (deleted) deps.events.emit({ type: 'message_deleted', sessionId, id: messageId, seq: deleted.seq })
}

/** Adds the caller's `emoji` to a message; adding it again changes nothing. */
export async function addReaction(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  messageId: number,
  emoji: string,
): Promise<void> {
  await deps.limits.hit('reaction', actor.id)
  await assertMayReact(deps, actor, sessionId)
  await requireMessage(deps, sessionId, messageId, actor.id)
  const added = await deps.db.transaction(async (tx) => {
    // A share lock on the message: a deletion (which updates the row) waits for this reaction to
    // commit and then drops it, or runs first and this sees the tombstone. No reaction outlives it.
    const [current] = await tx
      .select({ deletedAt: chatMessages.deletedAt })
      .from(chatMessages)
      .where(eq(chatMessages.id, messageId))
      .for('share')
    if (!current) throw messageNotFound()
    if (current.deletedAt !== null) throw deletedMessage()
    // One user's reactions in a room are added one at a time: with their participant row locked, the
    // count in the next statement (a new snapshot) sees every reaction of theirs committed before it,
    // so concurrent requests cannot go past the cap together.
    await tx
      .select({ id: chatParticipants.id })
      .from(chatParticipants)
      .where(and(eq(chatParticipants.sessionId, sessionId), eq(chatParticipants.userId, actor.id)))
      .for('no key update')
    const [row] = await queryRows<{ message_id: number }>(
      tx,
      sql`insert into ${messageReactions} (message_id, user_id, emoji)
          select ${messageId}::bigint, ${actor.id}::integer, ${emoji}::varchar
           where (select count(*) from ${messageReactions}
                   where message_id = ${messageId} and user_id = ${actor.id}) < ${MAX_REACTIONS_PER_USER}
          on conflict do nothing
          returning message_id`,
    )
    if (row) return true
    // Nothing inserted: the reaction is already there (idempotent), or the cap is reached.
    const [existing] = await tx
      .select({ messageId: messageReactions.messageId })
      .from(messageReactions)
      .where(oneReaction(messageId, actor.id, emoji))
      .limit(1)
    if (existing) return false
    throw new AppError(
      'conflict',
      `A user may put at most ${MAX_REACTIONS_PER_USER} different reactions on one message; remove one first`,
    )
  })
  if (added) emitReaction(deps, 'reaction_added', actor, sessionId, messageId, emoji)
}

/** Removes the caller's `emoji` from a message; removing one that is not there changes nothing. */
export async function removeReaction(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  messageId: number,
  emoji: string,
): Promise<void> {
  await deps.limits.hit('reaction', actor.id)
  await assertMayReact(deps, actor, sessionId)
  await requireMessage(deps, sessionId, messageId, actor.id)
  const [removed] = await deps.db
    .delete(messageReactions)
    .where(oneReaction(messageId, actor.id, emoji))
    .returning({ messageId: messageReactions.messageId })
  if (removed) emitReaction(deps, 'reaction_removed', actor, sessionId, messageId, emoji)
}

/** The row of one user's `emoji` on one message. */
const oneReaction = (messageId: number, userId: number, emoji: string) =>
  and(
    eq(messageReactions.messageId, messageId),
    eq(messageReactions.userId, userId),
    eq(messageReactions.emoji, emoji),
  )

/** Moves the caller's read marker forward to `seq` (never back); any participant may. */
export async function markRead(deps: ChatDeps, actor: Actor, sessionId: number, seq: number): Promise<void> {
  await deps.limits.hit('read_marker', actor.id)
  const { session } = await loadJoinedSession(deps.db, actor, sessionId)
  if (seq > session.lastSeq) {
    throw new AppError(
      'invalid',
      `seq ${seq} is beyond the newest message of this session (${session.lastSeq})`,
      [{ path: 'body.seq', message: `must be at most ${session.lastSeq}` }],
    )
  }
  // The condition makes racing markers safe: whichever is higher wins, in any order.
  const [moved] = await deps.db
    .update(chatParticipants)
    .set({ lastReadSeq: seq })
    .where(
      and(
        eq(chatParticipants.sessionId, sessionId),
        eq(chatParticipants.userId, actor.id),
        lt(chatParticipants.lastReadSeq, seq),
      ),
    )
    .returning({ seq: chatParticipants.lastReadSeq })
  if (moved) deps.events.emit({ type: 'read', sessionId, userId: actor.id, seq })
}

async function assertMayReact(deps: ChatDeps, actor: Actor, sessionId: number): Promise<void> {
  const { role } = await loadJoinedSession(deps.db, actor, sessionId)
  if (!can(role, 'send_message')) throw new AppError('forbidden', 'Your role in this session cannot react')
}

function emitReaction(
  deps: ChatDeps,
  type: 'reaction_added' | 'reaction_removed',
  actor: Actor,
  sessionId: number,
  messageId: number,
  emoji: string,
): void {
  deps.events.emit({ type, sessionId, messageId, emoji, userId: actor.id, username: actor.username })
}
