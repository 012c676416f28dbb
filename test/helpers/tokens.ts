// Tokens signed outside the server, to prove what the server accepts and what it refuses.
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/auth/tokens.js'

export interface Forge {
  alg?: string
  claims?: Record<string, unknown>
  omit?: string[]
}

/** Signs an access token for `userId` with `secret` the way the server does, then changes one thing. */
export async function forgeAccessToken(
  secret: string,
  userId: number,
  { alg = 'HS256', claims = {}, omit = [] }: Forge = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const payload: Record<string, unknown> = {
    typ: 'access',
    sub: String(userId),
    iss: TOKEN_ISSUER,
    aud: TOKEN_AUDIENCE,
    iat: now,
    exp: now + 600,
    jti: randomUUID(),
    ...claims,
  }
  for (const key of omit) delete payload[key]
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret))
}
