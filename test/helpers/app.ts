// Starts the real app on a real port over a real database, and talks to it with fetch as a client would.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { type AppResources, buildApp } from '../../src/app.js'
import { type Config, parseConfig } from '../../src/config.js'
import { connectDatabase } from '../../src/db/connect.js'
import { migrateUp } from '../../src/db/migrate.js'
import { createTestDatabase, type TestDatabase } from './database.js'
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.js'

export const API = '/api/v1'

export interface TestUser {
  id: number
  email: string
  username: string
  password: string
  token: string
  refreshToken: string
}

/** A fetch Response whose JSON tests may read without declaring every shape they assert on. */
export interface TestResponse extends Response {
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON; expect() checks it.
  json(): Promise<any>
}

export interface TestApi {
  app: FastifyInstance
  config: Config
  url: string
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>
  get(path: string, token?: string): Promise<TestResponse>
  post(path: string, body?: unknown, token?: string): Promise<TestResponse>
  put(path: string, body?: unknown, token?: string): Promise<TestResponse>
  delete(path: string, token?: string): Promise<TestResponse>
  /** Registers a fresh user (unique email and username) and logs them in. */
  signUp(overrides?: {
    email?: string
    username?: string
    password?: string
    /** Sent as X-Forwarded-For (with TRUST_PROXY set): many users without one address's limits. */
    address?: string
  }): Promise<TestUser>
  close(): Promise<void>
}

export interface RequestOptions {
  body?: unknown
  token?: string
  headers?: Record<string, string>
  /** Sent as is, for malformed bodies and other media types. */
  raw?: string
}

export interface TestAppOptions {
  /** Environment overrides, as strings, exactly as an operator would set them. */
  env?: Record<string, string>
  /** Build the app over these resources instead of a fresh migrated database. */
  resources?: (config: Config) => Promise<AppResources>
  /**
   * A second instance of the same deployment: same database, same Redis channels, same secret.
   * Only meaningful on PostgreSQL + Redis (PGlite lives inside one process).
   */
  instanceOf?: TestApi
  /** Smaller WebSocket limits, to see slow and dead sockets dropped within a test. */
  realtimeLimits?: AppResources['realtimeLimits']
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApi> {
  const sibling = options.instanceOf
  const database: TestDatabase | undefined =
    options.resources || sibling ? undefined : await createTestDatabase()
  const config = parseConfig({
    ENVIRONMENT: 'test',
    DEBUG: 'false',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    BCRYPT_ROUNDS: '4',
    // Every test signs up and logs in from 127.0.0.1: the rate-limit tests turn limits on themselves.
    RATE_LIMITS: 'off',
    SECRET_KEY: sibling?.config.SECRET_KEY ?? `test-secret-${randomBytes(24).toString('hex')}`,
    DATABASE_URL: sibling?.config.DATABASE_URL ?? database?.url,
    // PGlite runs as `npm start` does on a fresh machine (in-process bus, presence and limits);
    // PostgreSQL runs as production does, with Redis when TEST_REDIS_URL is set. CI so tests both.
    REDIS_URL: process.env.TEST_DB_KIND === 'postgres' ? process.env.TEST_REDIS_URL : undefined,
    // Test files share one Redis: each deployment gets its own channels.
    REDIS_KEY_PREFIX: sibling?.config.REDIS_KEY_PREFIX ?? `test-${randomBytes(6).toString('hex')}`,
    ...options.env,
  })
  const resources = {
    ...(options.resources ? await options.resources(config) : await migratedResources(config)),
    realtimeLimits: options.realtimeLimits,
  }
  const app = await buildApp(resources)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('app is not listening on a TCP port')
  const url = `http://127.0.0.1:${address.port}`

  const request = (
    method: string,
    path: string,
    { body, token, headers = {}, raw }: RequestOptions = {},
  ): Promise<TestResponse> => {
    const init: RequestInit = { method, headers: { ...headers } }
    const h = init.headers as Record<string, string>
    if (token) h.authorization = `Bearer ${token}`
    if (raw !== undefined) init.body = raw
    else if (body !== undefined) {
      h['content-type'] ??= 'application/json'
      init.body = JSON.stringify(body)
    }
    return fetch(url + path, init)
  }

  const api: TestApi = {
    app,
    config,
    url,
    request,
    get: (path, token) => request('GET', path, { token }),
    post: (path, body, token) => request('POST', path, { body, token }),
    put: (path, body, token) => request('PUT', path, { body, token }),
    delete: (path, token) => request('DELETE', path, { token }),
    async signUp(overrides = {}) {
      const tag = randomBytes(5).toString('hex')
      const email = overrides.email ?? `user-${tag}@example.com`
      const username = overrides.username ?? `user_${tag}`
      const password = overrides.password ?? `password-${tag}`
      const headers: Record<string, string> = overrides.address
        ? { 'x-forwarded-for': overrides.address }
        : {}
      const registered = await request('POST', `${API}/auth/register`, {
        body: { email, username, password },
        headers,
      })
      if (registered.status !== 201)
        throw new Error(`register failed: ${registered.status} ${await registered.text()}`)
      const user = (await registered.json()) as { id: number }
      const login = await request('POST', `${API}/auth/login`, { body: { email, password }, headers })
      if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`)
      const tokens = (await login.json()) as { access_token: string; refresh_token: string }
      return {
        id: user.id,
        email,
        username,
        password,
        token: tokens.access_token,
        refreshToken: tokens.refresh_token,
      }
    },
    async close() {
      await app.close()
      await database?.drop()
    },
  }
  return api
}

async function migratedResources(config: Config): Promise<AppResources> {
  const database = await connectDatabase(config.DATABASE_URL)
  await migrateUp(database)
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined
  // As server.ts does: a Redis that goes away (some tests stop it) is reported, not an unhandled error.
  redis?.on('error', () => {})
  return { config, database, redis }
}

/** A fake model on loopback and an app that asks it (OPENAI_BASE_URL set), with `env` on top. */
export async function startAppWithModel(
  env: Record<string, string> = {},
): Promise<{ api: TestApi; fake: FakeOpenAI }> {
  const fake = await startFakeOpenAI()
  const api = await startTestApp({ env: { OPENAI_BASE_URL: fake.baseUrl, ...env } })
  return { api, fake }
}

/** Closes what startAppWithModel started (either is missing when start-up failed). */
export async function closeAppWithModel(parts: { api?: TestApi; fake?: FakeOpenAI }): Promise<void> {
  await parts.api?.close()
  await parts.fake?.close()
}
