// createClient: the HTTP API with the login's tokens, and one socket shared by every room followed.
import { type Api, createApi } from './api.js'
import { type CatchUpOptions, type CatchUpResult, streamCatchUp } from './catch-up.js'
import {
  Connection,
  type ConnectionState,
  type ReconnectOptions,
  type WebSocketConstructor,
} from './connection.js'
import { Emitter } from './emitter.js'
import { ApiError } from './errors.js'
import { FollowedRoom, type Room, type RoomOptions } from './room.js'
import { Transport } from './transport.js'
import type { Tokens, User } from './types.js'

export interface ClientOptions {
  /** Where the server is, e.g. `https://chat.example.com`; in a browser, the page's origin by default. */
  baseUrl?: string
  /** A WebSocket class: the browser's by default; in Node 20, `ws`'s `WebSocket`. */
  WebSocket?: WebSocketConstructor
  /** A fetch function (default: the global one). */
  fetch?: typeof fetch
  /** Tokens kept from an earlier login (see the `tokens` event), to carry on without logging in. */
  tokens?: Tokens
  reconnect?: ReconnectOptions
  room?: RoomOptions
}

export interface ClientEvents extends Record<string, unknown> {
  /** New tokens (after a login or a refresh), to keep; `null` when the login ended. */
  tokens: Tokens | null
  /** The login ended without `logout()`: the refresh token was refused (expired, revoked). */
  signedOut: undefined
  /** This person was added to a room this client does not follow (heard while the socket is open). */
  joined: { sessionId: number; role: string }
}

export interface ConnectionView {
  readonly state: ConnectionState
  on(event: 'state', listener: (state: ConnectionState) => void): () => void
  /** A problem the socket cannot get past by itself (`origin_not_allowed`), or an error frame about no room. */
  on(event: 'error', listener: (error: { code: string; detail: string }) => void): () => void
}

export interface InsurgeClient {
  /** Typed calls for every operation of the server's /openapi.json, with this login's token. */
  readonly api: Api
  readonly connection: ConnectionView
  /** The id of the person logged in, or null. */
  readonly userId: number | null
  readonly tokens: Tokens | null
  register(account: { email: string; username: string; password: string }): Promise<User>
  /** Logs in and keeps the tokens (refreshed before they expire). */
  login(email: string, password: string): Promise<void>
  /** Ends this login on the server and here. */
  logout(): Promise<void>
  /** The room with this id, followed over the client's socket (the same object until it is closed). */
  room(id: number): Room
  /**
   * A summary, for this person alone, of what they have not read in room `id`, streamed as the model
   * writes it (`onText`); resolves with the whole of it. Failures are ApiErrors (503 when the model
   * fails); aborting `signal` stops the model and rejects with its reason.
   */
  catchUp(id: number, options?: CatchUpOptions): Promise<CatchUpResult>
  /**
   * Opens the socket now rather than with the first room followed, and keeps it open: to hear of
   * rooms this person is added to (`joined`) while no room is open. Needs a login.
   */
  connect(): void
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void
  /** Closes the socket and every room; the client is not used after this (`room()` throws). */
  close(): void
}

export function createClient(options: ClientOptions = {}): InsurgeClient {
  const baseUrl = (
    options.baseUrl ??
    (globalThis as { location?: { origin: string } }).location?.origin ??
    ''
  ).replace(/\/+$/, '')
  if (!/^https?:\/\//.test(baseUrl)) throw new TypeError('createClient: baseUrl must be an http(s) URL')
  const events = new Emitter<ClientEvents>()
  let loggingOut = false
  let closed = false
  const transport = new Transport(baseUrl, options.fetch ?? globalThis.fetch.bind(globalThis), (tokens) => {
    events.emit('tokens', tokens)
    if (tokens === null && !loggingOut) {
      connection.stop()
      // Nothing waits for a login that may never come, or that may be somebody else's.
      const ended = new ApiError(401, 'unauthenticated', 'The login ended; log in again')
      for (const room of [...rooms.values()]) room.end(ended)
      events.emit('signedOut', undefined)
    }
  })
  const connection = new Connection(transport, options.WebSocket, options.reconnect)
  connection.on('joined', (joined) => events.emit('joined', joined))
  const api = createApi(transport)
  const rooms = new Map<number, FollowedRoom>()
  if (options.tokens) transport.setTokens(options.tokens, false)

  const client: InsurgeClient = {
    api,
    connection: {
      get state() {
        return connection.state
      },
      on: ((event: 'state' | 'error', listener: (value: unknown) => void) =>
        connection.on(event, listener)) as ConnectionView['on'],
    },
    get userId() {
      return transport.userId
    },
    get tokens() {
      return transport.tokens
    },
    register: (account) => api.register({ body: account }),
    async login(email, password) {
      const tokens = await api.login({ body: { email, password } })
      const before = transport.userId
      transport.setTokens(tokens)
      // Another person on this client: the rooms and sends were the one before's.
      if (before !== null && before !== transport.userId) for (const room of [...rooms.values()]) room.close()
      connection.resume()
    },
    async logout() {
      const tokens = transport.tokens
      loggingOut = true
      try {
        connection.stop()
        for (const room of [...rooms.values()]) room.close()
        if (tokens) await api.logout({ body: { refresh_token: tokens.refresh_token } }).catch(() => {})
        transport.setTokens(null)
      } finally {
        loggingOut = false
      }
    },
    room(id) {
      // A closed client has no socket to follow a room with: its sends would wait for ever.
      if (closed) throw new Error('This client is closed: create another to follow rooms')
      let room = rooms.get(id)
      if (!room) {
        room = new FollowedRoom(
          id,
          transport,
          connection,
          (gone) => rooms.get(id) === gone && rooms.delete(id),
          options.room,
        )
        rooms.set(id, room)
      }
      return room
    },
    catchUp: (id, catchUpOptions) => streamCatchUp(transport, id, catchUpOptions),
    connect: () => connection.connect(),
    on: (event, listener) => events.on(event, listener),
    close() {
      closed = true
      for (const room of [...rooms.values()]) room.close()
      connection.close()
      transport.close()
      events.clear()
    },
  }
  return client
}
