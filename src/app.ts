// buildApp: the one composition of plugins and features; the server and the tests build the same app.
import { readFileSync } from 'node:fs'
import cors from '@fastify/cors'
import formbody from '@fastify/formbody'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Ajv } from 'ajv'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Redis } from 'ioredis'
import { createAssistant } from './ai/assistant.js'
import { assistantRoutes } from './ai/assistant.routes.js'
import { catchUpRoutes } from './ai/catch-up.routes.js'
import { createProvider } from './ai/provider.js'
import { createMemoryCounter, createMemoryHolds, createRedisCounter, createRedisHolds } from './ai/quota.js'
import { repliesRoutes } from './ai/replies.routes.js'
import { createReplyStore, replyTtlMs } from './ai/reply-store.js'
import { createSlots } from './ai/slots.js'
import { createUsageBook } from './ai/usage.js'
import { authRoutes } from './auth/auth.routes.js'
import { authGuard } from './auth/guard.js'
import { createPasswords } from './auth/passwords.js'
import { createTokens } from './auth/tokens.js'
import { chatRoutes } from './chat/chat.routes.js'
import { messagesRoutes } from './chat/messages.routes.js'
import { type Config, trustProxySetting } from './config.js'
import type { DatabaseHandle } from './db/connect.js'
import type { Deps } from './deps.js'
import { createDomainEvents } from './events.js'
import { healthRoutes } from './health/health.routes.js'
import { registerDocs } from './http/docs.js'
import { clientErrorHandler, frameworkErrors, registerErrorHandlers } from './http/errors.js'
import { registerLenientJsonParser } from './http/json.js'
import { registerRateLimits } from './http/rate-limits.js'
import { MAX_BYTES_KEYWORD } from './http/schemas.js'
import { registerSecurityHeaders } from './http/security-headers.js'
import { buildRequestValidator } from './http/validation.js'
import { createLimits, NO_LIMITS } from './limits.js'
import { registerMetrics } from './metrics.js'
import {
  createRealtimeParts,
  DEFAULT_REALTIME_LIMITS,
  type RealtimeLimits,
  registerRealtime,
} from './realtime/realtime.js'
import { usersRoutes } from './users/users.routes.js'
import { webRoutes } from './web/web.routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    deps: Deps
  }
}

export const API_PREFIX = '/api/v1'

export interface AppResources {
  config: Config
  /** Owned by the app from here on: closed when the app closes. */
  database: DatabaseHandle
  /** Owned by the app from here on: closed when the app closes. */
  redis?: Redis
  /** Overrides of the WebSocket limits (tests make them small). */
  realtimeLimits?: Partial<RealtimeLimits>
}

const PACKAGE_VERSION: string = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
).version

