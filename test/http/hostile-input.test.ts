// Hostile input: whatever a client sends, the answer is a 4xx with {detail, code}, never a 500 and never
// a crash; bodies are typed strictly (query strings and paths are still coerced); a socket outlives any
// bad frame. Ends with a storm of odd requests and frames generated from the lists below.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom } from '../helpers/chat.js'
import { type Frame, socketsClosedAfterEach } from '../helpers/ws.js'

/** The JSON nesting limit of bodies and frames, as docs/api.md states it. */
const DEPTH_LIMIT = 32
/** Over 64 KiB a frame closes the socket (1009), so deep frames stay under it. */
const MAX_FRAME_CHARS = 60_000

let api: TestApi
let user: TestUser
let roomId: number
beforeAll(async () => {
  api = await startTestApp()
  user = await api.signUp()
  roomId = (await createRoom(api, user, { title: 'Hostile' })).id
})
afterAll(() => api?.close())

const sockets = socketsClosedAfterEach(() => api)

interface ErrorBody {
  detail: string
  code: string
  errors?: { path: string; message: string }[]
}

/** Why a response breaks the contract for bad input (a 5xx, or a 4xx without detail and code), or null. */
async function contractBreach(res: Response): Promise<string | null> {
  const text = await res.text()
  if (res.status >= 500) return `${res.status} ${text.slice(0, 200)}`
  if (res.status < 400) return null
  let body: Partial<ErrorBody>
  try {
    body = JSON.parse(text)
  } catch {
    return `${res.status} is not JSON: ${text.slice(0, 200)}`
  }
  if (typeof body.detail !== 'string' || body.detail === '' || typeof body.code !== 'string' || !body.code) {
    return `${res.status} lacks detail or code: ${text.slice(0, 200)}`
  }
  return null
}

async function expectInvalid(res: Response): Promise<ErrorBody> {
  const text = await res.text()
  expect(res.status, text).toBe(422)
  const body = JSON.parse(text) as ErrorBody
  expect(body).toMatchObject({ code: 'invalid', detail: expect.any(String) })
  expect(body.errors?.length).toBeGreaterThan(0)
  for (const e of body.errors ?? [])
    expect(e).toEqual({ path: expect.any(String), message: expect.any(String) })
  return body
}

const json = { 'content-type': 'application/json' }
/** `depth` arrays around `inner`. */
const nestedArrays = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
/** `depth` objects around `inner`. */
const nestedObjects = (depth: number, inner = '1') => `${'{"a":'.repeat(depth)}${inner}${'}'.repeat(depth)}`

describe('JSON nesting is bounded', () => {
  test.each([
    ['arrays', nestedArrays(100_000, '"\\u0000"')],
    ['objects', nestedObjects(100_000, '"\\u0000"')],
  ])('a login body of %s nested 100,000 deep with a NUL escape is 422 naming the limit', async (_, raw) => {
    const res = await api.request('POST', `${API}/auth/login`, { raw, headers: json })
    const body = await expectInvalid(res)
    expect(body.detail).toContain(String(DEPTH_LIMIT))
    expect(body.errors).toEqual([{ path: 'body', message: expect.stringContaining(String(DEPTH_LIMIT)) }])
  })

  test(`a body ${DEPTH_LIMIT} levels deep is read; one level more is 422`, async () => {
    const body = (depth: number) => `{"title": "Deep", "extra": ${nestedArrays(depth - 1)}}`
    const atLimit = await api.request('POST', `${API}/chat/sessions`, {
      raw: body(DEPTH_LIMIT),
      token: user.token,
      headers: json,
    })
    expect(atLimit.status, await atLimit.clone().text()).toBe(201)
    const over = await api.request('POST', `${API}/chat/sessions`, {
      raw: body(DEPTH_LIMIT + 1),
      token: user.token,
      headers: json,
    })
    expect((await expectInvalid(over)).detail).toContain(String(DEPTH_LIMIT))
  })
})

