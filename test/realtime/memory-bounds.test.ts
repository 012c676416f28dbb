// What a client that floods the server can make it hold (DESIGN.md section 9: every buffer has a bound).
// The flooding clients are bare TCP sockets speaking WebSocket, so that the test decides exactly what is
// sent and whether anything is read; what the server holds is read from /metrics, as an operator would.
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createConnection, type Socket } from 'node:net'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { INBOUND_LIMITS } from '../../src/realtime/inbound.js'
import { startTestApp, type TestApi } from '../helpers/app.js'
import { type RoomWithRoles, roomWithRoles, send } from '../helpers/chat.js'
import { metric } from '../helpers/metrics.js'
import { connect } from '../helpers/ws.js'

/** Bytes of frames read from clients and not yet handled, over the instance's sockets. */
const HELD = 'insurge_ws_buffered_frame_bytes'
/** The most one socket has held at once. */
const PEAK = 'insurge_ws_buffered_frame_bytes_peak'
/** Only failures wait this long. */
const WAIT_MS = 20_000
/** Of 60 KB each, 300 MB: far more than loopback's socket buffers take in. */
const FLOOD_FRAMES = 5000

let api: TestApi
beforeAll(async () => {
  // A small send buffer, so that a replay to a client that does not read stalls early. Rate limits off:
  // the room's history is hundreds of sends.
  api = await startTestApp({ env: { RATE_LIMITS: 'off' }, realtimeLimits: { maxBufferedBytes: 64 * 1024 } })
})
afterAll(() => api.close())

const rawSockets: Socket[] = []
afterEach(() => {
  for (const socket of rawSockets.splice(0)) socket.destroy()
})

