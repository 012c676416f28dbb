// The turns socket set-ups take at the database (src/realtime/setups.ts), without a database.
import { expect, test } from 'vitest'
import { createSetUpSlots } from '../../src/realtime/setups.js'

test('at most `concurrency` run at once; the rest wait, in order, and all finish', async () => {
  const slots = createSetUpSlots(2)
  const releases: (() => void)[] = []
  const started: number[] = []
  const runs = Array.from({ length: 5 }, (_, i) =>
    slots.run(async () => {
      started.push(i)
      await new Promise<void>((resolve) => releases.push(resolve))
      return i
    }),
  )
  await new Promise((resolve) => setTimeout(resolve, 10))
  expect(started).toEqual([0, 1])
  expect(slots.waiting).toBe(3)
  while (releases.length > 0) {
    releases.shift()?.()
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4])
  expect(started).toEqual([0, 1, 2, 3, 4])
  expect([slots.peak, slots.waiting]).toEqual([2, 0])
})

test('a set-up that fails frees its turn', async () => {
  const slots = createSetUpSlots(1)
  await expect(slots.run(() => Promise.reject(new Error('no')))).rejects.toThrow('no')
  expect(await slots.run(async () => 'next')).toBe('next')
})
