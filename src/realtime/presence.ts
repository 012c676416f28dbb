// Who is online in which room, counting a user's sockets as one. Each instance reports a user once per
// room (its first socket enters, its last leaves); the store counts instances, in Redis when there are
// several, so a user on two instances is online until both let go.
import { createHash, randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'

export interface PresenceStore {
  /** Returns true when the user has just come online in the room. */
  enter(sessionId: number, userId: number): Promise<boolean>
  /** Returns true when the user has just gone offline in the room. */
  leave(sessionId: number, userId: number): Promise<boolean>
  online(sessionId: number): Promise<ReadonlySet<number>>
  /**
   * Called when a user went offline in a room without a leave: the instance that held them stopped
   * refreshing (it crashed) and no other instance holds them. One instance reports each lapse, once.
   */
  onLapsed(listener: (sessionId: number, userId: number) => void): void
  /** Stops the periodic refresh (the app is closing; its sockets have already left). */
  close(): void
}

/** How long a Redis presence lasts unless its instance renews it, and how often instances renew theirs. */
export interface PresenceTiming {
  /** A crashed instance's users look online at most this long. */
  ttlMs: number
  /** Well under ttlMs, so that one late or failed refresh does not make anyone look offline. */
  refreshMs: number
}

export const DEFAULT_PRESENCE_TIMING: PresenceTiming = { ttlMs: 45_000, refreshMs: 15_000 }

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
    // One process: its presence cannot outlive it, so nothing lapses and nothing needs refreshing.
    onLapsed() {},
    close() {},
  }
}

/**
 * One command for every change to a room's presence, so that each is atomic: it drops the members whose
 * time is up, applies the operation, and lists the users who thereby lapsed (no member left). Time is
 * Redis's own clock, so instances whose clocks disagree still agree on who has expired.
 * KEYS[1]: the room's sorted set of `<userId>:<instanceId>` scored by expiry (ms).
 * ARGV: operation (enter | leave | refresh | read), ttl (ms), user id (enter, leave), then members.
 * Returns {changed (came online / went offline: 1 or 0), lapsed user ids, live members (read only)}.
 */
const PRESENCE_SCRIPT = `
local key, op, ttl, user = KEYS[1], ARGV[1], tonumber(ARGV[2]), ARGV[3]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expires = string.format('%.0f', now + ttl)
local expired = redis.call('ZRANGEBYSCORE', key, '-inf', string.format('%.0f', now))
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now)) end
local function holds(id, except)
  local prefix = id .. ':'
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    if member ~= except and string.sub(member, 1, #prefix) == prefix then return true end
  end
  return false
end
local changed = 0
if op == 'enter' then
  if not holds(user, ARGV[4]) then changed = 1 end
  redis.call('ZADD', key, expires, ARGV[4])
elseif op == 'leave' then
  if redis.call('ZREM', key, ARGV[4]) == 1 and not holds(user, nil) then changed = 1 end
elseif op == 'refresh' then
  for i = 4, #ARGV do redis.call('ZADD', key, expires, ARGV[i]) end
end
if op == 'enter' or op == 'refresh' then redis.call('PEXPIRE', key, ttl) end
local lapsed, seen = {}, {}
for _, member in ipairs(expired) do
  local id = string.match(member, '^(%d+):')
  -- A user who just left here is reported by that leave, not as a lapse as well.
  local reported = op == 'leave' and changed == 1 and id == user
  if id and not seen[id] and not reported and not holds(id, nil) then
    seen[id] = true
    lapsed[#lapsed + 1] = id
  end
end
local live = {}
if op == 'read' then live = redis.call('ZRANGE', key, 0, -1) end
return {changed, lapsed, live}
`

const PRESENCE_SCRIPT_SHA = createHash('sha1').update(PRESENCE_SCRIPT).digest('hex')

type PresenceOp = 'enter' | 'leave' | 'refresh' | 'read'
type ScriptReply = [changed: number, lapsed: string[], live: string[]]

/**
 * Presence that survives a crash: per room, a sorted set of `<userId>:<instanceId>` members scored by
 * when they expire. Each instance renews its own members every `refreshMs` for `ttlMs` more; the members
 * of an instance killed without closing its sockets stop being renewed and expire within `ttlMs`.
 * Readers ignore and remove expired members; whoever removes a user's last one reports the lapse.
 */
export function createRedisPresence(
  redis: Redis,
  prefix: string,
  onError: (error: unknown) => void,
  timing: PresenceTiming = DEFAULT_PRESENCE_TIMING,
): PresenceStore {
  const roomKey = (sessionId: number) => `${prefix}:online:${sessionId}`
  const instanceId = randomBytes(6).toString('hex')
  const memberOf = (userId: number) => `${userId}:${instanceId}`
  /** What this instance holds, room by room: the members it must keep renewing. */
  const held = new Map<number, Set<number>>()
  const lapseListeners: ((sessionId: number, userId: number) => void)[] = []

  /** The script by its hash, as Redis caches it; sent whole only when Redis does not have it (NOSCRIPT). */
  async function evalScript(args: (string | number)[]): Promise<ScriptReply> {
    try {
      return (await redis.evalsha(PRESENCE_SCRIPT_SHA, 1, ...args)) as ScriptReply
    } catch (error) {
      if (!String(error).includes('NOSCRIPT')) throw error
      return (await redis.eval(PRESENCE_SCRIPT, 1, ...args)) as ScriptReply
    }
  }

  async function run(sessionId: number, op: PresenceOp, userId: number | '', members: string[]) {
    const [changed, lapsed, live] = await evalScript([
      roomKey(sessionId),
      op,
      timing.ttlMs,
      userId,
      ...members,
    ])
    for (const id of lapsed) {
      for (const listener of lapseListeners) {
        try {
          listener(sessionId, Number(id))
        } catch (error) {
          onError(error)
        }
      }
    }
    return { changed: changed === 1, live }
  }

  let refreshing = false
  async function refresh(): Promise<void> {
    if (refreshing || held.size === 0) return
    refreshing = true
    try {
      // All sent at once, before any leave that comes later: Redis applies them in that order.
      const results = await Promise.allSettled(
        [...held].map(([sessionId, users]) =>
          run(
            sessionId,
            'refresh',
            '',
            [...users].map((userId) => memberOf(userId)),
          ),
        ),
      )
      const failed = results.find((result) => result.status === 'rejected')
      if (failed) onError(failed.reason)
    } finally {
      refreshing = false
    }
  }
  const timer = setInterval(() => void refresh(), timing.refreshMs)
  timer.unref()

  return {
    async enter(sessionId, userId) {
      // Held before Redis answers: if it does not, the next refresh adds the member all the same.
      const users = held.get(sessionId) ?? new Set<number>()
      held.set(sessionId, users)
      users.add(userId)
      try {
        return (await run(sessionId, 'enter', userId, [memberOf(userId)])).changed
      } catch (error) {
        onError(error)
        return false
      }
    },
    async leave(sessionId, userId) {
      const users = held.get(sessionId)
      users?.delete(userId)
      if (users?.size === 0) held.delete(sessionId)
      try {
        return (await run(sessionId, 'leave', userId, [memberOf(userId)])).changed
      } catch (error) {
        onError(error)
        return false
      }
    },
    async online(sessionId) {
      try {
        const { live } = await run(sessionId, 'read', '', [])
        return new Set(live.map((member) => Number(member.slice(0, member.indexOf(':')))))
      } catch (error) {
        onError(error)
        return new Set()
      }
    },
    onLapsed(listener) {
      lapseListeners.push(listener)
    },
    close() {
      clearInterval(timer)
    },
  }
}
