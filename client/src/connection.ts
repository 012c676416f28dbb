// The client's one WebSocket: authenticated with a single-use ticket (the token never goes in a URL),
// reconnected with exponential backoff and full jitter, watched with pings, and shared by every room.
import { Emitter } from './emitter.js'
import type { ClientFrame, ServerFrame } from './frames.js'
import { fullJitter, later } from './timers.js'
import type { Transport } from './transport.js'

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed'

/** A handler type checked both ways, so that the browser's and ws's event types both fit. */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack']

/** What the SDK needs of a WebSocket: the browser's, or `ws`'s in Node 20. */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: Handler<never> | null
  onmessage: Handler<{ data: unknown }> | null
  onclose: Handler<{ code: number; reason: string }> | null
  onerror: Handler<never> | null
}
export type WebSocketConstructor = new (url: string) => WebSocketLike

export interface ReconnectOptions {
  /** First backoff ceiling in ms (default 500); it doubles per failed attempt. */
  baseMs?: number
  /** Largest backoff ceiling in ms (default 10,000). */
  maxMs?: number
  /** A ping is sent after this long without a frame (default 25,000); twice that in silence drops the socket. */
  heartbeatMs?: number
}

/** A followed room, as the connection sees it. */
export interface RoomLink {
  readonly id: number
  /** The socket is (again) authenticated: subscribe and resend what waits. */
  opened(): void
  frame(frame: ServerFrame): void
}

interface ConnectionEvents extends Record<string, unknown> {
  state: ConnectionState
  /** A frame about no room (an `error` for a frame without `session_id`). */
  error: { code: string; detail: string }
  /** The server closed the socket for authentication (1008): the login is being checked. */
  refused: { code: number; reason: string }
  /** This person was added to a room this client does not follow (invited, or joined elsewhere). */
  joined: { sessionId: number; role: string }
}

const OPEN = 1

/** The page's window in a browser, which says when the device loses and regains its network. */
const page = globalThis as {
  addEventListener?: (type: 'online' | 'offline', listener: () => void) => void
  removeEventListener?: (type: 'online' | 'offline', listener: () => void) => void
}

export class Connection {
  state: ConnectionState = 'closed'
  private socket: WebSocketLike | null = null
  private attempt = 0
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined
  private lastFrameAt = 0
  private authenticated = false
  private stopped = false
  /** Between asking for a ticket and the socket's first event. */
  private opening = false
  /** Keep the socket open with no room followed (`client.connect()`). */
  private wanted = false
  private readonly rooms = new Map<number, RoomLink>()
  private readonly events = new Emitter<ConnectionEvents>()
  private readonly baseMs: number
  private readonly maxMs: number
  private readonly heartbeatMs: number

  constructor(
    private readonly transport: Transport,
    private readonly WebSocketImpl: WebSocketConstructor | undefined,
    options: ReconnectOptions = {},
  ) {
    this.baseMs = options.baseMs ?? 500
    this.maxMs = options.maxMs ?? 10_000
    this.heartbeatMs = options.heartbeatMs ?? 25_000
    page.addEventListener?.('offline', this.wentOffline)
    page.addEventListener?.('online', this.cameOnline)
  }

  /**
   * The browser lost its network: the socket would stay silently open until the pings give up (up to
   * 2 x heartbeatMs), so it is dropped now and the rooms show that they are reconnecting.
   */
  private readonly wentOffline = (): void => {
    if (this.stopped) return
    const socket = this.socket
    if (socket) {
      socket.close(4000, 'Offline')
      this.dropped(1006, 'Offline')
    } else if (this.opening || this.retryTimer) this.setState('reconnecting')
  }

  /** The network is back: a reconnect waiting out its backoff starts now, from the first attempt. */
  private readonly cameOnline = (): void => {
    if (this.stopped || this.socket || this.opening || !this.retryTimer) return
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.attempt = 0
    void this.open()
  }

