import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi } from '../helpers/app.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const unique = () => Math.random().toString(36).slice(2, 10)

describe('register', () => {
  test('creates a user and returns it without any password field', async () => {
    const tag = unique()
    const res = await api.post(`${API}/auth/register`, {
      email: `Ada.${tag}@Example.com`,
      username: `ada_${tag}`,
      password: 'correct horse battery',
      first_name: 'Ada',
      last_name: 'Lovelace',
    })
    expect(res.status).toBe(201)
    const user = await res.json()
    expect(Object.keys(user).sort()).toEqual(
      [
        'created_at',
        'email',
        'first_name',
        'id',
        'is_active',
        'is_verified',
        'last_name',
        'updated_at',
        'username',
      ].sort(),
    )
    expect(user).toMatchObject({
      email: `Ada.${tag}@Example.com`,
      username: `ada_${tag}`,
      first_name: 'Ada',
      last_name: 'Lovelace',
      is_active: true,
      is_verified: false,
    })
    expect(Number.isInteger(user.id)).toBe(true)
    expect(new Date(user.created_at).toISOString()).toBe(user.created_at)
  })

  test('optional names default to null', async () => {
    const tag = unique()
    const res = await api.post(`${API}/auth/register`, {
      email: `n${tag}@example.com`,
      username: `n_${tag}`,
      password: 'password-123',
    })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ first_name: null, last_name: null })
  })

  test('a duplicate email, in any case, is 409 "Email already registered"', async () => {
    const user = await api.signUp()
    const res = await api.post(`${API}/auth/register`, {
      email: user.email.toUpperCase(),
      username: `other_${unique()}`,
      password: 'password-123',
    })
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({ detail: 'Email already registered', code: 'conflict' })
  })

  test('a duplicate username, in any case, is 409 "Username already taken"', async () => {
    const user = await api.signUp()
    const res = await api.post(`${API}/auth/register`, {
      email: `other-${unique()}@example.com`,
      username: user.username.toUpperCase(),
      password: 'password-123',
    })
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({ detail: 'Username already taken', code: 'conflict' })
  })

  test('two registrations racing for one email: one 201, one 409', async () => {
    const email = `race-${unique()}@example.com`
    const [a, b] = await Promise.all(
      ['a', 'b'].map((s) =>
        api.post(`${API}/auth/register`, {
          email,
          username: `race_${s}_${unique()}`,
          password: 'password-123',
        }),
      ),
    )
    expect([a?.status, b?.status].sort()).toEqual([201, 409])
  })

  test.each([
    ['short password', { password: 'short' }, 'body.password'],
    ['password over 72 bytes', { password: 'é'.repeat(37) }, 'body.password'],
    ['bad email', { email: 'not-an-email' }, 'body.email'],
    ['username too short', { username: 'ab' }, 'body.username'],
    ['username too long', { username: 'a'.repeat(51) }, 'body.username'],
    ['username with a space', { username: 'ada lovelace' }, 'body.username'],
    ['missing password', { password: undefined }, 'body.password'],
  ])('%s is 422 naming the field', async (_name, patch, path) => {
    const tag = unique()
    const body = { email: `v${tag}@example.com`, username: `v_${tag}`, password: 'password-123', ...patch }
    const res = await api.post(`${API}/auth/register`, body)
    expect(res.status).toBe(422)
    const error = await res.json()
    expect(error.code).toBe('invalid')
    expect(error.errors.map((e: { path: string }) => e.path)).toContain(path)
  })

  test.each(['assistant', 'System', 'ADMIN', 'root', 'Moderator', 'inSurge'])(
    'the reserved username %s is 422 on body.username, and no account is made',
    async (username) => {
      const tag = unique()
      const email = `r${tag}@example.com`
      const res = await api.post(`${API}/auth/register`, { email, username, password: 'password-123' })
      expect(res.status).toBe(422)
      const error = await res.json()
      expect(error).toMatchObject({
        code: 'invalid',
        errors: [{ path: 'body.username', message: expect.any(String) }],
      })
      expect(error.detail).toMatch(/reserved/)
      expect(error.detail).toContain(username)
      const login = await api.post(`${API}/auth/login`, { email, password: 'password-123' })
      expect(login.status).toBe(401)
    },
  )

  test('names that only contain a reserved one are free: admin_ada, assistant2, root.beer', async () => {
    for (const name of ['admin_ada', 'assistant2', 'root.beer']) {
      const tag = unique()
      const username = `${name}${tag}`.slice(0, 50)
      const res = await api.post(`${API}/auth/register`, {
        email: `f${tag}@example.com`,
        username,
        password: 'password-123',
      })
      expect(res.status).toBe(201)
    }
  })

  test('a password of exactly 72 bytes is accepted and is the whole password', async () => {
    const tag = unique()
    const password = `${'é'.repeat(35)}xy` // 70 + 2 = 72 bytes
    const email = `p${tag}@example.com`
    const res = await api.post(`${API}/auth/register`, { email, username: `p_${tag}`, password })
    expect(res.status).toBe(201)
    const ok = await api.post(`${API}/auth/login`, { email, password })
    expect(ok.status).toBe(200)
    const wrongLastByte = await api.post(`${API}/auth/login`, { email, password: `${'é'.repeat(35)}xz` })
    expect(wrongLastByte.status).toBe(401)
  })
})