describe('numbers out of range in a path or query are 422, never 500', () => {
  const ROOM = '{room}'
  test.each([
    ['GET', '/chat/sessions/1e309', 'params.id'],
    ['GET', '/chat/sessions/Infinity', 'params.id'],
    ['GET', '/chat/sessions/-Infinity', 'params.id'],
    ['PUT', '/chat/sessions/1e309', 'params.id'],
    ['GET', '/chat/sessions?skip=1e20', 'querystring.skip'],
    ['GET', '/chat/sessions?skip=9223372036854775808', 'querystring.skip'],
    ['GET', '/chat/sessions?limit=1e309', 'querystring.limit'],
    ['GET', '/chat/sessions/public?skip=1e20', 'querystring.skip'],
    ['GET', '/chat/sessions/public?skip=9223372036854775808', 'querystring.skip'],
    ['GET', '/chat/sessions/public?limit=1e309', 'querystring.limit'],
    ['GET', `/chat/sessions/${ROOM}/messages?skip=1e20`, 'querystring.skip'],
    ['GET', `/chat/sessions/${ROOM}/messages?skip=9223372036854775808`, 'querystring.skip'],
    ['GET', `/chat/sessions/${ROOM}/messages?limit=1e309`, 'querystring.limit'],
    ['GET', `/chat/sessions/${ROOM}/messages?before_seq=1e309`, 'querystring.before_seq'],
    ['GET', `/chat/sessions/${ROOM}/messages?after_seq=Infinity`, 'querystring.after_seq'],
    ['PATCH', `/chat/sessions/${ROOM}/messages/1e309`, 'params.message_id'],
    ['DELETE', `/chat/sessions/${ROOM}/messages/Infinity`, 'params.message_id'],
    ['PUT', `/chat/sessions/${ROOM}/messages/1e309/reactions/ok`, 'params.message_id'],
    ['DELETE', `/chat/sessions/${ROOM}/participants/1e309`, 'params.user_id'],
    ['GET', '/chat/search?q=hello&before_id=1e309', 'querystring.before_id'],
    ['GET', '/chat/search?q=hello&session_id=Infinity', 'querystring.session_id'],
  ])('%s %s', async (method, path, field) => {
    const res = await api.request(method, API + path.replace(ROOM, String(roomId)), {
      token: user.token,
      body: method === 'PATCH' ? { content: 'edited' } : undefined,
    })
    const body = await expectInvalid(res)
    expect(body.errors?.map((e) => e.path)).toContain(field)
  })
})

