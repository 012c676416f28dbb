// A socket's replay (src/realtime/replay.ts) without a database or a network: what is held behind it,
// when the socket is dropped, and what is sent after it.
import { expect, test } from 'vitest'
import type { Connection, Subscription } from '../../src/realtime/connections.js'
import { createReplays } from '../../src/realtime/replay.js'

const MAX_BYTES = 1024 * 1024

function fakeConnection() {
  const sent: string[] = []
  let terminated = false
  const subscription: Subscription = {
    sessionId: 7,
    role: 'member',
    lastSeq: 0,
    waiting: [],
    waitingBytes: 0,
    waitingPresence: undefined,
  }
  const socket = {
    OPEN: 1,
    get readyState() {
      return terminated ? 3 : 1
    },
    terminate: () => {
      terminated = true
    },
  }
  const connection = {
    userId: 1,
    username: 'u',
    socket,
    rooms: [subscription],
    alive: true,
    defaultSessionId: 7,
  } as unknown as Connection
  return { connection, subscription, sent, terminated: () => terminated }
}

function replaysFor(sent: string[]) {
  return createReplays({
    loadMessagesAfter: async () => [],
    writePaced: async (_connection, data) => {
      sent.push(data.toString())
      return true
    },
    log: { warn: () => {} },
    maxBufferedBytes: MAX_BYTES,
    repliesInProgress: async () => [],
  })
}

const presence = (userId: number, status: string) =>
  Buffer.from(JSON.stringify({ type: 'presence', user_id: userId, status }))

test('a storm of presence behind a replay keeps the latest per user and does not drop the socket', async () => {
  const { connection, subscription, sent, terminated } = fakeConnection()
  const replays = replaysFor(sent)
  // 3,000 users come online, and the first 100 of them go offline again, while the replay runs.
  for (let user = 1; user <= 3000; user++)
    replays.hold(connection, subscription, { data: presence(user, 'online'), presenceOf: user })
  for (let user = 1; user <= 100; user++)
    replays.hold(connection, subscription, { data: presence(user, 'offline'), presenceOf: user })
  replays.hold(connection, subscription, { data: Buffer.from('{"type":"typing"}') })
  expect(terminated()).toBe(false)

  await replays.replay(connection, 7, 0, 0)
  expect(sent[0]).toBe('{"type":"typing"}')
  const states = sent.slice(1).map((frame) => JSON.parse(frame) as { user_id: number; status: string })
  expect(states).toHaveLength(3000)
  expect(new Set(states.map((s) => s.user_id)).size).toBe(3000)
  expect(states.filter((s) => s.status === 'offline').map((s) => s.user_id)).toEqual(
    Array.from({ length: 100 }, (_, i) => i + 1),
  )
  expect([subscription.waiting, subscription.waitingBytes, subscription.waitingPresence]).toEqual([
    null,
    0,
    undefined,
  ])
})

test('other frames are still bounded: the 1,025th held frame drops the socket', () => {
  const { connection, subscription, sent, terminated } = fakeConnection()
  const replays = replaysFor(sent)
  for (let i = 0; i < 1024; i++)
    replays.hold(connection, subscription, { data: Buffer.from('{"type":"typing"}') })
  expect(terminated()).toBe(false)
  replays.hold(connection, subscription, { data: Buffer.from('{"type":"typing"}') })
  expect(terminated()).toBe(true)
  expect([subscription.waiting, subscription.waitingBytes]).toEqual([[], 0])
})

test('presence counts toward the byte bound', () => {
  const { connection, subscription, sent, terminated } = fakeConnection()
  const replays = replaysFor(sent)
  const big = Buffer.alloc(MAX_BYTES / 4, 'x')
  for (let user = 1; user <= 4; user++)
    replays.hold(connection, subscription, { data: big, presenceOf: user })
  expect(terminated()).toBe(false)
  replays.hold(connection, subscription, { data: Buffer.from('x'), presenceOf: 5 })
  expect(terminated()).toBe(true)
})