export async function buildApp(resources: AppResources): Promise<FastifyInstance> {
  const { config, database, redis } = resources
  const app = Fastify({
    logger: loggerOptions(config),
    // A hop count is valid at run time (Fastify's docs), though its type only lists boolean and strings.
    trustProxy: trustProxySetting(config) as boolean | string,
    // Paths like /api/v1/users/me/ answer like /api/v1/users/me.
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors,
    // Fastify's default (10 s per plugin) is short on a loaded 2-core machine starting several apps at
    // once; a plugin that really hangs still stops start-up.
    pluginTimeout: 60_000,
    clientErrorHandler,
    // Bodies are validated without type coercion, query strings and path parameters with it.
    schemaController: { compilersFactory: { buildValidator: buildRequestValidator } },
    ajv: {
      // parentSchema in errors lets a failed x-max-bytes name its limit.
      customOptions: { verbose: true },
      // bcrypt reads 72 bytes: a longer password would be accepted but only partly checked, so limit bytes.
      plugins: [
        (ajv: Ajv) =>
          ajv.addKeyword({
            keyword: MAX_BYTES_KEYWORD,
            type: 'string',
            schemaType: 'number',
            validate: (limit: number, value: string) => Buffer.byteLength(value, 'utf8') <= limit,
          }),
      ],
    },
  }).withTypeProvider<TypeBoxTypeProvider>()

  const realtimeLimits = { ...DEFAULT_REALTIME_LIMITS, ...resources.realtimeLimits }
  const realtime = createRealtimeParts(
    config,
    redis,
    (err, what) => app.log.warn({ err }, `realtime: ${what} failed`),
    realtimeLimits,
  )
  const events = createDomainEvents((err, event) =>
    app.log.error({ err, event: event.type }, 'event listener failed'),
  )
  // Subscribed first, before the realtime layer's publisher: a piece of a reply is stored before its
  // frame can reach a socket (ai/reply-store.ts).
  const replies = createReplyStore({
    events,
    redis,
    prefix: config.REDIS_KEY_PREFIX,
    ttlMs: replyTtlMs(config.AI_TIMEOUT_MS),
    onError: (err, what) => app.log.warn({ err }, `reply store: ${what} failed`),
  })
  // One provider client and one usage book, for the assistant's replies and for catch-ups.
  const provider = createProvider(config)
  const aiUsage = createUsageBook(database.db, config)
  const aiSlots = createSlots(config.AI_CONCURRENCY)
  // One count per user of their replies and catch-ups together, shared by every instance through Redis.
  const aiHolds = redis
    ? createRedisHolds(redis, config.REDIS_KEY_PREFIX, 2 * config.AI_TIMEOUT_MS + 60_000, (err) =>
        app.log.warn({ err }, 'assistant holds failed'),
      )
    : createMemoryHolds()
  const assistant = await createAssistant({
    deps: { db: database.db, config, events },
    provider,
    bus: realtime.bus,
    quota: redis
      ? createRedisCounter(redis, config.REDIS_KEY_PREFIX, (err) =>
          app.log.warn({ err }, 'quota counter failed'),
        )
      : createMemoryCounter(),
    holds: aiHolds,
    slots: aiSlots,
    usage: aiUsage,
    log: app.log,
  })
  const deps: Deps = {
    config,
    db: database.db,
    database,
    redis,
    version: PACKAGE_VERSION,
    passwords: createPasswords(config.BCRYPT_ROUNDS),
    tokens: createTokens(config),
    events,
    presence: realtime.presence,
    replies,
    provider,
    aiUsage,
    aiSlots,
    aiHolds,
    limits: config.RATE_LIMITS === 'off' ? NO_LIMITS : createLimits(redis, config.REDIS_KEY_PREFIX),
  }
  app.decorate('deps', deps)
  // Before in-flight requests finish and the database closes: generations abort without storing.
  app.addHook('preClose', () => assistant.close())
  app.addHook('onClose', async () => {
    await Promise.allSettled([database.close(), redis?.quit()])
  })

  registerErrorHandlers(app)
  registerSecurityHeaders(app)
  await app.register(cors, {
    origin: config.ALLOWED_ORIGINS.includes('*') ? true : config.ALLOWED_ORIGINS,
    exposedHeaders: ['X-Total-Count', 'Retry-After'],
  })
  await app.register(formbody)
  // Bodies are JSON (and the login form): a text/plain body is 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain')
  registerLenientJsonParser(app)
  await registerDocs(app, PACKAGE_VERSION)
  await app.register(authGuard)

  await registerRateLimits(app, config, redis)
  const hub = await registerRealtime(app, realtime, realtimeLimits)
  registerMetrics(app, { hub, events, database })
  await app.register(healthRoutes)
  await webRoutes(app)
  await app.register(
    async (api) => {
      await api.register(authRoutes)
      await api.register(usersRoutes)
      await api.register(chatRoutes)
      await api.register(messagesRoutes)
      await api.register(repliesRoutes)
      await api.register(assistantRoutes)
      await api.register(catchUpRoutes)
    },
    { prefix: API_PREFIX },
  )
  return app
}

function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  return {
    level: config.LOG_LEVEL,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    serializers: {
      // Query strings carry tokens (/ws?token=…, /auth/refresh?refresh_token=…): never log them.
      req: (req: { method: string; url: string; ip?: string }) => ({
        method: req.method,
        url: req.url.split('?')[0],
        remoteAddress: req.ip,
      }),
    },
    ...(config.DEBUG
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } }
      : {}),
  }
}
