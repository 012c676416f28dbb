// The account itself: view, profile changes, password change, deactivation.
import { eq } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import { revokeEverySession } from '../auth/revocation.js'
import { violatedUniqueConstraint } from '../db/errors.js'
import { type UserRow, users } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { assertUsernameNotReserved } from './reserved-usernames.js'
import type { UserUpdateInput, UserView } from './users.schemas.js'

export function toUserView(user: UserRow): UserView {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    first_name: user.firstName,
    last_name: user.lastName,
    is_active: user.isActive,
    is_verified: user.isVerified,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  }
}

/** Turns a unique-index violation on users into the 409 a client can act on; rethrows anything else. */
export function rethrowUserConflict(error: unknown): never {
  const constraint = violatedUniqueConstraint(error)
  if (constraint?.includes('email')) throw new AppError('conflict', 'Email already registered')
  if (constraint?.includes('username')) throw new AppError('conflict', 'Username already taken')
  throw error
}

export async function updateMe(
  deps: Pick<Deps, 'db' | 'passwords' | 'events' | 'limits'>,
  actor: Actor,
  patch: UserUpdateInput,
): Promise<UserView> {
  await deps.limits.hit('manage', actor.id)
  const changes: Partial<typeof users.$inferInsert> = {}
  if (patch.email !== undefined) changes.email = patch.email
  if (patch.username !== undefined) {
    // Someone who held the name before it was reserved keeps it; nobody else may take it.
    if (patch.username.toLowerCase() !== actor.username.toLowerCase())
      assertUsernameNotReserved(patch.username)
    changes.username = patch.username
  }
  if (patch.first_name !== undefined) changes.firstName = patch.first_name
  if (patch.last_name !== undefined) changes.lastName = patch.last_name
  if (patch.password !== undefined) {
    // Counted before bcrypt runs: each attempt costs the server a hash comparison and a hash.
    await deps.limits.hit('password_change', actor.id)
    if (patch.current_password === undefined) {
      throw new AppError('invalid', 'current_password is required to change the password', [
        { path: 'body.current_password', message: 'is required when password is set' },
      ])
    }
    if (!(await deps.passwords.verify(patch.current_password, actor.hashedPassword))) {
      throw new AppError('forbidden', 'Current password is incorrect')
    }
    changes.hashedPassword = await deps.passwords.hash(patch.password)
  }
  if (Object.keys(changes).length === 0) return toUserView(actor)

  const updated = await deps.db
    .transaction(async (tx) => {
      const [row] = await tx
        .update(users)
        .set({ ...changes, updatedAt: new Date() })
        .where(eq(users.id, actor.id))
        .returning()
      // Whoever holds a token from before the change (this caller too) must log in with the new password.
      if (changes.hashedPassword) await revokeEverySession(tx, actor.id, new Date())
      return row
    })
    .catch(rethrowUserConflict)
  if (!updated) throw new AppError('unauthenticated', 'Could not validate credentials')
  if (changes.hashedPassword) {
    deps.events.emit({ type: 'account_signed_out', userId: actor.id, reason: 'Password changed' })
  } else if (updated.username !== actor.username) {
    deps.events.emit({ type: 'account_renamed', userId: actor.id, username: updated.username })
  }
  return toUserView(updated)
}

/** Deactivates the account: its tokens stop working at once and login answers 403 from then on. */
export async function deactivateMe(
  deps: Pick<Deps, 'db' | 'events' | 'limits'>,
  actor: Actor,
): Promise<void> {
  await deps.limits.hit('manage', actor.id)
  await deps.db.transaction(async (tx) => {
    const now = new Date()
    await tx.update(users).set({ isActive: false, updatedAt: now }).where(eq(users.id, actor.id))
    await revokeEverySession(tx, actor.id, now)
  })
  deps.events.emit({ type: 'account_signed_out', userId: actor.id, reason: 'Account deactivated' })
}
