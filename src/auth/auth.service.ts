// Accounts and sessions: register, login, rotating refresh tokens with reuse detection, logout.
import { randomUUID } from 'node:crypto'
import { and, eq, isNull, sql } from 'drizzle-orm'
import type { Executor } from '../db/connect.js'
import { refreshTokenFamilies, users } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { assertUsernameNotReserved } from '../users/reserved-usernames.js'
import type { UserCreateInput, UserView } from '../users/users.schemas.js'
import { rethrowUserConflict, toUserView } from '../users/users.service.js'
import type { Actor } from './actor.js'
import type { TokenPair } from './auth.schemas.js'
import { revokeEverySession } from './revocation.js'

type AuthDeps = Pick<Deps, 'db' | 'passwords' | 'tokens'>

/**
 * Two refreshes racing with one token: the loser sees a token rotated moments ago. Within this
 * window that is treated as a race (401, family kept); later it is reuse (401, family revoked).
 */
const RACE_WINDOW_MS = 10_000

export async function register(deps: AuthDeps, input: UserCreateInput): Promise<UserView> {
  assertUsernameNotReserved(input.username)
  const hashedPassword = await deps.passwords.hash(input.password)
  const [user] = await deps.db
    .insert(users)
    .values({
      email: input.email,
      username: input.username,
      hashedPassword,
      firstName: input.first_name ?? null,
      lastName: input.last_name ?? null,
    })
    .returning()
    .catch(rethrowUserConflict)
  if (!user) throw new Error('insert into users returned no row')
  return toUserView(user)
}

/** `address` is the client's: failed logins are limited per account and address (src/limits.ts). */
export async function login(
  deps: AuthDeps & Pick<Deps, 'limits'>,
  email: string,
  password: string,
  address: string,
): Promise<TokenPair> {
  await deps.limits.checkLogin(email, address)
  const [user] = await deps.db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, email.toLowerCase()))
    .limit(1)
  // Unknown email and wrong password take the same time and give the same answer.
  const matches = user
    ? await deps.passwords.verify(password, user.hashedPassword)
    : await deps.passwords.verifyNothing(password)
  if (!user || !matches) {
    await deps.limits.loginFailed(email, address)
    throw new AppError('unauthenticated', 'Incorrect email or password')
  }
  if (!user.isActive) throw new AppError('forbidden', 'Inactive user')
  await deps.limits.loginSucceeded(email, address)

  const familyId = randomUUID()
  const refresh = await deps.tokens.issue('refresh', user.id, familyId)
  await deps.db.insert(refreshTokenFamilies).values({
    id: familyId,
    userId: user.id,
    currentJti: refresh.jti,
    expiresAt: refresh.expiresAt,
  })
  return tokenPair(deps, user.id, refresh.token)
}

export async function refresh(deps: AuthDeps, refreshToken: string): Promise<TokenPair> {
  const claims = await deps.tokens.verify(refreshToken, 'refresh')
  const familyId = claims.fam as string
  const next = await deps.tokens.issue('refresh', Number(claims.sub), familyId)
  // One statement decides the race: only the request that still finds its jti current rotates it.
  const [rotated] = await deps.db
    .update(refreshTokenFamilies)
    .set({ previousJti: claims.jti, currentJti: next.jti, rotatedAt: new Date(), expiresAt: next.expiresAt })
    .where(
      and(
        eq(refreshTokenFamilies.id, familyId),
        eq(refreshTokenFamilies.currentJti, claims.jti),
        isNull(refreshTokenFamilies.revokedAt),
        sql`exists (select 1 from ${users} where ${users.id} = ${refreshTokenFamilies.userId} and ${users.isActive})`,
      ),
    )
    .returning({ userId: refreshTokenFamilies.userId })
  if (rotated) return tokenPair(deps, rotated.userId, next.token)
  throw await refusalFor(deps, familyId, claims.jti)
}

/** Ends the login the refresh token belongs to. Idempotent for a token that has already been logged out. */
export async function logout(deps: AuthDeps, refreshToken: string): Promise<void> {
  const claims = await deps.tokens.verify(refreshToken, 'refresh')
  await revokeFamily(deps.db, claims.fam as string)
}

/** Ends every login of the caller: every refresh token stops working. */
export async function logoutEverywhere(
  deps: Pick<Deps, 'db' | 'events' | 'limits'>,
  actor: Actor,
): Promise<void> {
  await deps.limits.hit('manage', actor.id)
  await deps.db.transaction((tx) => revokeEverySession(tx, actor.id, new Date()))
  deps.events.emit({ type: 'account_signed_out', userId: actor.id, reason: 'Logged out everywhere' })
}

async function revokeFamily(db: Executor, familyId: string): Promise<void> {
  await db
    .update(refreshTokenFamilies)
    .set({ revokedAt: new Date() })
    .where(and(eq(refreshTokenFamilies.id, familyId), isNull(refreshTokenFamilies.revokedAt)))
}

/** Why a validly signed refresh token was not redeemed, revoking its family when it was stolen and replayed. */
async function refusalFor(deps: AuthDeps, familyId: string, jti: string): Promise<AppError> {
  const [family] = await deps.db
    .select()
    .from(refreshTokenFamilies)
    .where(eq(refreshTokenFamilies.id, familyId))
    .limit(1)
  if (!family || family.revokedAt) return new AppError('unauthenticated', 'Refresh token has been revoked')
  if (family.currentJti === jti) return new AppError('unauthenticated', 'Could not validate credentials')
  const justRotated =
    family.previousJti === jti && family.rotatedAt && Date.now() - family.rotatedAt.getTime() < RACE_WINDOW_MS
  if (justRotated) return new AppError('unauthenticated', 'Refresh token has already been used')
  await revokeFamily(deps.db, familyId)
  return new AppError('unauthenticated', 'Refresh token reuse detected; log in again')
}

async function tokenPair(deps: AuthDeps, userId: number, refreshToken: string): Promise<TokenPair> {
  const access = await deps.tokens.issue('access', userId)
  return {
    access_token: access.token,
    refresh_token: refreshToken,
    token_type: 'bearer',
    expires_in: deps.tokens.accessTtlSeconds,
  }
}
