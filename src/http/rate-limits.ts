// Rate limits (@fastify/rate-limit), shared through Redis when REDIS_URL is set so that N instances
// enforce one limit. Set so that a real client never meets them and a guessing script soon does.
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'

/** Per window; `login` and `register` per client address, `send` per user (HTTP and WebSocket together). */
export const LIMITS = {
  login: { max: 20, timeWindow: 60_000 },
  register: { max: 20, timeWindow: 60_000 },
  send: { max: 60, timeWindow: 10_000 },
  wsConnect: { max: 60, timeWindow: 60_000 },
} as const

type LimitName = keyof typeof LIMITS

function sendRequest(userId: number): FastifyRequest {
  return { actor: { id: userId }, routeOptions: { config: {} } } as unknown as FastifyRequest
}

/** The route option for a per-address limit: `config: { rateLimit: routeLimit('login') }`. */
export function routeLimit(name: Exclude<LimitName, 'send'>) {
  return { ...LIMITS[name], groupId: name }
}

export interface SendLimiter {
  /**
   * Counts one send by the request's actor; throws rate_limited past the limit. POST …/messages and
   * the WebSocket's chat_message both call it, so they share one count.
   */
  check(userId: number): Promise<void>
}

/**
 * Registers the plugin (not at all with RATE_LIMITS=off) and returns the send limiter the WebSocket
 * uses, on the same counters as POST …/messages.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  config: Config,
  redis: Redis | undefined,
): Promise<SendLimiter> {
  if (config.RATE_LIMITS === 'off') return { check: async () => {} }
  await app.register(rateLimit, {
    global: false,
    // After authentication, so that per-user limits know the user.
    hook: 'preHandler',
    ...(redis ? { redis, nameSpace: `${config.REDIS_KEY_PREFIX}:ratelimit:` } : {}),
    // Redis is never the truth nor a single point of failure: without it, requests go through.
    skipOnError: true,
    errorResponseBuilder: (_request, context) =>
      new AppError(
        'rate_limited',
        `Too many requests; try again in ${Math.ceil(context.ttl / 1000)} seconds`,
      ),
  })
  const checkSend = app.createRateLimit({
    ...LIMITS.send,
    keyGenerator: (request) => `send:${request.actor.id}`,
  })
  return {
    async check(userId) {
      // The limiter reads a request; a send's only identity is its user, whichever door it came through.
      const limit = await checkSend(sendRequest(userId))
      if (!limit.isAllowed && limit.isExceeded) {
        throw new AppError(
          'rate_limited',
          `Too many messages; try again in ${limit.ttlInSeconds} seconds`,
          undefined,
          limit.ttlInSeconds,
        )
      }
    },
  }
}
