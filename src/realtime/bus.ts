// Carries room and user events between instances: Redis pub/sub when REDIS_URL is set, in-process otherwise.
// An instance subscribes to a room's channel only while it holds a socket that follows the room; user
// channels are heard all at once, by one pattern (see subscribeUsers).
import type { Redis } from 'ioredis'

export type BusHandler = (payload: string) => void
export type UserBusHandler = (userId: number, payload: string) => void

export interface Bus {
  /** Never throws: an event that cannot be published is reported; the database still has it. */
  publish(channel: string, payload: string): void
  subscribe(channel: string, handler: BusHandler): Promise<void>
  unsubscribe(channel: string): Promise<void>
  /**
   * Hears every user channel from now on. User events (a rename, a forced close) are rare, so one
   * subscription for all of them costs less than one per connected user would: that was a Redis
   * channel, a handler and a round trip per socket, for events most users never get.
   */
  subscribeUsers(handler: UserBusHandler): Promise<void>
  /**
   * Called after the bus came back from an outage and resubscribed: what was published meanwhile is
   * lost, and the listener recovers it from the database.
   */
  onReconnect(listener: () => void): void
  close(): Promise<void>
}

/** Channel names without the deployment's prefix (REDIS_KEY_PREFIX, `insurge` by default). */
export const roomChannel = (sessionId: number) => `room:${sessionId}`
const USER_CHANNEL = 'user:'
export const userChannel = (userId: number) => `${USER_CHANNEL}${userId}`

export function createMemoryBus(): Bus {
  const handlers = new Map<string, BusHandler>()
  let users: UserBusHandler | undefined
  return {
    publish(channel, payload) {
      if (users && channel.startsWith(USER_CHANNEL))
        users(Number(channel.slice(USER_CHANNEL.length)), payload)
      else handlers.get(channel)?.(payload)
    },
    async subscribe(channel, handler) {
      handlers.set(channel, handler)
    },
    async unsubscribe(channel) {
      handlers.delete(channel)
    },
    async subscribeUsers(handler) {
      users = handler
    },
    // In-process delivery cannot be interrupted.
    onReconnect() {},
    async close() {
      handlers.clear()
    },
  }
}

/**
 * Publishes on the shared client and listens on a dedicated connection (a subscribed Redis connection
 * can do nothing else). ioredis resubscribes by itself after a reconnect; what was published while
 * Redis was away is recovered from PostgreSQL by seq.
 */
export function createRedisBus(
  redis: Redis,
  prefix: string,
  onError: (error: unknown, what: string) => void,
): Bus {
  const subscriber = redis.duplicate()
  subscriber.on('error', (error) => onError(error, 'redis subscriber'))
  // Keyed by the full Redis channel name: `<prefix>:room:<id>`.
  const handlers = new Map<string, BusHandler>()
  const full = (channel: string) => `${prefix}:${channel}`
  subscriber.on('message', (channel: string, payload: string) => handlers.get(channel)?.(payload))
  const userChannels = full(USER_CHANNEL)
  // The prefix is a deployment's name, not a pattern: its glob characters match only themselves.
  const userPattern = `${userChannels.replace(/[*?[\]\\]/g, '\\$&')}*`
  let users: UserBusHandler | undefined
  subscriber.on('pmessage', (pattern: string, channel: string, payload: string) => {
    if (pattern === userPattern) users?.(Number(channel.slice(userChannels.length)), payload)
  })
  const reconnectListeners: (() => void)[] = []
  let connectedBefore = false
  // A subscribe that failed while Redis was away is not among those ioredis restores: restore them all,
  // then let listeners read what was published while the connection was down.
  subscriber.on('ready', () => {
    const reconnected = connectedBefore
    connectedBefore = true
    if (!reconnected) return
    const channels = [...handlers.keys()]
    Promise.all([
      channels.length > 0 ? subscriber.subscribe(...channels) : undefined,
      users ? subscriber.psubscribe(userPattern) : undefined,
    ])
      .then(() => {
        for (const listener of reconnectListeners) listener()
      })
      .catch((error: unknown) => onError(error, 'resubscribe'))
  })
  return {
    publish(channel, payload) {
      redis.publish(full(channel), payload).catch((error: unknown) => onError(error, `publish to ${channel}`))
    },
    async subscribe(channel, handler) {
      handlers.set(full(channel), handler)
      // While Redis is down this fails; the 'ready' handler subscribes again once it is back.
      await subscriber
        .subscribe(full(channel))
        .catch((error: unknown) => onError(error, `subscribe to ${channel}`))
    },
    async unsubscribe(channel) {
      handlers.delete(full(channel))
      await subscriber
        .unsubscribe(full(channel))
        .catch((error: unknown) => onError(error, `unsubscribe from ${channel}`))
    },
    async subscribeUsers(handler) {
      users = handler
      await subscriber
        .psubscribe(userPattern)
        .catch((error: unknown) => onError(error, 'subscribe to user channels'))
    },
    onReconnect(listener) {
      reconnectListeners.push(listener)
    },
    async close() {
      handlers.clear()
      subscriber.disconnect()
    },
  }
}
