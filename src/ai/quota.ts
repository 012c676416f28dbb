// Fixed-window counters (hits per key per window): in Redis when configured, so that every instance
// counts against one limit; in process memory otherwise (one instance).
import type { Redis } from 'ioredis'

export interface WindowCounter {
  /** Counts one hit and returns how many the key has in the current window (this one included). */
  hit(key: string, windowMs: number): Promise<number>
}

export function createMemoryCounter(): WindowCounter {
  const windows = new Map<string, { count: number; endsAt: number }>()
  return {
    async hit(key, windowMs) {
      const now = Date.now()
      if (windows.size > 10_000) {
        for (const [k, w] of windows) if (w.endsAt <= now) windows.delete(k)
      }
      const current = windows.get(key)
      if (!current || current.endsAt <= now) {
        windows.set(key, { count: 1, endsAt: now + windowMs })
        return 1
      }
      current.count += 1
      return current.count
    },
  }
}

/** A Redis that does not answer does not block the assistant: the hit is let through and reported. */
export function createRedisCounter(
  redis: Redis,
  prefix: string,
  onError: (error: unknown) => void,
): WindowCounter {
  return {
    async hit(key, windowMs) {
      const fullKey = `${prefix}:count:${key}`
      try {
        const results = await redis.multi().set(fullKey, 0, 'PX', windowMs, 'NX').incr(fullKey).exec()
        return Number(results?.[1]?.[1] ?? 0)
      } catch (error) {
        onError(error)
        return 0
      }
    },
  }
}

/** Counted holds per key (a user's replies and catch-ups running or waiting), at most `max` at once. */
export interface Holds {
  /** Takes a hold of `key`; false when `max` are already taken. */
  take(key: string, max: number): Promise<boolean>
  release(key: string): Promise<void>
}

export function createMemoryHolds(): Holds {
  const held = new Map<string, number>()
  return {
    async take(key, max) {
      const count = held.get(key) ?? 0
      if (count >= max) return false
      held.set(key, count + 1)
      return true
    },
    async release(key) {
      const left = (held.get(key) ?? 1) - 1
      if (left > 0) held.set(key, left)
      else held.delete(key)
    },
  }
}

/**
 * Holds in Redis, so that a user's share counts across instances. Each take renews the key's expiry
 * (`ttlMs`, longer than any reply may run): an instance that crashes holding some frees them then,
 * rather than never. A Redis that does not answer lets the hold through and reports it.
 */
export function createRedisHolds(
  redis: Redis,
  prefix: string,
  ttlMs: number,
  onError: (error: unknown) => void,
): Holds {
  const keyOf = (key: string) => `${prefix}:held:${key}`
  return {
    async take(key, max) {
      try {
        const results = await redis.multi().incr(keyOf(key)).pexpire(keyOf(key), ttlMs).exec()
        const count = Number(results?.[0]?.[1] ?? 0)
        if (count <= max) return true
        await redis.decr(keyOf(key))
        return false
      } catch (error) {
        onError(error)
        return true
      }
    },
    async release(key) {
      try {
        const left = await redis.decr(keyOf(key))
        if (left <= 0) await redis.del(keyOf(key))
      } catch (error) {
        onError(error)
      }
    },
  }
}
