// The sockets of this instance and how bytes reach them: one write that drops a reader too slow for
// its rooms, a paced write for the server's own bursts (replays), and the heartbeat.
import type { WebSocket } from 'ws'
import type { ParticipantRole } from '../db/schema.js'

/** One authenticated socket: everything the instance keeps of it, besides ws's own objects. */
export interface Connection {
  readonly userId: number
  /** Kept current by rename events on the user's channel: typing and presence frames carry it. */
  username: string
  readonly socket: WebSocket
  /**
   * The rooms this socket follows (the hub finds a room's sockets from the room). Replaced, not grown,
   * when it changes: an array grown by push keeps spare slots, and a Map costs more than a socket's
   * other state together, for the one or few rooms a socket follows.
   */
  rooms: readonly Subscription[]
  /** Cleared by each heartbeat, set by the pong: a socket that stays cleared is dead. */
  alive: boolean
  /** The room of ?session_id=, where frames without a session_id go (as with the Python original). */
  readonly defaultSessionId: number | null
}

export interface Subscription {
  readonly sessionId: number
  role: ParticipantRole
  /** The highest seq sent to this socket; a message frame at or below it is a duplicate. */
  lastSeq: number
  /** While stored history is being replayed, live frames wait here (bounded: see replay.ts). */
  waiting: Queued[] | null
  /** The bytes of the frames in `waiting` and `waitingPresence`. */
  waitingBytes: number
  /**
   * Presence frames that arrived during the replay: the latest per user, sent after it. Presence is a
   * state, not history, and a reconnect storm brings one frame per returning user: queued with the
   * rest they filled the frame bound and dropped every socket of the room at once.
   */
  waitingPresence: Map<number, Buffer> | undefined
}

/** What a socket follows before its first subscribe (one array for all of them). */
export const NO_ROOMS: readonly Subscription[] = Object.freeze([])

/** The socket's subscription to the room, if it follows it. */
export function subscriptionOf(connection: Connection, sessionId: number): Subscription | undefined {
  for (const subscription of connection.rooms) if (subscription.sessionId === sessionId) return subscription
  return undefined
}

export interface Queued {
  data: Buffer
  seq?: number
  /** A presence frame, of this user (see Subscription.waitingPresence). */
  presenceOf?: number
}

export interface ConnectionLog {
  warn(obj: object, msg: string): void
}

export interface Connections {
  readonly all: ReadonlySet<Connection>
  /** Frames written to sockets since start (for metrics; one integer, no cost on the fan-out path). */
  delivered(): number
  add(connection: Connection): void
  /** Forgets a socket; false when it was not known. */
  remove(connection: Connection): boolean
  ofUser(userId: number): Connection[]
  /** Sends the bytes unless the socket is gone; drops a socket whose unsent data passed the bound. */
  write(connection: Connection, data: Buffer): void
  /**
   * Writes a frame of the server's own burst (a replay), waiting while the socket's buffer is half
   * full, so that its reader is not dropped as slow; one that does not drain within the drain timeout
   * is dropped all the same. Resolves false when the socket is gone.
   */
  writePaced(connection: Connection, data: Buffer): Promise<boolean>
  /** One heartbeat round: terminate sockets that did not answer the last ping, ping the rest. */
  heartbeat(): void
}

const DRAIN_POLL_MS = 10
const DRAIN_TIMEOUT_MS = 30_000

export function createConnections(log: ConnectionLog, maxBufferedBytes: number): Connections {
  const all = new Set<Connection>()
  // A user's one socket, or a Set when they have several: most have one, and a Set each would cost
  // more than the socket's own state.
  const byUser = new Map<number, Connection | Set<Connection>>()
  let deliveredCount = 0

  function write(connection: Connection, data: Buffer): void {
    const { socket } = connection
    if (socket.readyState !== socket.OPEN) return
    if (socket.bufferedAmount > maxBufferedBytes) {
      // A reader this slow would make the room hold its frames in memory without bound: drop it.
      log.warn({ userId: connection.userId, buffered: socket.bufferedAmount }, 'dropping a slow websocket')
      socket.terminate()
      return
    }
    socket.send(data, { binary: false })
    deliveredCount += 1
  }

  return {
    all,
    delivered: () => deliveredCount,

    add(connection) {
      all.add(connection)
      const mine = byUser.get(connection.userId)
      if (mine === undefined) byUser.set(connection.userId, connection)
      else if (mine instanceof Set) mine.add(connection)
      else byUser.set(connection.userId, new Set([mine, connection]))
    },

    remove(connection) {
      if (!all.delete(connection)) return false
      const mine = byUser.get(connection.userId)
      if (mine === connection) byUser.delete(connection.userId)
      else if (mine instanceof Set) {
        mine.delete(connection)
        if (mine.size === 1) byUser.set(connection.userId, mine.values().next().value as Connection)
      }
      return true
    },

    ofUser(userId) {
      const mine = byUser.get(userId)
      return mine === undefined ? [] : mine instanceof Set ? [...mine] : [mine]
    },

    write,

    async writePaced(connection, data) {
      const { socket } = connection
      for (let waited = 0; socket.bufferedAmount > maxBufferedBytes / 2; waited += DRAIN_POLL_MS) {
        if (socket.readyState !== socket.OPEN) return false
        if (waited >= DRAIN_TIMEOUT_MS) {
          log.warn({ userId: connection.userId }, 'dropping a websocket that does not read its replay')
          socket.terminate()
          return false
        }
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS))
      }
      if (socket.readyState !== socket.OPEN) return false
      write(connection, data)
      return true
    },

    heartbeat() {
      for (const connection of all) {
        if (!connection.alive) {
          connection.socket.terminate()
          continue
        }
        connection.alive = false
        connection.socket.ping()
      }
    },
  }
}
