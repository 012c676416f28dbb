// The fan-out load generator: raw `ws` client sockets that only count and timestamp. Frames are never
// parsed as JSON: the send time (µs, performance.now() of this process) travels in the message text as
// `@@<run>:<µs>@@` and is found by a Buffer search. Sends are open-loop at a fixed rate and carry their
// scheduled time, so a stalled server shows as latency instead of as a slower sender.
import { build, type Histogram } from 'hdr-histogram-js'
import WebSocket from 'ws'
import { LOAD_BOTTLENECK_CPU, withCpu } from '../children.js'
import { type Figures, round } from '../report.js'

/** How a client speaks to the server: Insurge's frames, a bare echo-to-all server, or Socket.IO 4. */
export type Protocol = 'insurge' | 'ws' | 'socketio'

const MARK = Buffer.from('@@')
const COLON = 0x3a
const AT = 0x40
const SOCKETIO_PING = 0x32 // engine.io "2"; the answer is "3"

interface WindowState {
  run: number
  delivered: number
  lastDeliveryAt: number
  histogram: Histogram
}

export interface Receivers {
  sockets: WebSocket[]
  /** Sockets that closed after connecting (a server that drops slow readers shows here). */
  closed(): number
  /** Resolves once no frame at all has arrived for `quietMs` (connect-time presence storms are over). */
  settle(quietMs: number, maxMs: number): Promise<void>
  state: WindowState
  close(): void
}

function newHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  })
}

/** Reads `<run>:<µs>` after the mark into `out`; false when the frame has no mark. */
function readStamp(data: Buffer, out: { run: number; us: number }): boolean {
  const at = data.indexOf(MARK)
  if (at < 0) return false
  let i = at + 2
  let run = 0
  for (let c = data[i]; c !== undefined && c !== COLON; c = data[++i]) run = run * 10 + (c - 48)
  let us = 0
  for (let c = data[++i]; c !== undefined && c !== AT; c = data[++i]) us = us * 10 + (c - 48)
  out.run = run
  out.us = us
  return true
}