describe('login', () => {
  test('returns a bearer pair with expires_in in seconds', async () => {
    const user = await api.signUp()
    const res = await api.post(`${API}/auth/login`, { email: user.email, password: user.password })
    expect(res.status).toBe(200)
    const pair = await res.json()
    expect(Object.keys(pair).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type'])
    expect(pair.token_type).toBe('bearer')
    expect(pair.expires_in).toBe(api.config.ACCESS_TOKEN_EXPIRE_MINUTES * 60)
    const me = await api.get(`${API}/users/me`, pair.access_token)
    expect(me.status).toBe(200)
    expect((await me.json()).email).toBe(user.email)
  })

  test('the email is matched whatever its case', async () => {
    const user = await api.signUp()
    const res = await api.post(`${API}/auth/login`, {
      email: user.email.toUpperCase(),
      password: user.password,
    })
    expect(res.status).toBe(200)
  })

  test('accepts the OAuth2 password form with the email as username', async () => {
    const user = await api.signUp()
    const form = new URLSearchParams({
      grant_type: 'password',
      username: user.email,
      password: user.password,
    })
    const res = await api.request('POST', `${API}/auth/login`, {
      raw: form.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(200)
    expect((await res.json()).token_type).toBe('bearer')
  })

  test('wrong password and unknown email get the same 401 answer', async () => {
    const user = await api.signUp()
    const wrong = await api.post(`${API}/auth/login`, { email: user.email, password: 'not-the-password' })
    const unknown = await api.post(`${API}/auth/login`, {
      email: `nobody-${unique()}@example.com`,
      password: 'x',
    })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    const [a, b] = [await wrong.json(), await unknown.json()]
    expect(a).toEqual({ detail: 'Incorrect email or password', code: 'unauthenticated' })
    expect(b).toEqual(a)
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer')
    expect(unknown.headers.get('www-authenticate')).toBe('Bearer')
  })

  test('a deactivated user gets 403 "Inactive user" with the right password, 401 with a wrong one', async () => {
    const user = await api.signUp()
    expect((await api.delete(`${API}/users/me`, user.token)).status).toBe(204)
    const right = await api.post(`${API}/auth/login`, { email: user.email, password: user.password })
    expect(right.status).toBe(403)
    expect(await right.json()).toEqual({ detail: 'Inactive user', code: 'forbidden' })
    const wrong = await api.post(`${API}/auth/login`, { email: user.email, password: 'not-the-password' })
    expect(wrong.status).toBe(401)
  })

  test('a form login without a password is 422', async () => {
    const res = await api.request('POST', `${API}/auth/login`, {
      raw: 'username=a%40b.c',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(422)
    expect((await res.json()).code).toBe('invalid')
  })

  test('a JSON login without an email is 422', async () => {
    const res = await api.post(`${API}/auth/login`, { password: 'x' })
    expect(res.status).toBe(422)
  })
})
