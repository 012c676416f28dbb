// The AI_CONCURRENCY slots replies and catch-ups share: at most `limit` at once, a line served in order
// (a slot given back goes to the first in line, not to whoever asks next), a full line refused, and a
// wait that can be abandoned.
import { expect, test } from 'vitest'
import { createSlots } from '../../src/ai/slots.js'

test('at most limit at once; the line is served in order, and a newcomer does not jump it', async () => {
  const slots = createSlots(2, 4)
  const first = await slots.acquire()
  const second = await slots.acquire()
  const order: string[] = []
  const third = slots.acquire()?.then((release) => {
    order.push('third')
    return release
  })
  const fourth = slots.acquire()?.then((release) => {
    order.push('fourth')
    return release
  })
  expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 2, waiting: 2 })

  first?.()
  first?.() // a second release gives back nothing more
  const late = slots.acquire() // arrives after the slot was handed over: waits behind fourth
  await third
  expect(order).toEqual(['third'])
  expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 2, waiting: 2 })

  second?.()
  ;(await third)?.()
  await fourth
  const lateRelease = await late
  expect(order).toEqual(['third', 'fourth'])
  ;(await fourth)?.()
  lateRelease?.()
  expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 0, waiting: 0 })
})

test('a full line is refused at once (null), and frees up as the line moves', async () => {
  const slots = createSlots(1, 1)
  const holder = await slots.acquire()
  const waiter = slots.acquire()
  expect(waiter).not.toBeNull()
  expect(slots.acquire()).toBeNull()
  holder?.()
  ;(await waiter)?.()
  expect(slots.running).toBe(0)
  expect(slots.acquire()).not.toBeNull()
})

test('aborting a wait leaves the line with the signal’s reason; an aborted signal never waits', async () => {
  const slots = createSlots(1, 2)
  const holder = await slots.acquire()
  const leaving = new AbortController()
  const abandoned = slots.acquire(leaving.signal)
  const staying = slots.acquire()
  leaving.abort('The client went away')
  await expect(abandoned).rejects.toBe('The client went away')
  expect(slots.waiting).toBe(1)
  await expect(slots.acquire(AbortSignal.abort('gone'))).rejects.toBe('gone')

  holder?.()
  ;(await staying)?.()
  expect({ running: slots.running, waiting: slots.waiting }).toEqual({ running: 0, waiting: 0 })
})
