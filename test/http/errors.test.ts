// The error contract: every failure is {detail, code}; 422 adds errors: [{path, message}]; 401 asks for a Bearer token.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi } from '../helpers/app.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api?.close())

interface ErrorBody {
  detail: string
  code: string
  errors?: { path: string; message: string }[]
}

/** Asserts the status and the {detail, code} shape, and returns the body. */
async function expectError(res: Response, status: number, code?: string): Promise<ErrorBody> {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = JSON.parse(text) as ErrorBody
  expect(typeof body.detail).toBe('string')
  expect(body.detail.length).toBeGreaterThan(0)
  expect(typeof body.code).toBe('string')
  expect(body.code.length).toBeGreaterThan(0)
  if (code) expect(body.code).toBe(code)
  return body
}

/** A valid registration body with fresh email and username; override one field to make it invalid. */
function registration(overrides: Record<string, unknown> = {}) {
  const tag = randomBytes(5).toString('hex')
  return {
    email: `u-${tag}@example.com`,
    username: `u_${tag}`,
    password: 'correct horse battery',
    ...overrides,
  }
}

test('an unknown route is 404 not_found', async () => {
  const body = await expectError(await api.get(`${API}/no-such-route`), 404, 'not_found')
  expect(body.errors).toBeUndefined()
})

test('a 404 detail does not echo the query string', async () => {
  const body = await expectError(await api.get(`${API}/no-such-route?token=SECRETVALUE`), 404, 'not_found')
  expect(body.detail).not.toContain('SECRETVALUE')
})

test('malformed JSON is 422 invalid with an errors array', async () => {
  const res = await api.request('POST', `${API}/auth/login`, {
    raw: '{"email": "ada@example.com", "password": ',
    headers: { 'content-type': 'application/json' },
  })
  const body = await expectError(res, 422, 'invalid')
  expect(Array.isArray(body.errors)).toBe(true)
  expect(body.errors?.length).toBeGreaterThan(0)
  for (const e of body.errors ?? []) {
    expect(typeof e.path).toBe('string')
    expect(typeof e.message).toBe('string')
  }
})

describe('validation failures are 422 with errors naming the field', () => {
  test.each([
    ['a bad email', { email: 'not-an-email' }, 'body.email'],
    ['a short password', { password: 'short' }, 'body.password'],
    ['a username with a space', { username: 'ada lovelace' }, 'body.username'],
    ['a username too short', { username: 'ab' }, 'body.username'],
    ['a password of 37 é (74 bytes in UTF-8)', { password: 'é'.repeat(37) }, 'body.password'],
    ['a missing email', { email: undefined }, 'body.email'],
  ])('%s', async (_name, overrides, path) => {
    const res = await api.post(`${API}/auth/register`, registration(overrides))
    const body = await expectError(res, 422, 'invalid')
    expect(body.errors).toBeDefined()
    expect(body.errors?.length).toBeGreaterThan(0)
    expect(body.errors?.map((e) => e.path)).toContain(path)
    for (const e of body.errors ?? []) expect(typeof e.message).toBe('string')
  })

  test('the byte limit is 72 bytes, not 72 characters: 36 é (72 bytes) is accepted', async () => {
    const res = await api.post(`${API}/auth/register`, registration({ password: 'é'.repeat(36) }))
    expect(res.status, await res.clone().text()).toBe(201)
  })

  test('the 74-byte password error says it is about bytes', async () => {
    const res = await api.post(`${API}/auth/register`, registration({ password: 'é'.repeat(37) }))
    const body = await expectError(res, 422, 'invalid')
    const error = body.errors?.find((e) => e.path === 'body.password')
    expect(error?.message).toMatch(/72 bytes/)
  })
})

test('a text/plain body is 415 with {detail, code}', async () => {
  const res = await api.request('POST', `${API}/auth/register`, {
    raw: JSON.stringify(registration()),
    headers: { 'content-type': 'text/plain' },
  })
  await expectError(res, 415)
})

test('an unknown media type is 415 with {detail, code}', async () => {
  const res = await api.request('POST', `${API}/auth/register`, {
    raw: '<user/>',
    headers: { 'content-type': 'application/xml' },
  })
  await expectError(res, 415)
})

test('a body over 1 MiB is 413 with {detail, code}', async () => {
  const res = await api.request('POST', `${API}/auth/register`, {
    raw: JSON.stringify(registration({ first_name: 'x'.repeat(1024 * 1024) })),
    headers: { 'content-type': 'application/json' },
  })
  await expectError(res, 413)
})

