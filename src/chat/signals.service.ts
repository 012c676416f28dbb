// What people signal to a room without storing anything: typing, asking the assistant to stop, and
// (for an instance that crashed with them online) leaving it.
// The rules live here (who may, how often); the realtime layer and the assistant act on the events.
import { eq } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import { assistantEnabled } from '../config.js'
import { type ParticipantRole, users } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { loadJoinedSession } from './access.js'
import { assertCan } from './permissions.js'

/**
 * Tells the room's other participants that the caller is (or stopped) typing. `role` is the caller's
 * role as their socket knows it (kept current by role_changed), so a keystroke costs no query.
 */
export async function sendTyping(
  deps: Pick<Deps, 'events' | 'limits'>,
  actor: { id: number; username: string },
  sessionId: number,
  role: ParticipantRole,
  isTyping: boolean,
): Promise<void> {
  assertCan(role, 'send_message')
  await deps.limits.hit('typing', actor.id)
  deps.events.emit({
    type: 'typing',
    sessionId,
    userId: actor.id,
    username: actor.username,
    isTyping,
  })
}

/** Stops the assistant's replies in progress in the room, on whichever instance writes them. */
export async function requestAssistantStop(
  deps: Pick<Deps, 'db' | 'config' | 'events' | 'limits'>,
  actor: Pick<Actor, 'id'>,
  sessionId: number,
): Promise<void> {
  await deps.limits.hit('manage', actor.id)
  const { role } = await loadJoinedSession(deps.db, actor, sessionId)
  assertCan(role, 'send_message')
  if (!assistantEnabled(deps.config)) {
    throw new AppError('conflict', 'The assistant is not enabled on this server')
  }
  deps.events.emit({ type: 'ai_stop_requested', sessionId })
}

/**
 * A user's presence in a room lapsed (the instance holding their sockets crashed): the room hears it as
 * if they had left. A user deleted meanwhile is not announced.
 */
export async function announcePresenceLapsed(
  deps: Pick<Deps, 'db' | 'events'>,
  sessionId: number,
  userId: number,
): Promise<void> {
  const [user] = await deps.db
    .select({ username: users.username })
    .from(users)
    .where(eq(users.id, userId))
    .limit(1)
  if (user) deps.events.emit({ type: 'presence_lapsed', sessionId, userId, username: user.username })
}