/** Opens one socket and resolves once the server has greeted it (Insurge, bare ws) or connected it (Socket.IO). */
function openSocket(url: string, protocol: Protocol, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    const timer = setTimeout(() => {
      socket.terminate()
      reject(new Error(`no greeting within ${timeoutMs} ms from ${url.split('?')[0]}`))
    }, timeoutMs)
    const onFirst = (data: Buffer) => {
      if (protocol === 'socketio' && data[0] === 0x30) {
        socket.send('40') // engine.io open -> join the default namespace
        return
      }
      clearTimeout(timer)
      socket.off('message', onFirst)
      resolve(socket)
    }
    socket.on('message', onFirst)
    socket.once('close', (code, reason) => {
      clearTimeout(timer)
      reject(new Error(`closed before the greeting: ${code} ${reason}`))
    })
    socket.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/** Connects `urls.length` receivers, `parallel` at a time. */
export async function connectReceivers(
  urls: string[],
  protocol: Protocol,
  parallel = 50,
  timeoutMs = 60_000,
): Promise<Receivers> {
  const state: WindowState = { run: -1, delivered: 0, lastDeliveryAt: 0, histogram: newHistogram() }
  const stamp = { run: 0, us: 0 }
  let lastFrameAt = performance.now()
  let closed = 0
  const onMessage = function (this: WebSocket, data: Buffer) {
    lastFrameAt = performance.now()
    if (protocol === 'socketio' && data.length === 1 && data[0] === SOCKETIO_PING) {
      this.send('3')
      return
    }
    if (!readStamp(data, stamp) || stamp.run !== state.run) return
    const now = performance.now()
    state.delivered += 1
    state.lastDeliveryAt = now
    state.histogram.recordValue(Math.max(1, Math.round(now * 1000) - stamp.us))
  }
  const sockets: WebSocket[] = []
  for (let i = 0; i < urls.length; i += parallel) {
    const batch = await Promise.all(
      urls.slice(i, i + parallel).map((url) => openSocket(url, protocol, timeoutMs)),
    )
    for (const socket of batch) {
      socket.on('message', onMessage)
      socket.on('error', () => {})
      socket.once('close', () => {
        closed += 1
      })
      sockets.push(socket)
    }
  }
  return {
    sockets,
    state,
    closed: () => closed,
    async settle(quietMs, maxMs) {
      const start = performance.now()
      while (performance.now() - lastFrameAt < quietMs && performance.now() - start < maxMs) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    close() {
      for (const socket of sockets) {
        socket.removeAllListeners('close')
        socket.terminate()
      }
    },
  }
}

/** A message frame shaped like Insurge's `chat_message`, so every server fans out the same bytes. */
function messageLike(content: string): Record<string, unknown> {
  const now = new Date().toISOString()
  return {
    type: 'chat_message',
    id: 1_000_001,
    session_id: 1,
    seq: 1_000_001,
    user_id: 1,
    username: 'sender_1',
    role: 'user',
    content,
    client_msg_id: null,
    reply_to: null,
    created_at: now,
    edited_at: null,
    deleted_at: null,
    reactions: [],
    timestamp: now,
  }
}

export interface Sender {
  send(run: number, us: number): void
  close(): void
}

const TEXT = ' hello everyone, this is the benchmark talking'

export async function connectSender(url: string, protocol: Protocol, sessionId: number): Promise<Sender> {
  const socket = await openSocket(url, protocol, 30_000)
  // The sender sees its own messages too (every server sends to the whole room); they are not counted.
  socket.on('message', (data: Buffer) => {
    if (protocol === 'socketio' && data.length === 1 && data[0] === SOCKETIO_PING) socket.send('3')
  })
  const frame = (content: string): string => {
    if (protocol === 'insurge')
      return JSON.stringify({ type: 'chat_message', session_id: sessionId, content })
    if (protocol === 'ws') return JSON.stringify(messageLike(content))
    return `42${JSON.stringify(['chat_message', messageLike(content)])}`
  }
  return {
    send: (run, us) => socket.send(frame(`@@${run}:${us}@@${TEXT}`)),
    close: () => socket.terminate(),
  }
}

export interface FanoutWindow {
  rate: number
  durationS: number
  run: number
  /** Sockets each message reaches (default: every receiver, one room). */
  perMessage?: number
}

/**
 * Sends `rate` messages per second for `durationS`, then waits for the stragglers (until every expected
 * delivery is in, or none has come for 2 s). Deliveries/s counts from the first send to the last delivery.
 */
export async function runFanoutWindow(
  receivers: Receivers,
  sender: Sender,
  window: FanoutWindow,
  serverPids: number[],
): Promise<Figures> {
  const { state } = receivers
  state.run = window.run
  state.delivered = 0
  state.lastDeliveryAt = 0
  state.histogram = newHistogram()
  const total = Math.round(window.rate * window.durationS)
  const interval = 1000 / window.rate
  const open = receivers.sockets.length - receivers.closed()
  const expected = total * (window.perMessage ?? open)
  const closedBefore = receivers.closed()
  let t0 = 0
  const { serverCpu, loadCpu, wallS } = await withCpu(serverPids, async () => {
    t0 = performance.now()
    let k = 0
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now()
        for (; k < total && t0 + k * interval <= now; k++) {
          sender.send(window.run, Math.round((t0 + k * interval) * 1000))
        }
        if (k >= total) resolve()
        else setTimeout(tick, Math.max(0, t0 + k * interval - performance.now()))
      }
      tick()
    })
    let seen = -1
    let lastProgress = performance.now()
    while (state.delivered < expected && performance.now() - lastProgress < 2000) {
      if (state.delivered !== seen) {
        seen = state.delivered
        lastProgress = performance.now()
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })
  const spanS = state.lastDeliveryAt > t0 ? (state.lastDeliveryAt - t0) / 1000 : wallS
  const h = state.histogram
  return {
    sends_per_s: window.rate,
    deliveries_per_s: round(state.delivered / spanS),
    offered_deliveries_per_s: window.rate * (window.perMessage ?? open),
    delivered_share: round(expected === 0 ? 0 : state.delivered / expected, 4),
    p50_ms: round(h.getValueAtPercentile(50) / 1000),
    p99_ms: round(h.getValueAtPercentile(99) / 1000),
    max_ms: round(h.maxValue / 1000),
    sockets_dropped: receivers.closed() - closedBefore,
    server_cpu: round(serverCpu),
    // CPU time per delivery compares servers that neither the rate nor one load core can saturate.
    server_us_per_delivery: round(state.delivered === 0 ? 0 : (serverCpu * wallS * 1e6) / state.delivered),
    load_cpu: round(loadCpu),
    load_bottleneck: loadCpu >= LOAD_BOTTLENECK_CPU,
  }
}
