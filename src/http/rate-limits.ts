// Per-address rate limits (@fastify/rate-limit) on the routes a stranger reaches before logging in,
// shared through Redis when REDIS_URL is set so that N instances enforce one limit. Per-user and
// per-account limits are the services' (src/limits.ts).
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import type { Config } from '../config.js'
import { AppError } from '../errors.js'

/** Requests per client address per window. */
export const LIMITS = {
  login: { max: 20, timeWindow: 60_000 },
  register: { max: 20, timeWindow: 60_000 },
  wsConnect: { max: 60, timeWindow: 60_000 },
} as const

type LimitName = keyof typeof LIMITS

/** The route option for a per-address limit: `config: { rateLimit: routeLimit('login') }`. */
export function routeLimit(name: LimitName) {
  return { ...LIMITS[name], groupId: name }
}

/** Registers the plugin (not at all with RATE_LIMITS=off). */
export async function registerRateLimits(
  app: FastifyInstance,
  config: Config,
  redis: Redis | undefined,
): Promise<void> {
  if (config.RATE_LIMITS === 'off') return
  await app.register(rateLimit, {
    global: false,
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
}