/** A WebSocket client on a bare TCP socket: it sends exactly the bytes the test writes and reads nothing. */
async function rawClient(query: string): Promise<Socket> {
  const { port } = new URL(api.url)
  const socket = createConnection({ host: '127.0.0.1', port: Number(port) })
  rawSockets.push(socket)
  // A socket the server drops fails on the client's next write; that is expected here.
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(
    [
      `GET /ws?${query} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  )
  const head = await new Promise<string>((resolve) =>
    socket.once('data', (chunk: Buffer) => {
      socket.pause()
      resolve(chunk.toString('latin1'))
    }),
  )
  expect(head).toMatch(/^HTTP\/1\.1 101 /)
  return socket
}

/** One text frame as a client must send it: masked (with a zero mask, so the payload goes as it is). */
function textFrame(payload: string): Buffer {
  const body = Buffer.from(payload)
  if (body.length > 0xffff) throw new Error('textFrame writes payloads up to 64 KiB')
  const length = body.length < 126 ? [0x80 | body.length] : [0x80 | 126, body.length >> 8, body.length & 0xff]
  return Buffer.concat([Buffer.from([0x81, ...length, 0, 0, 0, 0]), body])
}

/**
 * Writes `frame` `count` times, each write once the previous one was handed to the kernel, as a client
 * sending as fast as the connection takes it. `accepted()` is how many bytes the kernel has taken so
 * far: what the server read plus what the socket buffers between them hold (a few MB).
 */
function flood(socket: Socket, frame: Buffer, count: number): { accepted(): number } {
  let written = 0
  let accepted = 0
  const next = (): void => {
    while (written < count && !socket.destroyed) {
      written += 1
      const more = socket.write(frame, (error) => {
        if (!error) accepted += frame.length
      })
      if (!more) {
        socket.once('drain', next)
        return
      }
    }
  }
  next()
  return { accepted: () => accepted }
}

/** Resolves once `condition` holds; fails the test when it still does not after WAIT_MS. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${WAIT_MS} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Samples what the server holds while the flood goes on: every sample, and the per-socket peak (which
 * catches what falls between samples), stay within the hard bound.
 */
async function expectHeldWithinBound(): Promise<void> {
  for (let sample = 0; sample < 20; sample++) {
    expect(await metric(api, HELD)).toBeLessThanOrEqual(INBOUND_LIMITS.maxBytes)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  expect(await metric(api, PEAK)).toBeLessThanOrEqual(INBOUND_LIMITS.maxBytes)
}

/** Stores `count` messages of 10,000 three-byte characters (30 KB frames), 50 requests at a time. */
async function storeBacklog(room: RoomWithRoles, count: number): Promise<void> {
  const content = '€'.repeat(10_000)
  for (let i = 0; i < count; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, () => send(api, room.id, room.member, content)),
    )
  }
}

/** One room with a long history, for both tests (storing it takes seconds). */
let room: RoomWithRoles
/** About 12 MB: more than loopback's socket buffers take in, so a replay stalls while its client does not read. */
const BACKLOG = 400
beforeAll(async () => {
  room = await roomWithRoles(api, 'public')
  await storeBacklog(room, BACKLOG)
}, 60_000)

// Asked for on connect, the replay runs while the socket is being set up; asked for with a subscribe
// frame, it runs as the handling of that frame: either way the flood behind it cannot be handled.
test.each([
  ['on connect', 'viewer'],
  ['with a subscribe frame', 'admin'],
] as const)(
  'a client that asks for the whole history %s, does not read it and floods: the server holds a bounded part of the flood, stops reading it, serves the others, and drops it once the room outruns its replay',
  async (how, role) => {
    const flooding = room[role]
    const watcher = await connect(api, { token: room.owner.token, sessionId: room.id })
    await watcher.nextOf('system_message', room.id)

    const flooder =
      how === 'on connect'
        ? await rawClient(`token=${flooding.token}&session_id=${room.id}&after_seq=0`)
        : await rawClient(`token=${flooding.token}`)
    if (how !== 'on connect') {
      flooder.write(textFrame(JSON.stringify({ type: 'subscribe', session_id: room.id, after_seq: 0 })))
    }
    const frame = textFrame('x'.repeat(60_000))
    const sending = flood(flooder, frame, FLOOD_FRAMES)

    // The server reads until it holds the pause bound, then stops reading: nothing is handled while the
    // replay waits for the client, and nothing more is read either.
    await until(
      async () => (await metric(api, HELD)) >= INBOUND_LIMITS.pauseBytes,
      'the server holds the pause bound',
    )
    await expectHeldWithinBound()
    // The rest of the flood waits on the client's side: TCP pushed back, the server did not buffer it.
    const taken = sending.accepted()
    expect(taken).toBeLessThan((FLOOD_FRAMES * frame.length) / 10)
    expect(flooder.destroyed).toBe(false)

    // Everyone else is served meanwhile…
    watcher.send({ type: 'ping' })
    expect(await watcher.nextOf('pong')).toMatchObject({ content: 'pong' })
    watcher.send({ type: 'chat_message', session_id: room.id, content: 'still here', client_msg_id: how })
    const ack = await watcher.next((f) => f.type === 'ack' && f.client_msg_id === how)
    expect(await watcher.next((f) => f.type === 'chat_message' && f.seq === ack.seq)).toMatchObject({
      content: 'still here',
    })
    // …while nothing more is taken from the flooding client.
    expect(sending.accepted()).toBe(taken)

    // Live messages wait behind the stalled replay; past that bound (maxBufferedBytes, 64 KiB here) the
    // socket is dropped as too slow for the room (it may resume with after_seq), and what it held is let go.
    for (let i = 0; i < 8; i++) await send(api, room.id, room.member, 'y'.repeat(10_000))
    await watcher.next(
      (f) => f.type === 'presence' && f.user_id === flooding.id && f.status === 'offline',
      WAIT_MS,
    )
    await until(async () => (await metric(api, HELD)) === 0, 'the dropped socket’s frames are let go')
    await watcher.close()
  },
  60_000,
)
