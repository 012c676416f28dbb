// The hub: the rooms this instance's sockets follow. Room frames come from the bus (published by whichever
// instance stored the change), are put back in seq order (sequencer.ts), and each is sent as the same
// bytes to every socket (connections.ts). A socket that subscribes with after_seq gets the stored
// messages it missed first, while live frames wait, so it sees every message once and in order.
// Subscriptions, gap fill, bus channels and presence stay together here: they share each room's state
// and its order of events, which is what the no-gap, no-duplicate guarantee rests on. The replay of one
// socket (replay.ts) needs nothing of the room but its newest seq.
import type { ReplyInProgress } from '../ai/reply-store.js'
import type { MessageView } from '../chat/chat.schemas.js'
import type { ParticipantRole } from '../db/schema.js'
import { type Bus, roomChannel, userChannel } from './bus.js'
import { type Connection, createConnections, type Subscription, subscriptionOf } from './connections.js'
import { frames } from './frames.js'
import { createInboundTally, type InboundTally } from './inbound.js'
import type { PresenceStore } from './presence.js'
import { createReplays, READ_PAGE } from './replay.js'
import { createSequencer, type Sequencer } from './sequencer.js'
import type { SetUpSlots } from './setups.js'
import { decode, encode, type RoutingHeader } from './wire.js'

export type { Connection } from './connections.js'

interface Room {
  /** The sockets that follow the room, each with its subscription. */
  connections: Map<Connection, Subscription>
  /** Chat messages back in seq order: those ahead of a gap wait there until it closes. */
  sequencer: Sequencer<Buffer>
  gapTimer?: NodeJS.Timeout
  busReady: Promise<void>
}

