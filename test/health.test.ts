// GET / and GET /health, with the database up and down, with and without Redis and the AI configured.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connectDatabase } from '../src/db/connect.js'
import { API, startTestApp, type TestApi } from './helpers/app.js'

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
const HEALTH_KEYS = ['ai', 'database', 'environment', 'redis', 'status', 'version']
/** Nothing listens on port 1: every connection is refused. */
const DOWN_DATABASE_URL = 'postgres://postgres:postgres@127.0.0.1:1/nope'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api?.close())

test('GET / welcomes with the version', async () => {
  const res = await api.get('/')
  expect(res.status).toBe(200)
  expect(await res.json()).toEqual({ message: 'Welcome to Insurge AI Backend API', version: VERSION })
})

test('GET /health answers 200 with exactly the documented keys', async () => {
  const res = await api.get('/health')
  expect(res.status).toBe(200)
  const body = (await res.json()) as Record<string, unknown>
  expect(Object.keys(body).sort()).toEqual(HEALTH_KEYS)
  expect(body).toMatchObject({
    status: 'healthy',
    environment: 'test',
    version: VERSION,
    database: 'ok',
    ai: 'disabled',
  })
})

test('GET /health reports Redis as ok when configured, disabled otherwise', async () => {
  const body = await (await api.get('/health')).json()
  expect(body.redis).toBe(api.config.REDIS_URL ? 'ok' : 'disabled')
})

describe('with the AI configured', () => {
  let withAi: TestApi
  beforeAll(async () => {
    withAi = await startTestApp({ env: { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' } })
  })
  afterAll(() => withAi?.close())

  test('GET /health reports ai configured without calling the model', async () => {
    const res = await withAi.get('/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ ai: 'configured', database: 'ok' })
  })
})

describe('with the database down', () => {
  let down: TestApi
  beforeAll(async () => {
    down = await startTestApp({
      resources: async (config) => ({ config, database: await connectDatabase(DOWN_DATABASE_URL) }),
    })
  })
  afterAll(() => down?.close())

  test('GET /health answers 503 with database unavailable within 5 s', async () => {
    const started = Date.now()
    const res = await down.get('/health')
    const body = (await res.json()) as Record<string, unknown>
    expect(Date.now() - started).toBeLessThan(5000)
    expect(res.status).toBe(503)
    expect(Object.keys(body).sort()).toEqual(HEALTH_KEYS)
    expect(body).toMatchObject({ status: 'unhealthy', database: 'unavailable', version: VERSION })
  })

  test('register answers 503 unavailable, not 500 and not a hang', async () => {
    const res = await down.post(`${API}/auth/register`, {
      email: 'ada-down@example.com',
      username: 'ada_down',
      password: 'correct horse battery',
    })
    expect(res.status).toBe(503)
    const body = await res.json()
    expect(body).toMatchObject({ code: 'unavailable' })
    expect(typeof body.detail).toBe('string')
  })

  test('login answers 503 unavailable, not 401', async () => {
    const res = await down.post(`${API}/auth/login`, {
      email: 'ada-down@example.com',
      password: 'correct horse battery',
    })
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'unavailable' })
  })
})
