// The AI_CONCURRENCY slots of this instance, shared by the assistant's replies and catch-ups: at most
// that many ask the model at once, a bounded line waits for a slot in order, and beyond the line the
// caller is told the assistant is busy. Before a slot, each takes one of its user's holds.
/**
 * Replies and catch-ups one user may hold running or waiting at once (across instances with Redis), so
 * that one user cannot take every slot and the line, nor spend a budget many times over before the
 * first charge lands.
 */
export const HELD_PER_USER = 2

/** The key of a user's holds: one count for their replies and catch-ups together. */
export const userHoldKey = (userId: number): string => `ai:user:${userId}`

/** Why a user's reply or catch-up is refused a hold. */
export const HELD_REFUSAL = `You already have ${HELD_PER_USER} assistant replies or catch-ups running or waiting, the most one user may hold at once; ask again when one has finished`

/** Gives the slot back: to the first in line, or to the pool. A second call does nothing. */
export type Release = () => void

export interface Slots {
  /**
   * A slot, at once or after waiting in line; `null` when the line is full. Aborting `signal` while
   * waiting leaves the line and rejects with the signal's reason.
   */
  acquire(signal?: AbortSignal): Promise<Release> | null
  /** Slots in use, and callers waiting for one. */
  readonly running: number
  readonly waiting: number
}

/** Callers that may wait for a slot, per slot; more are refused. */
export const WAITING_PER_SLOT = 8

export function createSlots(limit: number, waitingLimit = limit * WAITING_PER_SLOT): Slots {
  let running = 0
  const line: { grant: () => void }[] = []

  const releaser = (): Release => {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = line.shift()
      // Handed straight to the first in line: nobody arriving meanwhile can take it first.
      if (next) next.grant()
      else running -= 1
    }
  }

  return {
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason)
      if (running < limit) {
        running += 1
        return Promise.resolve(releaser())
      }
      if (line.length >= waitingLimit) return null
      return new Promise<Release>((resolve, reject) => {
        const onAbort = () => {
          const index = line.indexOf(entry)
          if (index >= 0) line.splice(index, 1)
          reject(signal?.reason)
        }
        const entry = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort)
            resolve(releaser())
          },
        }
        signal?.addEventListener('abort', onAbort, { once: true })
        line.push(entry)
      })
    },
    get running() {
      return running
    },
    get waiting() {
      return line.length
    },
  }
}
