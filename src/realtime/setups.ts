// Socket set-ups share the database pool with every HTTP request. A reconnect storm (an instance
// restarting, a network blip: every client of it at the same moment) opens hundreds of sockets at once,
// each with a few queries (the token's user, the room and role, the newest seq, the missed messages);
// unbounded, they queued for the pool's 20 connections longer than its 3 s acquire timeout (meant to
// fail fast when the database is down), so sockets failed with 1011 and even sends on open sockets
// failed. Set-ups now take turns: at most `concurrency` at once, the rest wait their turn, each
// socket's frames held meanwhile (inbound.ts), and HTTP keeps the rest of the pool.
import pLimit from 'p-limit'

export interface SetUpSlots {
  /** Runs `work` when a slot is free. */
  run<T>(work: () => Promise<T>): Promise<T>
  /** Set-ups waiting for a slot now. */
  readonly waiting: number
  /** The most set-ups that have run at once since start (for /metrics, and the tests). */
  readonly peak: number
}

export function createSetUpSlots(concurrency: number): SetUpSlots {
  const limit = pLimit(concurrency)
  let peak = 0
  return {
    run: (work) =>
      limit(() => {
        peak = Math.max(peak, limit.activeCount)
        return work()
      }),
    get waiting() {
      return limit.pendingCount
    },
    get peak() {
      return peak
    },
  }
}
