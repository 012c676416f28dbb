// Single-use WebSocket tickets: `POST /auth/ws-ticket` trades an access token for one, `/ws?ticket=` spends it.
// Stored in the database (only a hash), so a ticket issued by one instance works on any other.
import { createHash, randomBytes } from 'node:crypto'
import { eq, lt } from 'drizzle-orm'
import { users, wsTickets } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import type { Actor } from './actor.js'
import { issuedBeforeRevocation } from './revocation.js'

export const TICKET_TTL_SECONDS = 60

const hash = (ticket: string) => createHash('sha256').update(ticket).digest('hex')

export async function issueTicket(
  deps: Pick<Deps, 'db' | 'limits'>,
  actor: Actor,
): Promise<{ ticket: string; expires_in: number }> {
  await deps.limits.hit('ws_ticket', actor.id)
  const ticket = randomBytes(32).toString('base64url')
  await deps.db.delete(wsTickets).where(lt(wsTickets.expiresAt, new Date()))
  await deps.db.insert(wsTickets).values({
    tokenHash: hash(ticket),
    userId: actor.id,
    expiresAt: new Date(Date.now() + TICKET_TTL_SECONDS * 1000),
  })
  return { ticket, expires_in: TICKET_TTL_SECONDS }
}

/** Spends a ticket: the DELETE that finds it is the only one that can, so it works exactly once. */
export async function redeemTicket(deps: Pick<Deps, 'db'>, ticket: string): Promise<Actor> {
  const [spent] = await deps.db
    .delete(wsTickets)
    .where(eq(wsTickets.tokenHash, hash(ticket)))
    .returning({ userId: wsTickets.userId, expiresAt: wsTickets.expiresAt })
  if (!spent) throw new AppError('unauthenticated', 'Invalid or already used ticket')
  if (spent.expiresAt.getTime() < Date.now()) throw new AppError('unauthenticated', 'Ticket has expired')
  const [user] = await deps.db.select().from(users).where(eq(users.id, spent.userId)).limit(1)
  if (!user?.isActive) throw new AppError('unauthenticated', 'Could not validate credentials')
  // Revocation deletes unspent tickets; one issued while it ran is caught here.
  const issuedAt = spent.expiresAt.getTime() / 1000 - TICKET_TTL_SECONDS
  if (issuedBeforeRevocation(issuedAt, user.tokensValidAfter)) {
    throw new AppError('unauthenticated', 'Ticket has been revoked; log in again')
  }
  return user
}