export interface HubLog {
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface HubOptions {
  bus: Bus
  presence: PresenceStore
  /** Turns for socket set-ups' database work (setups.ts). */
  setUps: SetUpSlots
  /** Stored messages of a room with seq > afterSeq, oldest first (at most `limit`). */
  loadMessagesAfter(sessionId: number, afterSeq: number, limit: number): Promise<MessageView[]>
  log: HubLog
  /** A socket whose unsent data grows past this is too slow for the room and is dropped. */
  maxBufferedBytes: number
  /** How long a frame that arrived ahead of a gap waits for the missing ones before they are read from the database. */
  gapWaitMs: number
  /** The room's assistant replies being written now (sent after a replay); never rejects. */
  repliesInProgress(sessionId: number): Promise<readonly ReplyInProgress[]>
}

export interface Hub {
  readonly connections: ReadonlySet<Connection>
  /** Turns for socket set-ups' database work: the gateway runs each set-up through it. */
  readonly setUps: SetUpSlots
  /** Frames written to sockets since start (for metrics; one integer, no cost on the fan-out path). */
  delivered(): number
  /** What the gateway holds of frames read from these sockets and not yet handled (for metrics). */
  readonly inbound: InboundTally
  register(connection: Connection): Promise<void>
  unregister(connection: Connection): Promise<void>
  /**
   * Makes the socket follow the room and returns the room's newest seq. Frames wait until `replay`
   * runs. `readLastSeq` is called once the bus subscription is live, so every message after the seq it
   * returns arrives on the bus; a room this instance already follows knows its newest seq without it.
   */
  subscribe(
    connection: Connection,
    sessionId: number,
    role: ParticipantRole,
    readLastSeq: () => Promise<number>,
  ): Promise<number>
  /** Sends the stored messages after `afterSeq`, then the replies being written, then what waited, then goes live. */
  replay(connection: Connection, sessionId: number, afterSeq: number): Promise<void>
  unsubscribe(connection: Connection, sessionId: number): Promise<void>
  /** A frame for one socket only (acks, errors, greetings). */
  sendTo(connection: Connection, frame: object): void
  publishToRoom(sessionId: number, header: RoutingHeader, frame?: object): void
  publishToUser(userId: number, header: RoutingHeader, frame?: object): void
  onlineUsers(sessionId: number): Promise<ReadonlySet<number>>
  /** One heartbeat round: terminate sockets that did not answer the last ping, ping the rest. */
  heartbeat(): void
  /** Closes every socket and forgets it (presence included) before returning. */
  closeAll(code: number, reason: string): Promise<void>
}

export function createHub(options: HubOptions): Hub {
  const { bus, presence, log } = options
  const sockets = createConnections(log, options.maxBufferedBytes)
  const { write } = sockets
  const replays = createReplays({ ...options, writePaced: sockets.writePaced })
  const { hold } = replays
  const rooms = new Map<number, Room>()

  function sendTo(connection: Connection, frame: object): void {
    write(connection, Buffer.from(JSON.stringify(frame)))
  }

  function deliverMessage(room: Room, seq: number, data: Buffer): void {
    for (const [connection, subscription] of room.connections) {
      if (subscription.waiting) hold(connection, subscription, { data, seq })
      else if (seq > subscription.lastSeq) {
        subscription.lastSeq = seq
        write(connection, data)
      }
    }
  }

  function sequence(room: Room, sessionId: number, seq: number, data: Buffer): void {
    for (const ready of room.sequencer.accept(seq, data)) deliverMessage(room, ready.seq, ready.item)
    if (room.sequencer.missing()) scheduleGapFill(room, sessionId)
    else if (room.gapTimer) {
      clearTimeout(room.gapTimer)
      room.gapTimer = undefined
    }
  }

  /** Frames ahead of a gap wait briefly for the bus; then the missing messages are read from the database. */
  function scheduleGapFill(room: Room, sessionId: number): void {
    if (room.gapTimer) return
    room.gapTimer = setTimeout(async () => {
      room.gapTimer = undefined
      const gap = room.sequencer.missing()
      if (rooms.get(sessionId) !== room || !gap) return
      await fillFromDatabase(room, sessionId, gap.to + 1)
      if (room.sequencer.missing()) scheduleGapFill(room, sessionId)
    }, options.gapWaitMs)
  }

  /**
   * Reads the room's stored messages from the one this instance expects next (up to `before`, or all
   * of them) and delivers them in order: the database, not the bus, is the truth.
   */
  async function fillFromDatabase(
    room: Room,
    sessionId: number,
    before = Number.MAX_SAFE_INTEGER,
  ): Promise<void> {
    try {
      for (;;) {
        const next = room.sequencer.next
        if (rooms.get(sessionId) !== room || next === null) return
        const from = next - 1
        const page = await options.loadMessagesAfter(sessionId, from, Math.min(READ_PAGE, before - from - 1))
        for (const message of page) {
          sequence(room, sessionId, message.seq, Buffer.from(JSON.stringify(frames.chatMessage(message))))
        }
        if (page.length < READ_PAGE) return
      }
    } catch (error) {
      log.error({ err: error, sessionId }, 'could not read missing messages')
    }
  }

  // After a bus outage, quiet rooms too must get what was stored meanwhile: no later message may come.
  bus.onReconnect(() => {
    for (const [sessionId, room] of rooms) void fillFromDatabase(room, sessionId)
  })

  function onRoomPayload(sessionId: number, payload: string): void {
    const room = rooms.get(sessionId)
    if (!room) return
    const { header, frame } = decode(payload)
    if (header.s !== undefined) {
      sequence(room, sessionId, header.s, Buffer.from(frame))
      return
    }
    if (frame) {
      const data = Buffer.from(frame)
      for (const [connection, subscription] of room.connections) {
        if (connection.userId === header.x) continue
        if (subscription.waiting) hold(connection, subscription, { data, presenceOf: header.p })
        else write(connection, data)
      }
    }
    applyControl(sessionId, room, header)
  }

  function applyControl(sessionId: number, room: Room, header: RoutingHeader): void {
    const [roleUser, role] = header.role ?? []
    for (const [connection, subscription] of [...room.connections]) {
      if (connection.userId === roleUser && role) subscription.role = role
      if (header.end || connection.userId === header.drop) void leaveRoom(connection, sessionId, false)
    }
  }

  function onUserPayload(userId: number, payload: string): void {
    // Every instance hears every user's events (bus.ts): most are for users it does not hold.
    const connections = sockets.ofUser(userId)
    if (connections.length === 0) return
    const { header, frame } = decode(payload)
    const outside = header.outside
    const data = outside !== undefined && frame ? Buffer.from(frame) : undefined
    for (const connection of connections) {
      if (header.name !== undefined) connection.username = header.name
      if (header.close !== undefined) connection.socket.close(1008, header.close)
      if (data && !connection.rooms.some((subscription) => subscription.sessionId === outside)) {
        write(connection, data)
      }
    }
  }

  async function ensureRoom(sessionId: number): Promise<Room> {
    let room = rooms.get(sessionId)
    if (!room) {
      room = {
        connections: new Map(),
        sequencer: createSequencer<Buffer>(),
        busReady: bus.subscribe(roomChannel(sessionId), (payload) => onRoomPayload(sessionId, payload)),
      }
      rooms.set(sessionId, room)
    }
    return room
  }

  async function leaveRoom(connection: Connection, sessionId: number, announce: boolean): Promise<void> {
    const subscription = subscriptionOf(connection, sessionId)
    if (!subscription) return
    const at = connection.rooms.indexOf(subscription)
    connection.rooms = connection.rooms.slice(0, at).concat(connection.rooms.slice(at + 1))
    const room = rooms.get(sessionId)
    if (!room) return
    room.connections.delete(connection)
    if (room.connections.size === 0) {
      rooms.delete(sessionId)
      if (room.gapTimer) clearTimeout(room.gapTimer)
      room.sequencer.reset()
      await bus.unsubscribe(roomChannel(sessionId))
    }
    const stillHere = [...room.connections.keys()].some((c) => c.userId === connection.userId)
    if (!stillHere && (await presence.leave(sessionId, connection.userId)) && announce) {
      publishPresence(sessionId, connection, 'offline')
    }
  }

  function publishPresence(sessionId: number, connection: Connection, status: 'online' | 'offline'): void {
    bus.publish(
      roomChannel(sessionId),
      encode(
        { p: connection.userId },
        frames.presence(sessionId, { id: connection.userId, username: connection.username }, status),
      ),
    )
  }

  async function unregister(connection: Connection): Promise<void> {
    if (!sockets.remove(connection)) return
    for (const { sessionId } of connection.rooms) await leaveRoom(connection, sessionId, true)
  }

  const usersHeard = bus.subscribeUsers(onUserPayload)

  return {
    connections: sockets.all,
    setUps: options.setUps,
    delivered: sockets.delivered,
    inbound: createInboundTally(),

    async register(connection) {
      sockets.add(connection)
      // Events for this user published from here on reach the socket.
      await usersHeard
    },

    unregister,

    async subscribe(connection, sessionId, role, readLastSeq) {
      const existing = subscriptionOf(connection, sessionId)
      const subscription: Subscription = existing ?? {
        sessionId,
        role,
        lastSeq: 0,
        waiting: [],
        waitingBytes: 0,
        waitingPresence: undefined,
      }
      if (existing) {
        existing.role = role
        existing.waiting ??= []
      } else connection.rooms = connection.rooms.concat(subscription) // sized exactly, unlike a spread
      const room = await ensureRoom(sessionId)
      const firstOfUser = ![...room.connections.keys()].some((c) => c.userId === connection.userId)
      room.connections.set(connection, subscription)
      await room.busReady
      // Every message after the one the room's sequencer expects next reaches the socket live.
      const next = room.sequencer.next
      const lastSeq = next === null ? await readLastSeq() : next - 1
      room.sequencer.start(lastSeq + 1)
      if (!existing && firstOfUser && (await presence.enter(sessionId, connection.userId))) {
        publishPresence(sessionId, connection, 'online')
      }
      // The socket went away while this ran: its unregister has already been and gone, so leave here.
      if (!sockets.all.has(connection)) await leaveRoom(connection, sessionId, true)
      return lastSeq
    },

    replay(connection, sessionId, afterSeq) {
      // An after_seq beyond the room's newest message must not hide the messages that come next.
      const newest = (rooms.get(sessionId)?.sequencer.next ?? afterSeq + 1) - 1
      return replays.replay(connection, sessionId, Math.min(afterSeq, newest), newest)
    },

    unsubscribe: (connection, sessionId) => leaveRoom(connection, sessionId, true),

    sendTo,

    publishToRoom(sessionId, header, frame) {
      bus.publish(roomChannel(sessionId), encode(header, frame))
    },

    publishToUser(userId, header, frame) {
      bus.publish(userChannel(userId), encode(header, frame))
    },

    onlineUsers: (sessionId) => presence.online(sessionId),

    heartbeat: sockets.heartbeat,

    async closeAll(code, reason) {
      const all = [...sockets.all]
      for (const connection of all) connection.socket.close(code, reason)
      // Now, not when each client acknowledges the close: presence must be cleared while Redis is still open.
      await Promise.all(all.map(unregister))
    },
  }
}
