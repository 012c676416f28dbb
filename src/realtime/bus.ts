// Carries room and user events between instances: Redis pub/sub when REDIS_URL is set, in-process otherwise.
// An instance subscribes to a channel only while it holds a socket that needs it.
import type { Redis } from 'ioredis'

export type BusHandler = (payload: string) => void

export interface Bus {
  /** Never throws: an event that cannot be published is reported; the database still has it. */
  publish(channel: string, payload: string): void
  subscribe(channel: string, handler: BusHandler): Promise<void>
  unsubscribe(channel: string): Promise<void>
  /**
   * Called after the bus came back from an outage and resubscribed: what was published meanwhile is
   * lost, and the listener recovers it from the database.
   */
  onReconnect(listener: () => void): void
  close(): Promise<void>
}

/** Channel names without the deployment's prefix (REDIS_KEY_PREFIX, `insurge` by default). */
export const roomChannel = (sessionId: number) => `room:${sessionId}`
export const userChannel = (userId: number) => `user:${userId}`

export function createMemoryBus(): Bus {
  const handlers = new Map<string, BusHandler>()
  return {
    publish(channel, payload) {
      handlers.get(channel)?.(payload)
    },
    async subscribe(channel, handler) {
      handlers.set(channel, handler)
    },
    async unsubscribe(channel) {
      handlers.delete(channel)
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
  const reconnectListeners: (() => void)[] = []
  let connectedBefore = false
  // A subscribe that failed while Redis was away is not among those ioredis restores: restore them all,
  // then let listeners read what was published while the connection was down.
  subscriber.on('ready', () => {
    const reconnected = connectedBefore
    connectedBefore = true
    if (!reconnected) return
    const channels = [...handlers.keys()]
    const resubscribed = channels.length > 0 ? subscriber.subscribe(...channels) : Promise.resolve()
    resubscribed
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
    onReconnect(listener) {
      reconnectListeners.push(listener)
    },
    async close() {
      handlers.clear()
      subscriber.disconnect()
    },
  }
}
