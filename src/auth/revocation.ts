// Ending every login of a user at once: logout-all, password change and deactivation all come here.
import { and, eq, isNull } from 'drizzle-orm'
import type { Executor } from '../db/connect.js'
import { refreshTokenFamilies, users, wsTickets } from '../db/schema.js'

/**
 * Refuses every token issued before now: access tokens through `users.tokens_valid_after` (the request
 * guard reads the user row anyway), refresh tokens by revoking their families, and unspent WebSocket
 * tickets by deleting them. Run it in the transaction of the change that causes it.
 */
export async function revokeEverySession(tx: Executor, userId: number, at: Date): Promise<void> {
  await tx.update(users).set({ tokensValidAfter: at }).where(eq(users.id, userId))
  await tx
    .update(refreshTokenFamilies)
    .set({ revokedAt: at })
    .where(and(eq(refreshTokenFamilies.userId, userId), isNull(refreshTokenFamilies.revokedAt)))
  await tx.delete(wsTickets).where(eq(wsTickets.userId, userId))
}

/** Whether an access token issued at `issuedAt` (seconds, with milliseconds) was revoked afterwards. */
export function issuedBeforeRevocation(issuedAt: number, tokensValidAfter: Date | null): boolean {
  return tokensValidAfter !== null && Math.round(issuedAt * 1000) < tokensValidAfter.getTime()
}
