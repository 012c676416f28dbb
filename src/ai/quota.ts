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
