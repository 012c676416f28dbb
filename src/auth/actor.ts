// Who is calling: the user an access token names, loaded fresh so that deactivation and revocation
// (logout-all, password change) take effect at once.
import { eq, sql } from 'drizzle-orm'
import { preparedRows } from '../db/prepared.js'
import { type UserRow, users } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { issuedBeforeRevocation } from './revocation.js'

export type Actor = UserRow

export async function authenticate(deps: Pick<Deps, 'db' | 'tokens'>, accessToken: string): Promise<Actor> {
  const claims = await deps.tokens.verify(accessToken, 'access')
  const byId = preparedRows(deps.db, 'user_by_id', () =>
    deps.db
      .select()
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .limit(sql.raw('1') as unknown as number),
  )
  const [user] = await byId.execute({ id: Number(claims.sub) })
  if (!user?.isActive) throw new AppError('unauthenticated', 'Could not validate credentials')
  if (issuedBeforeRevocation(claims.iat, user.tokensValidAfter)) {
    throw new AppError('unauthenticated', 'Token has been revoked; log in again')
  }
  return user
}
