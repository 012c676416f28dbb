// Puts one room's numbered frames back in seq order, as they come from the bus and the database:
// each seq is delivered once, frames that arrive ahead of a gap are held until it closes, and the
// gap is named so that the hub can read it from the database. Pure: no timers, no I/O.

export interface Sequenced<T> {
  seq: number
  item: T
}

export interface Sequencer<T> {
  /** The seq delivered next; null until the first frame or `start`. */
  readonly next: number | null
  /** Delivery starts at `next` (the room's newest stored seq + 1), unless it has already started. */
  start(next: number): void
  /**
   * Accepts one frame and returns what can be delivered now, in order: this frame and those it
   * unblocked; nothing for a duplicate (a seq already delivered) or a frame ahead of a gap.
   */
  accept(seq: number, item: T): Sequenced<T>[]
  /** The seqs still missing before the frames held ahead of them, inclusive; null when none are held. */
  missing(): { from: number; to: number } | null
  /** Drops what is held and where delivery stood. */
  reset(): void
}

export function createSequencer<T>(): Sequencer<T> {
  let next: number | null = null
  const ahead = new Map<number, T>()
  let lowestAhead = Number.POSITIVE_INFINITY

  return {
    get next() {
      return next
    },

    start(first) {
      next ??= first
    },

    accept(seq, item) {
      next ??= seq
      if (seq < next || ahead.has(seq)) return []
      if (seq > next) {
        ahead.set(seq, item)
        lowestAhead = Math.min(lowestAhead, seq)
        return []
      }
      const ready: Sequenced<T>[] = [{ seq, item }]
      next = seq + 1
      for (let held = ahead.get(next); held !== undefined; held = ahead.get(next)) {
        ahead.delete(next)
        ready.push({ seq: next, item: held })
        next += 1
      }
      lowestAhead = ahead.size === 0 ? Number.POSITIVE_INFINITY : Math.min(...ahead.keys())
      return ready
    },

    missing() {
      if (next === null || ahead.size === 0) return null
      return { from: next, to: lowestAhead - 1 }
    },

    reset() {
      next = null
      ahead.clear()
      lowestAhead = Number.POSITIVE_INFINITY
    },
  }
}