  on<K extends keyof ConnectionEvents>(event: K, listener: (value: ConnectionEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  /** True once the greeting arrived on the current socket: frames sent now are handled. */
  get isOpen(): boolean {
    return this.authenticated && this.socket?.readyState === OPEN
  }

  follow(room: RoomLink): void {
    this.rooms.set(room.id, room)
    if (this.isOpen) room.opened()
    else this.start()
  }

  unfollow(room: RoomLink): void {
    if (this.rooms.get(room.id) !== room) return
    this.rooms.delete(room.id)
    this.send({ type: 'unsubscribe', session_id: room.id })
  }

  /** Sends a frame if the socket is open; false otherwise (the caller keeps it for the next open). */
  send(frame: ClientFrame): boolean {
    if (!this.isOpen || !this.socket) return false
    this.socket.send(JSON.stringify(frame))
    return true
  }

  /** Opens the socket unless it is open or opening. */
  start(): void {
    if (this.stopped || this.socket || this.retryTimer || this.opening) return
    this.implementation() // no WebSocket at all is the caller's mistake: say so now, not in a retry loop
    void this.open()
  }

  private implementation(): WebSocketConstructor {
    const Impl = this.WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (!Impl)
      throw new Error('No WebSocket implementation: pass createClient({ WebSocket }) (in Node 20, ws’s)')
    return Impl
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    this.events.emit('state', state)
  }

  private async open(): Promise<void> {
    this.setState(this.attempt === 0 && this.state !== 'reconnecting' ? 'connecting' : 'reconnecting')
    this.opening = true
    let ticket: string
    try {
      ticket = (
        await this.transport.request<{ ticket: string }>({
          method: 'POST',
          path: '/api/v1/auth/ws-ticket',
          auth: true,
        })
      ).ticket
    } catch (error) {
      this.opening = false
      const status = (error as { status?: number }).status
      // No login any more: nothing to reconnect with until someone logs in again.
      if (status === 401) return this.stop()
      return this.retry()
    }
    this.opening = false
    if (this.stopped) return
    const url = `${this.transport.baseUrl.replace(/^http/, 'ws')}/ws?ticket=${encodeURIComponent(ticket)}`
    const socket = new (this.implementation())(url)
    this.socket = socket
    socket.onmessage = (event) => {
      if (this.socket !== socket) return
      this.lastFrameAt = Date.now()
      let frame: ServerFrame
      try {
        frame = JSON.parse(typeof event.data === 'string' ? event.data : String(event.data)) as ServerFrame
      } catch {
        return
      }
      this.dispatch(frame)
    }
    socket.onclose = (event) => {
      if (this.socket === socket) this.dropped(event.code, event.reason)
    }
    socket.onerror = () => {}
    // A server that takes the connection but never greets it is as good as down.
    clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = later(2 * this.heartbeatMs, () => {
      if (this.socket !== socket || this.authenticated) return
      socket.close(4000, 'No greeting')
      this.dropped(1006, 'No greeting')
    })
  }

  private dispatch(frame: ServerFrame): void {
    if (frame.type === 'system_message' && frame.session_id === null) {
      // The greeting: authenticated. Every room subscribes from where it is and resends what waits.
      this.authenticated = true
      this.attempt = 0
      this.setState('open')
      this.heartbeat()
      for (const room of this.rooms.values()) room.opened()
      return
    }
    if (frame.type === 'pong') return
    const roomId = 'session_id' in frame ? frame.session_id : undefined
    if (typeof roomId === 'number') {
      const room = this.rooms.get(roomId)
      if (room) room.frame(frame)
      else if (frame.type === 'participant_joined' && frame.user_id === this.transport.userId) {
        this.events.emit('joined', { sessionId: roomId, role: frame.role })
      }
      return
    }
    if (frame.type === 'error') this.events.emit('error', { code: frame.code, detail: frame.detail })
  }

  private heartbeat(): void {
    clearTimeout(this.heartbeatTimer)
    this.heartbeatTimer = later(this.heartbeatMs, () => {
      if (!this.isOpen) return
      if (Date.now() - this.lastFrameAt >= 2 * this.heartbeatMs) {
        // Silent for two periods: the network is gone without a close (a laptop lid, a dead NAT entry).
        this.socket?.close(4000, 'No answer to pings')
        this.dropped(1006, 'No answer to pings')
        return
      }
      if (Date.now() - this.lastFrameAt >= this.heartbeatMs) this.send({ type: 'ping' })
      this.heartbeat()
    })
  }

  private dropped(code: number, reason: string): void {
    const socket = this.socket
    if (socket) {
      socket.onmessage = socket.onclose = socket.onopen = null
      // Closing a socket still connecting reports an error (ws throws it if nobody listens): ignore it.
      socket.onerror = () => {}
    }
    this.socket = null
    this.authenticated = false
    clearTimeout(this.heartbeatTimer)
    if (this.stopped) return
    if (code === 1008 && reason === 'Origin not allowed') {
      // The page's origin is not in the server's ALLOWED_ORIGINS: no retry can change that.
      this.events.emit('error', {
        code: 'origin_not_allowed',
        detail: 'The server does not accept connections from this page’s address (ALLOWED_ORIGINS)',
      })
      this.stop()
      return
    }
    if (code === 1008) {
      // Refused or closed for authentication (logged out everywhere, password changed, deactivated):
      // a refresh tells whether the login still stands; the next attempt then gets a ticket with it.
      this.events.emit('refused', { code, reason })
      this.transport.refresh().then(
        () => this.retry(),
        (error: { status?: number }) => (error.status === 401 ? this.stop() : this.retry()),
      )
      return
    }
    this.retry()
  }

  private retry(): void {
    if (this.stopped) return
    this.setState('reconnecting')
    const delay = fullJitter(this.attempt, this.baseMs, this.maxMs)
    this.attempt += 1
    clearTimeout(this.retryTimer)
    this.retryTimer = later(delay, () => {
      this.retryTimer = undefined
      void this.open()
    })
  }

  /** Cuts the socket and does not reconnect (logout, or the client is closed). */
  stop(): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const socket = this.socket
    this.dropped(1000, 'closed')
    socket?.close(1000)
    this.setState('closed')
  }

  /** Opens the socket now and keeps it open with no room followed. */
  connect(): void {
    this.wanted = true
    this.start()
  }

  /** After a stop for a login that ended: a new login may connect again. */
  resume(): void {
    this.stopped = false
    this.attempt = 0
    if (this.rooms.size || this.wanted) this.start()
  }

  close(): void {
    page.removeEventListener?.('offline', this.wentOffline)
    page.removeEventListener?.('online', this.cameOnline)
    this.stop()
    this.rooms.clear()
    this.events.clear()
  }
}
