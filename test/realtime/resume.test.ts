// Resuming a room over WebSocket: after_seq (in the connect URL or in a subscribe frame) replays exactly the
// stored messages the client missed, after the greeting and in seq order, then live ones: no gap, no duplicate,
// whatever is sent while the replay runs.
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { type RoomWithRoles, roomWithRoles, send } from '../helpers/chat.js'
import { type Frame, socketsClosedAfterEach, type TestSocket } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  // Rate limits off: rooms here are filled with hundreds of messages.
  api = await startTestApp({ env: { RATE_LIMITS: 'off' } })
})
afterAll(() => api.close())

const sockets = socketsClosedAfterEach(() => api)

interface Message {
  id: number
  seq: number
  content: string
  client_msg_id: string | null
  created_at: string
}

/** Long enough for a replay of hundreds of messages on a loaded machine; only a failure waits this long. */
const FRAME_WAIT_MS = 20_000
/** After the last expected frame: long enough for a duplicate or a stray frame to show up. */
const SETTLE_MS = 300

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const messagesPath = (roomId: number, query = '') => `${API}/chat/sessions/${roomId}/messages${query}`

/** How a socket asks for what it missed: in the connect URL, or with a subscribe frame after connecting. */
type Mode = 'connect' | 'subscribe'
const MODES: Mode[] = ['connect', 'subscribe']

interface ResumeOptions {
  /** Frames sent right behind the request, without waiting for the greeting: they reach the server during the replay. */
  thenSend?: object[]
  /** The client reads nothing for this long after asking (a phone busy drawing its screen), then reads normally. */
  busyMs?: number
}

/**
 * Opens a socket that follows the room from `afterSeq` (undefined: from now on). Resolves once the room's
 * greeting has arrived.
 */
async function resume(
  mode: Mode,
  user: TestUser,
  roomId: number,
  afterSeq: number | undefined,
  { thenSend = [], busyMs = 0 }: ResumeOptions = {},
): Promise<TestSocket> {
  let socket: TestSocket
  if (mode === 'connect') {
    socket = await sockets.open({ token: user.token, sessionId: roomId, afterSeq })
  } else {
    socket = await sockets.open({ token: user.token })
    await socket.next((f) => f.type === 'system_message' && f.session_id === null)
    socket.send({
      type: 'subscribe',
      session_id: roomId,
      ...(afterSeq === undefined ? {} : { after_seq: afterSeq }),
    })
  }
  for (const frame of thenSend) socket.send(frame)
  if (busyMs > 0) {
    const tcp = (socket.ws as unknown as { _socket: Socket })._socket
    tcp.pause()
    await new Promise((resolve) => setTimeout(resolve, busyMs))
    tcp.resume()
  }
  const greeting = await socket.nextOf('system_message', roomId, FRAME_WAIT_MS)
  expect(greeting.content).toBe(
    mode === 'connect' ? `Connected to chat session ${roomId}` : `Subscribed to chat session ${roomId}`,
  )
  return socket
}

const chatFrames = (socket: TestSocket, roomId: number) =>
  socket.frames.filter((f) => f.type === 'chat_message' && f.session_id === roomId)
const seqsOf = (socket: TestSocket, roomId: number) => chatFrames(socket, roomId).map((f) => f.seq as number)

/** Waits for the room's message `seq`, then a little more, so that a late duplicate would be seen too. */
async function receivedUpTo(socket: TestSocket, roomId: number, seq: number): Promise<void> {
  await socket.next(
    (f) => f.type === 'chat_message' && f.session_id === roomId && f.seq === seq,
    FRAME_WAIT_MS,
  )
  await socket.quietFor(SETTLE_MS)
}

/** A chat_message frame is the stored Message at top level plus `timestamp` (= created_at). */
function asStored(frame: Frame): Frame {
  const { type, timestamp, ...message } = frame
  expect(type).toBe('chat_message')
  expect(timestamp).toBe(message.created_at)
  return message
}

/** The room's whole history over HTTP, page by page, oldest first. */
async function history(roomId: number, user: TestUser): Promise<Message[]> {
  const all: Message[] = []
  for (;;) {
    const res = await api.get(
      messagesPath(roomId, `?limit=200&after_seq=${all.at(-1)?.seq ?? 0}`),
      user.token,
    )
    expect(res.status).toBe(200)
    const page = (await res.json()) as Message[]
    all.push(...page)
    if (page.length < 200) return all
  }
}

/** Stores `count` messages through several parallel HTTP senders (seqs 1..count in an empty room). */
async function fill(room: RoomWithRoles, count: number, content = (n: number) => `bulk ${n}`): Promise<void> {
  const senders = [room.owner, room.admin, room.member, room.owner, room.admin, room.member]
  let next = 1
  await Promise.all(
    senders.map(async (sender) => {
      for (let n = next++; n <= count; n = next++) await send(api, room.id, sender, content(n))
    }),
  )
}

