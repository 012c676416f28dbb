// Who is calling: the user an access token names, loaded fresh so that deactivation takes effect at once.
import { eq } from 'drizzle-orm'
import { type UserRow, users } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'

export type Actor = UserRow

export async function authenticate(deps: Pick<Deps, 'db' | 'tokens'>, accessToken: string): Promise<Actor> {
  const claims = await deps.tokens.verify(accessToken, 'access')
  const [user] = await deps.db
    .select()
    .from(users)
    .where(eq(users.id, Number(claims.sub)))
    .limit(1)
  if (!user?.isActive) throw new AppError('unauthenticated', 'Could not validate credentials')
  return user
}
