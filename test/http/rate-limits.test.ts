// Rate limits as a password-guessing script and a flooding client meet them.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { LIMITS } from '../../src/http/rate-limits.js'
import { USER_LIMITS } from '../../src/limits.js'
import { API, startTestApp, type TestApi } from '../helpers/app.js'
import { roomWithRoles } from '../helpers/chat.js'
import { connect } from '../helpers/ws.js'

// Limits count per client address, and every test here comes from 127.0.0.1: each test that
// exhausts one gets a deployment of its own.
let api: TestApi
let guessed: TestApi
let connecting: TestApi
beforeAll(async () => {
  // One after another: three databases booting at once on a busy machine slow every start-up.
  api = await startTestApp({ env: { RATE_LIMITS: 'on' } })
  guessed = await startTestApp({ env: { RATE_LIMITS: 'on' } })
  connecting = await startTestApp({ env: { RATE_LIMITS: 'on' } })
})
afterAll(() => Promise.all([api?.close(), guessed?.close(), connecting?.close()]))

const wrongLogin = (target: TestApi, email: string) =>
  target.post(`${API}/auth/login`, { email, password: 'not-the-password' })

test('40 wrong logins in a row from one address meet a 429 with Retry-After and a detail', async () => {
  // Each guess names another account, so the per-account limit (test/auth/login-limits.test.ts) stays
  // out of it: what stops this guesser is the per-address limit.
  const statuses: number[] = []
  let limited: Awaited<ReturnType<typeof wrongLogin>> | undefined
  for (let i = 0; i < 40; i++) {
    const res = await wrongLogin(guessed, `victim-${i}-${Date.now()}@example.com`)
    statuses.push(res.status)
    if (res.status === 429) limited ??= res
  }
  expect(statuses).toContain(429)
  expect(statuses.slice(0, LIMITS.login.max).every((s) => s === 401)).toBe(true)
  expect(limited).toBeDefined()
  expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0)
  expect(await limited?.json()).toMatchObject({
    code: 'rate_limited',
    detail: expect.stringMatching(/try again/),
  })
})

test('sends are limited per user, over HTTP and the WebSocket together', async () => {
  const room = await roomWithRoles(api, 'public')
  const url = `${API}/chat/sessions/${room.id}/messages`
  const results = []
  for (let i = 0; i < USER_LIMITS.send.points; i++)
    results.push((await api.post(url, { content: `m${i}` }, room.member.token)).status)
  expect(results.every((s) => s === 201)).toBe(true)
  const over = await api.post(url, { content: 'one too many' }, room.member.token)
  expect(over.status).toBe(429)
  expect(over.headers.get('retry-after')).not.toBeNull()
  // The same user over the WebSocket is over the same limit.
  const socket = await connect(api, { token: room.member.token, sessionId: room.id })
  socket.send({ type: 'chat_message', session_id: room.id, content: 'via socket', client_msg_id: 'ws-1' })
  const error = await socket.nextOf('error')
  expect(error).toMatchObject({ code: 'rate_limited', client_msg_id: 'ws-1' })
  // Another user of the room is not limited.
  expect((await api.post(url, { content: 'hello' }, room.admin.token)).status).toBe(201)
  await socket.close()
})

test('WebSocket connects are limited per address', async () => {
  const api = connecting
  const user = await api.signUp()
  const statuses: (number | 'open')[] = []
  for (let i = 0; i < LIMITS.wsConnect.max + 2; i++) {
    try {
      const socket = await connect(api, { token: user.token })
      statuses.push('open')
      socket.ws.terminate()
    } catch (error) {
      statuses.push(Number(/(\d{3})/.exec(String(error))?.[1]))
    }
  }
  expect(statuses.slice(0, LIMITS.wsConnect.max).every((s) => s === 'open')).toBe(true)
  expect(statuses.at(-1)).toBe(429)
})

describe('RATE_LIMITS=off', () => {
  let unlimited: TestApi
  beforeAll(async () => {
    unlimited = await startTestApp({ env: { RATE_LIMITS: 'off' } })
  })
  afterAll(() => unlimited.close())

  test('turns the limits off (for benchmarks and load tests)', async () => {
    const user = await unlimited.signUp()
    for (let i = 0; i < 45; i++) expect((await wrongLogin(unlimited, user.email)).status).toBe(401)
  })
})

describe.runIf(process.env.TEST_DB_KIND === 'postgres' && !!process.env.TEST_REDIS_URL)(
  'two instances on one Redis',
  () => {
    let a: TestApi
    let b: TestApi
    beforeAll(async () => {
      // TRUST_PROXY lets a test sign up from an address of its own, apart from the login-limit test's.
      a = await startTestApp({ env: { RATE_LIMITS: 'on', TRUST_PROXY: 'true' } })
      b = await startTestApp({ instanceOf: a, env: { RATE_LIMITS: 'on', TRUST_PROXY: 'true' } })
    })
    afterAll(async () => {
      await b.close()
      await a.close()
    })

    test('enforce one limit: logins spread over both meet a 429 at the shared count', async () => {
      await a.signUp() // its login counts too: one of the limit's attempts
      const statuses: number[] = []
      for (let i = 1; i < LIMITS.login.max; i++) {
        statuses.push((await wrongLogin(i % 2 ? a : b, `nobody-${i}-${Date.now()}@example.com`)).status)
      }
      expect(statuses).toEqual(Array(LIMITS.login.max - 1).fill(401))
      const over = await wrongLogin(b, `nobody-over-${Date.now()}@example.com`)
      expect(over.status).toBe(429)
      expect(over.headers.get('retry-after')).not.toBeNull()
    })

    test('enforce one per-user limit: searches spread over both meet a 429 at the shared count', async () => {
      const user = await a.signUp({ address: '198.18.0.1' })
      for (let i = 0; i < USER_LIMITS.search.points; i++) {
        expect((await (i % 2 ? a : b).get(`${API}/chat/search?q=x${i}`, user.token)).status).toBe(200)
      }
      expect((await a.get(`${API}/chat/search?q=over`, user.token)).status).toBe(429)
      expect((await b.get(`${API}/chat/search?q=over`, user.token)).status).toBe(429)
    })
  },
)