/** The greeting comes before the first message of the room. */
function expectGreetingFirst(socket: TestSocket, roomId: number): void {
  const greeting = socket.frames.findIndex((f) => f.type === 'system_message' && f.session_id === roomId)
  const firstMessage = socket.frames.findIndex((f) => f.type === 'chat_message' && f.session_id === roomId)
  expect(greeting).toBeGreaterThanOrEqual(0)
  expect(firstMessage).toBeGreaterThan(greeting)
}

describe.each(MODES)('resume by %s', (mode) => {
  test('after_seq replays exactly the stored messages after it, in order, greeting first, then live ones', async () => {
    const room = await roomWithRoles(api, 'public')
    await fill(room, 12)
    const socket = await resume(mode, room.viewer, room.id, 5)
    await receivedUpTo(socket, room.id, 12)
    expect(seqsOf(socket, room.id)).toEqual(range(6, 12))
    // The replayed frames are the stored messages, field for field.
    const stored = await history(room.id, room.owner)
    expect(chatFrames(socket, room.id).map(asStored)).toEqual(stored.slice(5))
    expectGreetingFirst(socket, room.id)

    const live13 = await send(api, room.id, room.member, 'live 13')
    const live14 = await send(api, room.id, room.admin, 'live 14')
    await receivedUpTo(socket, room.id, 14)
    expect(seqsOf(socket, room.id)).toEqual(range(6, 14))
    expect(chatFrames(socket, room.id).slice(-2).map(asStored)).toEqual([live13, live14])
  })

  test('after_seq=0 replays the whole history (a full replay page), then live ones', async () => {
    const room = await roomWithRoles(api, 'public')
    await fill(room, 200)
    const socket = await resume(mode, room.member, room.id, 0)
    await receivedUpTo(socket, room.id, 200)
    expect(seqsOf(socket, room.id)).toEqual(range(1, 200))
    expect(chatFrames(socket, room.id).map(asStored)).toEqual(await history(room.id, room.owner))
    expectGreetingFirst(socket, room.id)

    await send(api, room.id, room.owner, 'live')
    await receivedUpTo(socket, room.id, 201)
    expect(seqsOf(socket, room.id)).toEqual(range(1, 201))
  })

  test('after_seq = the newest seq replays nothing, then live ones', async () => {
    const room = await roomWithRoles(api, 'public')
    await fill(room, 8)
    const socket = await resume(mode, room.member, room.id, 8)
    const live = await send(api, room.id, room.owner, 'live 9')
    await receivedUpTo(socket, room.id, 9)
    expect(seqsOf(socket, room.id)).toEqual([9])
    expect(asStored(chatFrames(socket, room.id)[0] ?? {})).toEqual(live)
  })

  test('without after_seq nothing is replayed, and live messages follow', async () => {
    const room = await roomWithRoles(api, 'public')
    await fill(room, 4)
    const socket = await resume(mode, room.member, room.id, undefined)
    await send(api, room.id, room.owner, 'live 5')
    await receivedUpTo(socket, room.id, 5)
    expect(seqsOf(socket, room.id)).toEqual([5])
  })

  test('a client that drops and reconnects with the last seq it saw gets exactly what it missed, then live', async () => {
    const room = await roomWithRoles(api, 'public')
    await fill(room, 3)
    const first = await resume(mode, room.member, room.id, 0)
    await send(api, room.id, room.owner, 'seen 4')
    await receivedUpTo(first, room.id, 4)
    expect(seqsOf(first, room.id)).toEqual([1, 2, 3, 4])
    const lastSeen = Math.max(...seqsOf(first, room.id))
    await first.close()

    // Missed while away: from two senders, one of them the disconnected user on another device.
    for (let n = 5; n <= 11; n++) await send(api, room.id, n % 2 ? room.owner : room.member, `missed ${n}`)
    const again = await resume(mode, room.member, room.id, lastSeen)
    await receivedUpTo(again, room.id, 11)
    expect(seqsOf(again, room.id)).toEqual(range(5, 11))
    expect(chatFrames(again, room.id).map(asStored)).toEqual((await history(room.id, room.owner)).slice(4))
    expectGreetingFirst(again, room.id)

    await send(api, room.id, room.admin, 'live 12')
    await receivedUpTo(again, room.id, 12)
    expect(seqsOf(again, room.id)).toEqual(range(5, 12))
  })

  test('a message the resuming client sends over WS during the replay is stored once and arrives once', async () => {
    const room = await roomWithRoles(api, 'public')
    await fill(room, 300)
    const ownMessage = {
      type: 'chat_message',
      session_id: room.id,
      content: 'sent while catching up',
      client_msg_id: 'catch-up-1',
    }
    const socket = await resume(mode, room.member, room.id, 0, { thenSend: [ownMessage] })
    const ack = await socket.nextOf('ack', room.id, FRAME_WAIT_MS)
    expect(ack).toMatchObject({ client_msg_id: 'catch-up-1', seq: 301, id: expect.any(Number) })
    await receivedUpTo(socket, room.id, 301)
    expect(seqsOf(socket, room.id)).toEqual(range(1, 301))
    const own = chatFrames(socket, room.id).filter((f) => f.client_msg_id === 'catch-up-1')
    expect(own.map(asStored)).toEqual([
      expect.objectContaining({
        id: ack.id,
        seq: 301,
        content: 'sent while catching up',
        user_id: room.member.id,
      }),
    ])
    expect(socket.frames.filter((f) => f.type === 'ack')).toHaveLength(1)
    const stored = await history(room.id, room.owner)
    expect(stored.filter((m) => m.client_msg_id === 'catch-up-1').map((m) => m.seq)).toEqual([301])
    expect(chatFrames(socket, room.id).map(asStored)).toEqual(stored)
  })

  test('messages stored while a long replay runs arrive once each, in order (500 stored, 50 more meanwhile)', async () => {
    const room = await roomWithRoles(api, 'public')
    await fill(room, 500)
    // Another client keeps sending over HTTP (three requests at a time) while the socket connects and catches up.
    let sentLate = 0
    let started!: () => void
    const sending = new Promise<void>((resolve) => {
      started = resolve
    })
    let next = 501
    const late = Promise.all(
      [1, 2, 3].map(async () => {
        for (let n = next++; n <= 550; n = next++) {
          await send(api, room.id, room.admin, `late ${n}`)
          if (++sentLate === 3) started()
        }
      }),
    )
    await sending
    const socket = await resume(mode, room.viewer, room.id, 0)
    await late
    await receivedUpTo(socket, room.id, 550)
    expect(seqsOf(socket, room.id)).toEqual(range(1, 550))
    expect(chatFrames(socket, room.id).map(asStored)).toEqual(await history(room.id, room.owner))
    expectGreetingFirst(socket, room.id)
  })

  // The replay is the server's own burst to one socket: it must go at the pace the client reads, not trip the
  // limit that drops readers too slow for the room's live traffic.
  test.each([
    ['reads it as it comes', 0],
    ['is busy for 300 ms before reading', 300],
  ])('a long backlog of long messages is replayed in full to a client that %s', async (_, busyMs) => {
    const room = await roomWithRoles(api, 'public')
    // 600 messages at the 10,000-character limit: about 6 MB over three replay pages, six times the
    // 1 MB a socket may hold unsent before it counts as too slow.
    const total = 600
    await fill(room, total, (n) => `${n} `.padEnd(10_000, 'x'))
    const socket = await resume(mode, room.member, room.id, 0, { busyMs })
    const outcome = await Promise.race([
      socket
        .next((f) => f.type === 'chat_message' && f.seq === total, FRAME_WAIT_MS)
        .then(
          () => 'complete',
          () => 'timed out',
        ),
      socket.closed.then(({ code }) => `closed with ${code}`),
    ])
    // Compared as a summary: printing 10 kB frames would bury the failure.
    const seqs = seqsOf(socket, room.id)
    expect({ outcome, received: seqs.length, inOrder: seqs.every((seq, i) => seq === i + 1) }).toEqual({
      outcome: 'complete',
      received: total,
      inOrder: true,
    })
  })
})

