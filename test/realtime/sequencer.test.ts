// The ordering rules of one room's frames, without sockets: in order, out of order, duplicates, a gap
// filled from the database, and a reset.
import { expect, test } from 'vitest'
import { createSequencer } from '../../src/realtime/sequencer.js'

const seqs = (ready: { seq: number }[]) => ready.map((r) => r.seq)

test('frames in order are delivered at once, each with its item', () => {
  const sequencer = createSequencer<string>()
  sequencer.start(1)
  expect(sequencer.accept(1, 'a')).toEqual([{ seq: 1, item: 'a' }])
  expect(sequencer.accept(2, 'b')).toEqual([{ seq: 2, item: 'b' }])
  expect(sequencer.next).toBe(3)
  expect(sequencer.missing()).toBeNull()
})

test('without start, the first frame sets where delivery begins', () => {
  const sequencer = createSequencer<string>()
  expect(sequencer.next).toBeNull()
  expect(seqs(sequencer.accept(7, 'g'))).toEqual([7])
  expect(sequencer.next).toBe(8)
})

test('start after delivery began changes nothing', () => {
  const sequencer = createSequencer<string>()
  sequencer.start(5)
  sequencer.start(1)
  expect(sequencer.next).toBe(5)
  expect(sequencer.accept(1, 'old')).toEqual([])
})

test('a frame ahead of a gap is held, and the gap is named, until the missing ones arrive', () => {
  const sequencer = createSequencer<string>()
  sequencer.start(1)
  expect(sequencer.accept(3, 'c')).toEqual([])
  expect(sequencer.accept(5, 'e')).toEqual([])
  expect(sequencer.missing()).toEqual({ from: 1, to: 2 })
  expect(seqs(sequencer.accept(1, 'a'))).toEqual([1])
  expect(sequencer.missing()).toEqual({ from: 2, to: 2 })
  // The missing one releases everything contiguous behind it, in order.
  expect(sequencer.accept(2, 'b')).toEqual([
    { seq: 2, item: 'b' },
    { seq: 3, item: 'c' },
  ])
  expect(sequencer.missing()).toEqual({ from: 4, to: 4 })
  expect(seqs(sequencer.accept(4, 'd'))).toEqual([4, 5])
  expect(sequencer.missing()).toBeNull()
  expect(sequencer.next).toBe(6)
})

test('duplicates are dropped: one already delivered, and one already held', () => {
  const sequencer = createSequencer<string>()
  sequencer.start(1)
  sequencer.accept(1, 'a')
  expect(sequencer.accept(1, 'a again')).toEqual([])
  expect(sequencer.accept(3, 'c')).toEqual([])
  expect(sequencer.accept(3, 'c again')).toEqual([])
  expect(sequencer.accept(2, 'b')).toEqual([
    { seq: 2, item: 'b' },
    { seq: 3, item: 'c' },
  ])
})

test('a gap filled from the database: the read pages arrive like bus frames, the bus copies later are dropped', () => {
  const sequencer = createSequencer<string>()
  sequencer.start(10)
  // The bus lost 10-12 (a Redis outage); 13 arrives.
  sequencer.accept(13, 'bus 13')
  const gap = sequencer.missing()
  expect(gap).toEqual({ from: 10, to: 12 })
  // The hub reads seq 10..12 from the database and feeds them in.
  const delivered: number[] = []
  for (let seq = gap?.from ?? 0; seq <= (gap?.to ?? -1); seq++) {
    delivered.push(...seqs(sequencer.accept(seq, `db ${seq}`)))
  }
  expect(delivered).toEqual([10, 11, 12, 13])
  // The bus's copies that finally arrive are duplicates.
  expect(sequencer.accept(11, 'bus 11')).toEqual([])
  expect(sequencer.missing()).toBeNull()
})

test('reset forgets what was held and where delivery stood', () => {
  const sequencer = createSequencer<string>()
  sequencer.start(1)
  sequencer.accept(1, 'a')
  sequencer.accept(4, 'd')
  sequencer.reset()
  expect(sequencer.next).toBeNull()
  expect(sequencer.missing()).toBeNull()
  sequencer.start(20)
  expect(seqs(sequencer.accept(20, 't'))).toEqual([20])
  // The frame held before the reset is gone with it.
  expect(sequencer.accept(5, 'e')).toEqual([])
})
