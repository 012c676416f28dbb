// A real `ws` client for tests: collects every frame, waits for the ones a test expects, closes after each test.
import { afterEach } from 'vitest'
import WebSocket from 'ws'
import type { TestApi, TestUser } from './app.js'

// biome-ignore lint/suspicious/noExplicitAny: frames are arbitrary JSON; tests assert on them with expect().
export type Frame = Record<string, any>

export interface TestSocket {
  ws: WebSocket
  /** Every frame received so far, in order. */
  frames: Frame[]
  send(frame: object | string): void
  /** Resolves with the first frame (received so far or later) that matches; rejects after `timeoutMs`. */
  next(match: (frame: Frame) => boolean, timeoutMs?: number): Promise<Frame>
  /** Like next, by type (and session_id when given). */
  nextOf(type: string, sessionId?: number, timeoutMs?: number): Promise<Frame>
  /** Waits `ms` and returns the frames that arrived meanwhile (to prove that something did not come). */
  quietFor(ms: number): Promise<Frame[]>
  closed: Promise<{ code: number; reason: string }>
  close(): Promise<void>
}

export interface ConnectOptions {
  token?: string
  ticket?: string
  sessionId?: number
  afterSeq?: number
  headers?: Record<string, string>
  /** Raw query string instead of the above. */
  query?: string
}

/** Opens /ws; resolves once the connection is open (the server may still close it right after). */
export async function connect(api: Pick<TestApi, 'url'>, options: ConnectOptions): Promise<TestSocket> {
  const params = new URLSearchParams()
  if (options.token) params.set('token', options.token)
  if (options.ticket) params.set('ticket', options.ticket)
  if (options.sessionId !== undefined) params.set('session_id', String(options.sessionId))
  if (options.afterSeq !== undefined) params.set('after_seq', String(options.afterSeq))
  const query = options.query ?? params.toString()
  const ws = new WebSocket(`${api.url.replace('http', 'ws')}/ws?${query}`, { headers: options.headers })
  const frames: Frame[] = []
  const waiters = new Set<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }>()
  // Each frame satisfies one `next` only; frames are matched in arrival order, whatever their type.
  const used = new Set<Frame>()
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Frame
    frames.push(frame)
    for (const waiter of waiters) {
      if (waiter.match(frame)) {
        waiters.delete(waiter)
        used.add(frame)
        waiter.resolve(frame)
        break
      }
    }
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })

  const socket: TestSocket = {
    ws,
    frames,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next(match, timeoutMs = 5000) {
      const earlier = frames.find((frame) => !used.has(frame) && match(frame))
      if (earlier) {
        used.add(earlier)
        return Promise.resolve(earlier)
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(
            new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames.slice(-5))}`),
          )
        }, timeoutMs)
        const waiter = {
          match,
          resolve: (frame: Frame) => {
            clearTimeout(timer)
            resolve(frame)
          },
        }
        waiters.add(waiter)
      })
    },
    nextOf(type, sessionId, timeoutMs) {
      return socket.next(
        (f) => f.type === type && (sessionId === undefined || f.session_id === sessionId),
        timeoutMs,
      )
    },
    async quietFor(ms) {
      const start = frames.length
      await new Promise((resolve) => setTimeout(resolve, ms))
      return frames.slice(start)
    },
    closed,
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return
      ws.close()
      await closed
    },
  }
  return socket
}

/** Anything a socket can reach: the file's app, a second instance, a server in another process. */
type Reachable = Pick<TestApi, 'url'>

export interface OnlineOptions {
  afterSeq?: number
  /** How long to wait for the greeting (`next`'s default when not given). */
  timeoutMs?: number
  /** Another app than the one given to socketsClosedAfterEach. */
  api?: Reachable
}

/** Opens the sockets of a test file; each one is closed after the test that opened it. */
export interface TestSockets {
  /** Connects with `options`; resolves once open, without waiting for a greeting. */
  open(options: ConnectOptions, api?: Reachable): Promise<TestSocket>
  /** Connects `user` (to the room when given) and waits for its greeting: from then on the socket is subscribed. */
  online(user: Pick<TestUser, 'token'>, roomId?: number, options?: OnlineOptions): Promise<TestSocket>
}

/** Registers an afterEach that closes the test's sockets; `getApi` is read per socket, so beforeAll may set it. */
export function socketsClosedAfterEach(getApi?: () => Reachable): TestSockets {
  const opened: TestSocket[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((socket) => socket.close()))
  })
  const open = async (options: ConnectOptions, api = getApi?.()) => {
    if (!api) throw new Error('no app to connect to: pass one, or give socketsClosedAfterEach a default')
    const socket = await connect(api, options)
    opened.push(socket)
    return socket
  }
  return {
    open,
    async online(user, roomId, { afterSeq, timeoutMs, api } = {}) {
      const socket = await open({ token: user.token, sessionId: roomId, afterSeq }, api)
      await socket.nextOf('system_message', roomId, timeoutMs)
      return socket
    },
  }
}