test('subscribing to a second room with after_seq replays that room only; both rooms then stay live', async () => {
  const first = await roomWithRoles(api, 'public')
  const second = await roomWithRoles(api, 'invite_only')
  const user = first.member
  const res = await api.post(
    `${API}/chat/sessions/${second.id}/invite`,
    { user_id: user.id, role: 'viewer' },
    second.owner.token,
  )
  expect(res.status).toBe(201)
  await fill(first, 5)
  await fill(second, 6)

  const socket = await resume('connect', user, first.id, 3)
  await receivedUpTo(socket, first.id, 5)
  socket.send({ type: 'subscribe', session_id: second.id, after_seq: 2 })
  await socket.nextOf('system_message', second.id, FRAME_WAIT_MS)
  await receivedUpTo(socket, second.id, 6)
  expect(seqsOf(socket, first.id)).toEqual([4, 5])
  expect(seqsOf(socket, second.id)).toEqual([3, 4, 5, 6])
  expectGreetingFirst(socket, second.id)

  await send(api, second.id, second.owner, 'second 7')
  await send(api, first.id, first.owner, 'first 6')
  await receivedUpTo(socket, first.id, 6)
  await receivedUpTo(socket, second.id, 7)
  expect(seqsOf(socket, first.id)).toEqual([4, 5, 6])
  expect(seqsOf(socket, second.id)).toEqual([3, 4, 5, 6, 7])
})

test('an after_seq beyond the newest message does not hide the messages that come next', async () => {
  const room = await roomWithRoles(api, 'public')
  await send(api, room.id, room.owner, 'one')
  await send(api, room.id, room.owner, 'two')
  const socket = await sockets.online(room.member, room.id, { afterSeq: 1000 })
  await send(api, room.id, room.owner, 'three')
  const next = await socket.next((f) => f.type === 'chat_message' && f.session_id === room.id, FRAME_WAIT_MS)
  expect(next.seq).toBe(3)
  expect(seqsOf(socket, room.id)).toEqual([3])
})
