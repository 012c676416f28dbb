// The realtime layer: bus and presence (Redis or in-process), the hub, the publisher of domain events,
// and the /ws gateway with its limits (64 KiB frames, heartbeat, bounded send buffers).
import websocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { listMessagesAfter } from '../chat/messages.service.js'
import { announcePresenceLapsed } from '../chat/signals.service.js'
import type { Config } from '../config.js'
import { type Bus, createMemoryBus, createRedisBus } from './bus.js'
import { registerGateway } from './gateway.js'
import {
  createMemoryPresence,
  createRedisPresence,
  DEFAULT_PRESENCE_TIMING,
  type PresenceStore,
} from './presence.js'
import { publishEvent } from './publisher.js'
import { createHub, type Hub } from './rooms.js'
import { createSetUpSlots } from './setups.js'

export const MAX_FRAME_BYTES = 64 * 1024

/** How the gateway treats slow and dead sockets. Fixed in production; tests shorten them. */
export interface RealtimeLimits {
  /** Ping every socket this often; one that has not answered the previous ping is dropped. */
  heartbeatMs: number
  /** A socket whose unsent data exceeds this is too slow for its rooms and is dropped. */
  maxBufferedBytes: number
  /** How long frames ahead of a seq gap wait for the bus before the gap is read from the database. */
  gapWaitMs: number
  /** With Redis: how long an instance's presence outlives it when it crashes (see presence.ts). */
  presenceTtlMs: number
  /** With Redis: how often each instance renews the presence of its users. */
  presenceRefreshMs: number
  /** Socket set-ups (and replay or gap-fill reads) that query the database at once (setups.ts). */
  setUpsAtOnce: number
}

export const DEFAULT_REALTIME_LIMITS: RealtimeLimits = {
  heartbeatMs: 30_000,
  maxBufferedBytes: 1024 * 1024,
  gapWaitMs: 100,
  presenceTtlMs: DEFAULT_PRESENCE_TIMING.ttlMs,
  presenceRefreshMs: DEFAULT_PRESENCE_TIMING.refreshMs,
  setUpsAtOnce: 10,
}

export interface RealtimeParts {
  bus: Bus
  presence: PresenceStore
}

/** Redis when configured, so N instances act as one; otherwise in-process equivalents. */
export function createRealtimeParts(
  config: Config,
  redis: Redis | undefined,
  onError: (error: unknown, what: string) => void,
  limits: RealtimeLimits = DEFAULT_REALTIME_LIMITS,
): RealtimeParts {
  if (!redis) return { bus: createMemoryBus(), presence: createMemoryPresence() }
  return {
    bus: createRedisBus(redis, config.REDIS_KEY_PREFIX, onError),
    presence: createRedisPresence(redis, config.REDIS_KEY_PREFIX, (error) => onError(error, 'presence'), {
      ttlMs: limits.presenceTtlMs,
      refreshMs: limits.presenceRefreshMs,
    }),
  }
}

export async function registerRealtime(
  app: FastifyInstance,
  parts: RealtimeParts,
  limits: RealtimeLimits = DEFAULT_REALTIME_LIMITS,
): Promise<Hub> {
  const setUps = createSetUpSlots(limits.setUpsAtOnce)
  const hub = createHub({
    bus: parts.bus,
    presence: parts.presence,
    setUps,
    loadMessagesAfter: (sessionId, afterSeq, limit) =>
      setUps.run(() => listMessagesAfter(app.deps.db, sessionId, afterSeq, limit)),
    log: app.log,
    maxBufferedBytes: limits.maxBufferedBytes,
    gapWaitMs: limits.gapWaitMs,
    repliesInProgress: (sessionId) => app.deps.replies.inRoom(sessionId),
  })
  // After the reply store (app.ts): a piece of a reply is stored before its frame is published.
  app.deps.events.subscribe((event) => publishEvent(hub, event))
  // A user whose instance crashed is not left online: the room hears it as if they had left.
  parts.presence.onLapsed((sessionId, userId) => {
    announcePresenceLapsed(app.deps, sessionId, userId).catch((error: unknown) =>
      app.log.warn({ err: error, sessionId }, 'could not announce a lapsed presence'),
    )
  })

  await app.register(websocket, {
    // ws answers a frame over the limit by closing with 1009. The hub tracks the sockets it serves:
    // ws's own set would add a close listener, a closure and a set entry per socket.
    options: { maxPayload: MAX_FRAME_BYTES, clientTracking: false },
    preClose: async () => {
      await hub.closeAll(1001, 'Server shutting down')
      app.websocketServer.close()
    },
    // A client's protocol error (an oversized or malformed frame) is the client's: ws has already
    // closed the socket with the right code, so log it quietly instead of as a server error.
    errorHandler: (error, socket, request) => {
      request.log.info({ err: error }, 'websocket closed on a client error')
      socket.terminate()
    },
  })
  registerGateway(app, hub)

  const heartbeat = setInterval(() => hub.heartbeat(), limits.heartbeatMs)
  heartbeat.unref()
  app.addHook('onClose', async () => {
    clearInterval(heartbeat)
    parts.presence.close()
    await parts.bus.close()
  })
  return hub
}
