// Timers that do not keep a Node process alive (tests, scripts); in browsers unref does not exist.

export function later(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, ms)
  const handle = timer as unknown as { unref?: () => void }
  handle.unref?.()
  return timer
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => later(ms, resolve))

/** Exponential backoff with full jitter: a random wait between 0 and min(max, base * 2^attempt). */
export const fullJitter = (attempt: number, baseMs: number, maxMs: number): number =>
  Math.random() * Math.min(maxMs, baseMs * 2 ** attempt)