describe('bodies are typed strictly; query strings and paths are still coerced', () => {
  test('PUT {"title": 12} is 422 and the title stays', async () => {
    const res = await api.put(`${API}/chat/sessions/${roomId}`, { title: 12 }, user.token)
    const body = await expectInvalid(res)
    expect(body.errors).toContainEqual({ path: 'body.title', message: 'must be string' })
    expect((await (await api.get(`${API}/chat/sessions/${roomId}`, user.token)).json()).title).toBe('Hostile')
  })

  test.each([
    ['POST', '/chat/sessions', { title: true }, 'body.title'],
    ['POST', '/chat/sessions', { title: ['Room'] }, 'body.title'],
    ['POST', '/chat/sessions', { title: 'Room', max_participants: '10' }, 'body.max_participants'],
    ['POST', '/chat/sessions/{room}/messages', { content: 42 }, 'body.content'],
    ['POST', '/chat/sessions/{room}/read', { seq: '0' }, 'body.seq'],
    ['POST', '/chat/sessions/{room}/invite', { user_id: '1' }, 'body.user_id'],
    ['PUT', '/users/me', { first_name: 7 }, 'body.first_name'],
    ['POST', '/auth/login', { email: 'a@example.com', password: 12345678 }, 'body.password'],
  ])('%s %s %j is 422', async (method, path, payload, field) => {
    const res = await api.request(method, API + path.replace('{room}', String(roomId)), {
      body: payload,
      token: user.token,
    })
    expect((await expectInvalid(res)).errors?.map((e) => e.path)).toContain(field)
  })

  test('null stays null in a body: a description and a name can be cleared', async () => {
    const room = await api.put(`${API}/chat/sessions/${roomId}`, { description: null }, user.token)
    expect(room.status).toBe(200)
    expect((await room.json()).description).toBeNull()
    const me = await api.put(`${API}/users/me`, { first_name: null }, user.token)
    expect(me.status).toBe(200)
    expect((await me.json()).first_name).toBeNull()
  })

  test('the login form, all strings, still logs in', async () => {
    const form = new URLSearchParams({
      username: user.email,
      password: user.password,
      grant_type: 'password',
    })
    const res = await api.request('POST', `${API}/auth/login`, {
      raw: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(200)
    expect((await res.json()).token_type).toBe('bearer')
  })

  test('query strings and path parameters are still read as numbers and booleans', async () => {
    const res = await api.get(`${API}/chat/sessions/${roomId}/messages?limit=1&after_seq=0`, user.token)
    expect(res.status).toBe(200)
    const participants = await api.get(`${API}/chat/sessions/${roomId}/participants`, user.token)
    expect(participants.status).toBe(200)
  })
})

describe('WebSocket frames', () => {
  const online = () => sockets.online(user)

  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'a frame of type %s is unknown_type, not an internal error',
    async (type) => {
      const socket = await online()
      socket.send({ type })
      expect(await socket.nextOf('error')).toMatchObject({ code: 'unknown_type', detail: expect.any(String) })
    },
  )

  test(`a frame nested deeper than ${DEPTH_LIMIT} levels is an error frame; the socket stays open`, async () => {
    const socket = await online()
    socket.send(nestedArrays((MAX_FRAME_CHARS - 20) / 2, '"\\u0000"'))
    const error = await socket.nextOf('error')
    expect(error.code).toBe('invalid_frame')
    expect(error.detail).toContain(String(DEPTH_LIMIT))
    socket.send({ type: 'ping' })
    await socket.nextOf('pong')
  })
})

describe('a storm of odd requests and frames', () => {
  /** Odd spellings of a number, for every integer in a path or a query. */
  const ODD_NUMBERS = [
    '0',
    '-1',
    '1.5',
    '1e3',
    '1e20',
    '1e309',
    '-1e309',
    'Infinity',
    'NaN',
    '0x1F',
    '9007199254740993',
    '9223372036854775808',
    '2147483648',
    '%00',
    '%FF',
    '%C0%80',
    '%D9%A1%D9%A2', // Arabic-Indic digits
    '%20',
    'true',
    '%5B%5D',
    'x'.repeat(2000),
  ]
  /** Routes with an integer in the path or query; N is replaced by each odd number, R by a real room. */
  const NUMBER_ROUTES = [
    'GET /chat/sessions/N',
    'PUT /chat/sessions/N',
    'DELETE /chat/sessions/N',
    'POST /chat/sessions/N/join',
    'POST /chat/sessions/N/messages',
    'GET /chat/sessions/N/participants',
    'GET /chat/sessions/R/messages?skip=N&limit=N',
    'GET /chat/sessions/R/messages?before_seq=N&after_seq=N',
    'PATCH /chat/sessions/R/messages/N',
    'PUT /chat/sessions/R/messages/N/reactions/%F0%9F%91%8D',
    'PUT /chat/sessions/R/participants/N/role',
    'DELETE /chat/sessions/R/participants/N?ban=N',
    'GET /chat/sessions?skip=N&limit=N',
    'GET /chat/sessions/public?skip=N&limit=N',
    'GET /chat/search?q=hello&before_id=N&session_id=N',
  ]
  /** JSON (and not quite JSON) texts sent to every route that takes a body. */
  const ODD_BODIES = [
    '{',
    '{"title": "x",}',
    "{'title': 'x'}",
    '[]',
    'null',
    '0',
    '"text"',
    '1e309',
    '{"title": 12, "content": 12, "email": 12, "seq": "1", "role": 1}',
    '{"title": {"$ne": null}, "content": ["a"], "user_id": "1"}',
    '{"title": null, "content": null, "refresh_token": null, "seq": null}',
    '{"title": "\\u0000", "content": "a\\u0000b", "email": "\\u0000@example.com"}',
    '{"title": "\\ud800", "content": "\\udfff", "username": "\\ud83d"}',
    '{"title": "ok", "max_participants": 1e309, "seq": 1e309, "user_id": 1e309}',
    '{"max_participants": -1e400, "seq": 9223372036854775808, "user_id": 9223372036854775808}',
    '{"__proto__": {"is_admin": true}, "title": "proto"}',
    '{"constructor": {"prototype": {"is_admin": true}}}',
    `{"title": "\u202e\u200b\ufeff", "content": "${'🧨'.repeat(3000)}"}`,
    `{"title": "${'x'.repeat(300_000)}"}`,
    nestedArrays(DEPTH_LIMIT + 1),
    nestedObjects(100_000, '"\\u0000"'),
    `{"a": ${nestedObjects(DEPTH_LIMIT, '1')}}`,
  ]
  const BODY_ROUTES = [
    'POST /auth/register',
    'POST /auth/login',
    'POST /auth/refresh',
    'POST /auth/logout',
    'POST /chat/sessions',
    'PUT /chat/sessions/R',
    'POST /chat/sessions/R/messages',
    'POST /chat/sessions/R/invite',
    'POST /chat/sessions/R/read',
    'PUT /users/me',
  ]
  const MEDIA_TYPES = [
    'text/plain',
    'application/xml',
    'multipart/form-data; boundary=x',
    'application/json; charset=latin1',
    'application/vnd.api+json',
    'application/octet-stream',
    '*/*',
    'json',
    'application/json, text/plain',
    '',
  ]
  const ODD_PATHS = [
    'GET /%00',
    'GET /api/v1/%2e%2e/health',
    'GET /api/v1/%D1%87%D0%B0%D1%82',
    'GET /api/v1/chat/sessions/%E2%80%AE%F0%9F%98%80',
    'GET //api/v1/users/me',
    'GET /api/v1/users/me;x=1',
    'GET /api/v1/users/me%2F',
    `GET /api/v1/${'x'.repeat(8000)}`,
    `GET /api/v1/chat/sessions/${'9'.repeat(5000)}`,
    `PUT /api/v1/chat/sessions/R/messages/1/reactions/${'%F0%9F%98%80'.repeat(40)}`,
    'PUT /api/v1/chat/sessions/R/messages/1/reactions/%E2%80%8B',
    'PUT /api/v1/chat/sessions/R/messages/1/reactions/%20',
    'PUT /api/v1/chat/sessions/R/messages/1/reactions/%',
    `GET /api/v1/chat/sessions/public?search=${'a'.repeat(20_000)}`,
    `GET /api/v1/chat/search?q=${'a'.repeat(12_000)}`,
    'GET /api/v1/chat/sessions/public?search=%00',
    'GET /api/v1/chat/search?q=%00',
    'GET /api/v1/chat/search?q=%22%22%22%20-%20or%20%28',
    'GET /api/v1/chat/sessions?skip=1&skip=2',
    'GET /api/v1/chat/sessions?skip[]=1&limit[0]=2',
    'GET /api/v1/chat/sessions/public?search=a&search=b',
    'GET /api/v1/chat/search?q=a&q=b',
    'DELETE /api/v1/chat/sessions/R/participants/2?ban=true&ban=false',
    'GET /api/v1/chat/sessions?__proto__=1&constructor=x',
    'POST /api/v1/auth/refresh?refresh_token=%00',
    `POST /api/v1/auth/refresh?refresh_token=${'x'.repeat(5000)}`,
    'GET /ws',
    'GET /ws?token=x',
  ]
  const WRONG_METHODS = ['PATCH', 'DELETE', 'PUT', 'POST', 'OPTIONS', 'PROPFIND', 'BREW']
  // Not /users/me: DELETE there is real, and would deactivate the storm's user.
  const WRONG_METHOD_PATHS = ['/api/v1/chat/sessions', '/api/v1/auth/login', '/health', '/api/v1/chat/search']
  const ODD_AUTHORIZATIONS = [
    'Bearer',
    'Bearer ',
    `Bearer ${'x'.repeat(5000)}`,
    'Basic YTpi',
    'Bearer a.b.c',
    'bearer\u00e9',
  ]

  interface Attempt {
    method: string
    path: string
    raw?: string
    headers?: Record<string, string>
    /** Send the storm user's access token. */
    token?: boolean
  }

  function httpAttempts(): Attempt[] {
    const attempts: Attempt[] = []
    const fill = (path: string, n = '') => path.replaceAll('R', String(roomId)).replaceAll('N', n)
    const split = (route: string) => route.split(' ') as [string, string]
    for (const route of NUMBER_ROUTES) {
      const [method, path] = split(route)
      for (const n of ODD_NUMBERS) {
        const withBody = method !== 'GET' && method !== 'DELETE'
        attempts.push({
          method,
          path: API + fill(path, n),
          token: true,
          ...(withBody ? { raw: '{}', headers: json } : {}),
        })
      }
      attempts.push({ method, path: API + fill(path, '1') }) // no token
    }
    for (const route of BODY_ROUTES) {
      const [method, path] = split(route)
      for (const raw of ODD_BODIES)
        attempts.push({ method, path: API + fill(path), raw, headers: json, token: true })
      attempts.push({ method, path: API + fill(path), raw: '{"title": 12}', headers: json }) // no token
    }
    for (const type of MEDIA_TYPES) {
      const raw = '{"title": "Media"}'
      attempts.push({
        method: 'POST',
        path: `${API}/chat/sessions`,
        raw,
        headers: { 'content-type': type },
        token: true,
      })
      attempts.push({ method: 'POST', path: `${API}/auth/login`, raw, headers: { 'content-type': type } })
    }
    for (const route of ODD_PATHS) {
      const [method, path] = split(route)
      attempts.push({ method, path: path.replace('/R/', `/${roomId}/`), token: true })
      attempts.push({ method, path: path.replace('/R/', `/${roomId}/`) })
    }
    for (const path of WRONG_METHOD_PATHS) {
      for (const method of WRONG_METHODS)
        attempts.push({ method, path, token: true, raw: '{}', headers: json })
    }
    for (const authorization of ODD_AUTHORIZATIONS) {
      attempts.push({ method: 'GET', path: `${API}/users/me`, headers: { authorization } })
    }
    attempts.push({
      method: 'GET',
      path: `${API}/users/me`,
      headers: { authorization: `Bearer ${user.refreshToken}` },
    })
    return attempts
  }

  test('about 500 odd HTTP requests: no 5xx, every 4xx has detail and code, and the server still answers', async () => {
    const attempts = httpAttempts()
    expect(attempts.length).toBeGreaterThan(450)
    const breaches: string[] = []
    // Ten at a time: concurrency without opening hundreds of connections at once.
    for (let i = 0; i < attempts.length; i += 10) {
      await Promise.all(
        attempts.slice(i, i + 10).map(async ({ method, path, raw, headers, token }) => {
          const res = await api.request(method, path, { raw, headers, token: token ? user.token : undefined })
          const breach = await contractBreach(res)
          if (breach) breaches.push(`${method} ${path.slice(0, 120)} ${raw?.slice(0, 80) ?? ''} -> ${breach}`)
        }),
      )
    }
    expect(breaches).toEqual([])
    expect((await api.get('/health')).status).toBe(200)
  })

  /** Frames that must each get exactly one error frame on a socket opened without a room. */
  function badFrames(): string[] {
    const frames: string[] = [
      // Not JSON, or not an object.
      'hello',
      '{',
      '{"type": ',
      "{'type': 'ping'}",
      '',
      ' ',
      'NaN',
      '\u0000',
      '[]',
      '[{"type": "ping"}]',
      'null',
      '1',
      '1e309',
      '"ping"',
      'true',
      // Too deep, with and without a NUL.
      nestedArrays(DEPTH_LIMIT + 1),
      nestedObjects(DEPTH_LIMIT + 1, '{"type": "ping"}'),
      nestedArrays(1000),
      nestedArrays((MAX_FRAME_CHARS - 20) / 2, '"\\u0000"'),
      `{"type": "chat_message", "session_id": 1, "content": ${nestedArrays(DEPTH_LIMIT)}}`,
      // NUL anywhere.
      '{"type": "ping", "x": "\\u0000"}',
      '{"type": "chat_message", "session_id": 1, "content": "a\\u0000"}',
      '{"type": "ping\\u0000"}',
      // Missing fields on a socket opened without a room.
      '{"content": "hi"}',
      '{"type": "chat_message", "content": "hi"}',
      '{"type": "typing", "is_typing": true}',
      '{"type": "subscribe"}',
      '{"__proto__": {"type": "ping"}}',
    ]
    const ODD_TYPES = [
      'constructor',
      '__proto__',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'isPrototypeOf',
      'propertyIsEnumerable',
      'toLocaleString',
      '__defineGetter__',
      '__lookupSetter__',
      'PING',
      'chat-message',
      ' ping',
      '',
      'x'.repeat(10_000),
    ]
    for (const type of ODD_TYPES) frames.push(JSON.stringify({ type, session_id: 1, content: 'x' }))
    for (const type of [1, null, [], {}, true, 1e308]) frames.push(JSON.stringify({ type }))
    const ODD_IDS = [
      ...['"1"', '"1e3"', '"abc"', '"Infinity"', 'null', '[]', '{}', 'true'],
      ...['1.5', '0.1', '1e-7', '-1', '0', '2147483648', '1e309', '-1e309', '9223372036854775808'],
    ]
    for (const type of ['chat_message', 'typing', 'subscribe', 'unsubscribe', 'ai_stop']) {
      for (const id of ODD_IDS) {
        frames.push(`{"type": "${type}", "session_id": ${id}, "content": "x", "is_typing": true}`)
      }
    }
    const ODD_CONTENT = ['12', 'null', '""', '"   "', `"${'x'.repeat(10_001)}"`, '["a"]', '{}', '1e309']
    for (const content of ODD_CONTENT)
      frames.push(`{"type": "chat_message", "session_id": 1, "content": ${content}}`)
    for (const id of ['12', '""', `"${'x'.repeat(101)}"`, 'null', '{}']) {
      frames.push(`{"type": "chat_message", "session_id": 1, "content": "x", "client_msg_id": ${id}}`)
    }
    for (const flag of ['"yes"', '1', 'null', '[]'])
      frames.push(`{"type": "typing", "session_id": 1, "is_typing": ${flag}}`)
    for (const seq of ['-1', '1.5', '1e309', '"5"', '9007199254740992', '[]']) {
      frames.push(`{"type": "subscribe", "session_id": 1, "after_seq": ${seq}}`)
    }
    // Well formed, but for a room that does not exist or is not subscribed: errors from the services.
    const NO_ROOM = 2_147_483_647
    for (let i = 0; i < 8; i++) {
      frames.push(JSON.stringify({ type: 'chat_message', session_id: NO_ROOM, content: `hi ${i}` }))
      frames.push(JSON.stringify({ type: 'subscribe', session_id: NO_ROOM }))
      frames.push(JSON.stringify({ type: 'typing', session_id: NO_ROOM, is_typing: true }))
      frames.push(JSON.stringify({ type: 'ai_stop', session_id: NO_ROOM }))
    }
    return frames
  }

  test('about 200 bad frames on one socket: each gets an error frame that is not internal; the socket stays open', async () => {
    const frames = badFrames()
    expect(frames.length).toBeGreaterThan(180)
    for (const frame of frames) expect(frame.length).toBeLessThan(MAX_FRAME_CHARS)
    const socket = await sockets.online(await api.signUp())
    for (const frame of frames) socket.send(frame)
    socket.send({ type: 'ping' })
    await socket.nextOf('pong', undefined, 20_000)
    const errors = socket.frames.filter((f: Frame) => f.type === 'error')
    expect(errors.filter((e) => e.code === 'internal' || typeof e.detail !== 'string')).toEqual([])
    expect(errors).toHaveLength(frames.length)
    expect(socket.ws.readyState).toBe(socket.ws.OPEN)
  })
})
