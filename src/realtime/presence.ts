// Who is online in which room, counting a user's sockets as one. Each instance reports a user once per
// room (its first socket enters, its last leaves); the store counts instances, in Redis when there are
// several, so a user on two instances is online until both let go.
import type { Redis } from 'ioredis'

export interface PresenceStore {
  /** Returns true when the user has just come online in the room. */
  enter(sessionId: number, userId: number): Promise<boolean>
  /** Returns true when the user has just gone offline in the room. */
  leave(sessionId: number, userId: number): Promise<boolean>
  online(sessionId: number): Promise<ReadonlySet<number>>
}

export function createMemoryPresence(): PresenceStore {
  const rooms = new Map<number, Map<number, number>>()
  return {
    async enter(sessionId, userId) {
      const users = rooms.get(sessionId) ?? new Map<number, number>()
      rooms.set(sessionId, users)
      const count = (users.get(userId) ?? 0) + 1
      users.set(userId, count)
      return count === 1
    },
    async leave(sessionId, userId) {
      const users = rooms.get(sessionId)
      const count = (users?.get(userId) ?? 0) - 1
      if (count > 0) {
        users?.set(userId, count)
        return false
      }
      users?.delete(userId)
      if (users?.size === 0) rooms.delete(sessionId)
      return count === 0
    },
    async online(sessionId) {
      return new Set(rooms.get(sessionId)?.keys() ?? [])
    },
  }
}

/**
 * Counts in a Redis hash per room. An instance that dies without closing its sockets leaves its counts
 * behind (those users look online until they reconnect and leave); a graceful shutdown closes every
 * socket and so decrements them.
 */
export function createRedisPresence(
  redis: Redis,
  prefix: string,
  onError: (error: unknown) => void,
): PresenceStore {
  const presenceKey = (sessionId: number) => `${prefix}:presence:${sessionId}`
  return {
    async enter(sessionId, userId) {
      try {
        return (await redis.hincrby(presenceKey(sessionId), String(userId), 1)) === 1
      } catch (error) {
        onError(error)
        return false
      }
    },
    async leave(sessionId, userId) {
      try {
        const count = await redis.hincrby(presenceKey(sessionId), String(userId), -1)
        if (count <= 0) await redis.hdel(presenceKey(sessionId), String(userId))
        return count === 0
      } catch (error) {
        onError(error)
        return false
      }
    },
    async online(sessionId) {
      try {
        const counts = await redis.hgetall(presenceKey(sessionId))
        return new Set(
          Object.entries(counts)
            .filter(([, count]) => Number(count) > 0)
            .map(([userId]) => Number(userId)),
        )
      } catch (error) {
        onError(error)
        return new Set()
      }
    },
  }
}