describe('401 carries WWW-Authenticate: Bearer', () => {
  test('GET /users/me without a token', async () => {
    const res = await api.get(`${API}/users/me`)
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    await expectError(res, 401, 'unauthenticated')
  })

  test('GET /users/me with a token that is not a JWT', async () => {
    const res = await api.get(`${API}/users/me`, 'not-a-jwt')
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    await expectError(res, 401, 'unauthenticated')
  })

  test('a wrong password at login', async () => {
    const user = await api.signUp()
    const res = await api.post(`${API}/auth/login`, { email: user.email, password: 'wrong password' })
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    await expectError(res, 401, 'unauthenticated')
  })

  test('a 404 or 422 does not carry it', async () => {
    const res = await api.get(`${API}/no-such-route`)
    expect(res.headers.get('www-authenticate')).toBeNull()
    await expectError(res, 404)
  })
})

test('every error body has a string detail and a string code', async () => {
  const user = await api.signUp()
  const failures: [string, Promise<Response>][] = [
    ['unknown route', api.get('/nope')],
    ['wrong method', api.request('PATCH', `${API}/users/me`, { token: user.token })],
    ['no token', api.delete(`${API}/users/me`)],
    ['bad login', api.post(`${API}/auth/login`, { email: user.email, password: 'nope' })],
    ['duplicate', api.post(`${API}/auth/register`, registration({ email: user.email }))],
    ['invalid body', api.post(`${API}/auth/logout`, {})],
    ['bad refresh', api.post(`${API}/auth/refresh`, { refresh_token: 'garbage' })],
  ]
  for (const [name, pending] of failures) {
    const res = await pending
    const text = await res.text()
    expect(res.status, `${name}: ${text}`).toBeGreaterThanOrEqual(400)
    const body = JSON.parse(text) as Record<string, unknown>
    expect(typeof body.detail, name).toBe('string')
    expect(typeof body.code, name).toBe('string')
  }
})

test('a malformed URL (bad percent-encoding) is 422 in the project shape, not Fastify’s own', async () => {
  const res = await api.request('PUT', `${API}/chat/sessions/1/messages/1/reactions/%FF`)
  expect(res.status).toBe(422)
  expect(await res.json()).toMatchObject({ code: 'invalid', detail: expect.any(String) })
})

describe('a 422’s detail is a sentence naming the field by its name, not the schema’s words', () => {
  test('a username too short: the sentence in detail, and errors as before, for programs', async () => {
    const res = await api.post(`${API}/auth/register`, registration({ username: 'ab' }))
    const body = await expectError(res, 422, 'invalid')
    expect(body.detail).toBe('username must be at least 3 characters long')
    expect(body.errors).toEqual([{ path: 'body.username', message: 'must NOT have fewer than 3 characters' }])
  })

  test.each([
    ['a username too long', { username: 'a'.repeat(51) }, 'username must be at most 50 characters long'],
    [
      'a username with a space',
      { username: 'ada lovelace' },
      'username may contain only letters, digits, dots, underscores and hyphens',
    ],
    ['a missing email', { email: undefined }, 'email is required'],
    ['a bad email', { email: 'not-an-email' }, 'email must be a valid email address'],
    [
      'a password of 37 é (74 bytes in UTF-8)',
      { password: 'é'.repeat(37) },
      'password must be at most 72 bytes long in UTF-8 (an accented letter takes 2, an emoji 4)',
    ],
    ['a first name that is a number', { first_name: 7 }, 'first_name must be a string or null'],
  ])('sign-up with %s', async (_name, overrides, detail) => {
    const body = await expectError(await api.post(`${API}/auth/register`, registration(overrides)), 422)
    expect(body.detail).toBe(detail)
  })

  test.each([
    ['an empty title', { title: '' }, 'title must not be empty'],
    ['a blank title', { title: '   ' }, 'title must not be blank'],
    ['a title that is a number', { title: 12 }, 'title must be a string'],
    [
      'an unknown type',
      { title: 'Room', session_type: 'secret' },
      'session_type must be one of: public, invite_only, private',
    ],
    ['room for one', { title: 'Room', max_participants: 1 }, 'max_participants must be at least 2'],
  ])('a new room with %s', async (_name, payload, detail) => {
    const user = await api.signUp()
    const res = await api.post(`${API}/chat/sessions`, payload, user.token)
    expect((await expectError(res, 422)).detail).toBe(detail)
  })

  test('a path parameter out of range, or not finite', async () => {
    const user = await api.signUp()
    const zero = await expectError(await api.get(`${API}/chat/sessions/0`, user.token), 422)
    expect(zero.detail).toBe('id must be at least 1')
    const huge = await expectError(await api.get(`${API}/chat/sessions/1e309`, user.token), 422)
    expect(huge.detail).toBe('id must be a finite number')
  })
})
