// What an operator relies on: metrics, readiness, security headers, and a shutdown that tells clients.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { API, startTestApp, type TestApi } from './helpers/app.js'
import { roomWithRoles, send } from './helpers/chat.js'
import { connect } from './helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

test('/metrics exposes the series operators watch, in Prometheus text', async () => {
  const room = await roomWithRoles(api, 'public')
  const socket = await connect(api, { token: room.member.token, sessionId: room.id })
  await socket.nextOf('system_message') // subscribed: what is sent from now on reaches the socket
  await send(api, room.id, room.owner, 'counted')
  await socket.nextOf('chat_message')
  const res = await api.get('/metrics')
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
  const text = await res.text()
  for (const name of [
    'insurge_http_request_duration_seconds_bucket',
    'insurge_websocket_connections',
    'insurge_fanout_deliveries_total',
    'insurge_messages_stored_total',
    'insurge_ai_replies_total',
    'nodejs_eventloop_lag_seconds',
  ]) {
    expect(text).toContain(name)
  }
  // Routes are labelled by pattern, so one room and another are one series.
  expect(text).toContain('route="/api/v1/chat/sessions/:id/messages"')
  expect(text).toMatch(/insurge_messages_stored_total\{role="user"\} [1-9]/)
  expect(text).toMatch(/insurge_websocket_connections [1-9]/)
  expect(text).toMatch(/insurge_fanout_deliveries_total [1-9]/)
  await socket.close()
})

test('HTTP durations are one series per method, route pattern and status', async () => {
  const series = (status: number) =>
    `insurge_http_request_duration_seconds_count{method="GET",route="/api/v1/chat/sessions/:id/messages",status_code="${status}"}`
  const count = async (status: number) => {
    const line = (await (await api.get('/metrics')).text())
      .split('\n')
      .find((l) => l.startsWith(series(status)))
    return Number(line?.split(' ')[1] ?? 0)
  }
  const [ok, refused] = [await count(200), await count(401)]
  const rooms = [await roomWithRoles(api, 'public'), await roomWithRoles(api, 'public')]
  for (const room of rooms) {
    expect((await api.get(`${API}/chat/sessions/${room.id}/messages`, room.member.token)).status).toBe(200)
  }
  expect((await api.get(`${API}/chat/sessions/${rooms[0]?.id}/messages`)).status).toBe(401)
  expect(await count(200)).toBe(ok + 2)
  expect(await count(401)).toBe(refused + 1)
})

// Helmet's defaults without a Content-Security-Policy, on every kind of answer.
const SECURITY_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
}

test('/ready is 200 while serving; security headers are set on every answer', async () => {
  const res = await api.get('/ready')
  expect(res.status).toBe(200)
  expect(await res.json()).toEqual({ status: 'ready', detail: 'ready' })
  const room = await roomWithRoles(api, 'public')
  const answers = [
    res,
    await api.get(`${API}/chat/sessions/${room.id}/messages`, room.member.token),
    await api.get(`${API}/chat/sessions/${room.id}/messages`),
    await api.get('/no/such/path'),
    await api.get('/app/'),
  ]
  expect(answers.map((a) => a.status)).toEqual([200, 200, 401, 404, 200])
  for (const answer of answers) {
    const headers = Object.fromEntries(Object.keys(SECURITY_HEADERS).map((h) => [h, answer.headers.get(h)]))
    expect(headers).toEqual(SECURITY_HEADERS)
    expect(answer.headers.get('x-powered-by')).toBeNull()
  }
  // The API sends none; the web app sends its own (web/web.routes.ts).
  expect(answers.map((a) => a.headers.get('content-security-policy') !== null)).toEqual([
    false,
    false,
    false,
    false,
    true,
  ])
})

test('CORS follows ALLOWED_ORIGINS', async () => {
  const allowed = await api.request('GET', '/health', { headers: { origin: 'http://localhost:3000' } })
  expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:3000')
  const other = await api.request('GET', '/health', { headers: { origin: 'https://evil.example' } })
  expect(other.headers.get('access-control-allow-origin')).toBeNull()
})

test('shutdown: /ready turns 503, sockets get 1001, and a message sent just before is kept', async () => {
  const closing = await startTestApp()
  const room = await roomWithRoles(closing, 'public')
  const socket = await connect(closing, { token: room.member.token, sessionId: room.id })
  await socket.nextOf('system_message')
  const kept = await send(closing, room.id, room.owner, 'sent before the shutdown')
  // Keep one connection open, as a load balancer's health checker would.
  const done = closing.app.close()
  const ready = await fetch(`${closing.url}/ready`).catch(() => undefined)
  // Either the probe sees 503 or the listener is already gone; it never sees 200.
  if (ready) expect(ready.status).toBe(503)
  expect((await socket.closed).code).toBe(1001)
  await done
  expect(kept.seq).toBe(1)
  if (closing.config.REDIS_URL) {
    // The member's presence was cleared before Redis closed: nobody is left online by a shutdown.
    const redis = new Redis(closing.config.REDIS_URL)
    try {
      expect(await redis.zrange(`${closing.config.REDIS_KEY_PREFIX}:online:${room.id}`, '0', '-1')).toEqual(
        [],
      )
    } finally {
      redis.disconnect()
    }
  }
  await closing.close() // drops the test database (the app itself is already closed)
})

test('the OpenAPI document lists the probes and documents 429 on login', async () => {
  const doc = await (await api.get('/openapi.json')).json()
  expect(doc.paths['/ready']).toBeDefined()
  expect(doc.paths[`${API}/auth/login`].post.responses['429']).toBeDefined()
})
