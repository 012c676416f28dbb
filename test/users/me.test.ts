import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi } from '../helpers/app.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const unique = () => Math.random().toString(36).slice(2, 10)

describe('GET /users/me', () => {
  test('returns the caller', async () => {
    const user = await api.signUp()
    const res = await api.get(`${API}/users/me`, user.token)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({
      id: user.id,
      email: user.email,
      username: user.username,
      is_active: true,
    })
  })

  test('401 without a token', async () => {
    const res = await api.get(`${API}/users/me`)
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'unauthenticated' })
  })
})

describe('PUT /users/me', () => {
  test('updates profile fields and moves updated_at', async () => {
    const user = await api.signUp()
    const before = await (await api.get(`${API}/users/me`, user.token)).json()
    const res = await api.put(`${API}/users/me`, { first_name: 'Ada', last_name: 'Lovelace' }, user.token)
    expect(res.status).toBe(200)
    const after = await res.json()
    expect(after).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace', email: user.email })
    expect(new Date(after.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(before.updated_at).getTime())
    expect(after.created_at).toBe(before.created_at)
    const names = await (await api.put(`${API}/users/me`, { first_name: null }, user.token)).json()
    expect(names).toMatchObject({ first_name: null, last_name: 'Lovelace' })
  })

  test('changes email and username; the new email logs in', async () => {
    const user = await api.signUp()
    const tag = unique()
    const res = await api.put(
      `${API}/users/me`,
      { email: `new-${tag}@example.com`, username: `new_${tag}` },
      user.token,
    )
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ email: `new-${tag}@example.com`, username: `new_${tag}` })
    const login = await api.post(`${API}/auth/login`, {
      email: `new-${tag}@example.com`,
      password: user.password,
    })
    expect(login.status).toBe(200)
  })

  test('an email or username of another user is 409', async () => {
    const [a, b] = [await api.signUp(), await api.signUp()]
    const email = await api.put(`${API}/users/me`, { email: b.email.toUpperCase() }, a.token)
    expect(email.status).toBe(409)
    expect(await email.json()).toEqual({ detail: 'Email already registered', code: 'conflict' })
    const username = await api.put(`${API}/users/me`, { username: b.username }, a.token)
    expect(username.status).toBe(409)
    expect(await username.json()).toEqual({ detail: 'Username already taken', code: 'conflict' })
  })

  test('keeping one’s own email in another case is fine', async () => {
    const user = await api.signUp()
    const res = await api.put(`${API}/users/me`, { email: user.email.toUpperCase() }, user.token)
    expect(res.status).toBe(200)
  })

  test('renaming to a reserved username, in any case, is 422 on body.username and changes nothing', async () => {
    const user = await api.signUp()
    for (const username of ['assistant', 'SYSTEM', 'Admin', 'rOOt', 'moderator', 'Insurge']) {
      const res = await api.put(`${API}/users/me`, { username, first_name: 'Changed' }, user.token)
      expect(res.status).toBe(422)
      const error = await res.json()
      expect(error).toMatchObject({
        code: 'invalid',
        errors: [{ path: 'body.username', message: expect.any(String) }],
      })
      expect(error.detail).toMatch(/reserved/)
    }
    const me = await (await api.get(`${API}/users/me`, user.token)).json()
    expect(me).toMatchObject({ username: user.username, first_name: null })
  })

  test('bad input is 422', async () => {
    const user = await api.signUp()
    for (const body of [
      { email: 'nope' },
      { username: 'a b' },
      { password: 'short', current_password: user.password },
    ]) {
      const res = await api.put(`${API}/users/me`, body, user.token)
      expect(res.status).toBe(422)
      expect((await res.json()).code).toBe('invalid')
    }
  })

  test('a password change without current_password is 422', async () => {
    const user = await api.signUp()
    const res = await api.put(`${API}/users/me`, { password: 'a new long passphrase' }, user.token)
    expect(res.status).toBe(422)
    const body = await res.json()
    expect(body.code).toBe('invalid')
    expect(body.errors).toEqual([expect.objectContaining({ path: 'body.current_password' })])
  })

  test('a wrong current_password is 403 "Current password is incorrect" and changes nothing', async () => {
    const user = await api.signUp()
    const res = await api.put(
      `${API}/users/me`,
      { password: 'a new long passphrase', current_password: 'wrong-password', first_name: 'X' },
      user.token,
    )
    expect(res.status).toBe(403)
    expect(await res.json()).toEqual({ detail: 'Current password is incorrect', code: 'forbidden' })
    expect((await api.post(`${API}/auth/login`, { email: user.email, password: user.password })).status).toBe(
      200,
    )
    expect((await (await api.get(`${API}/users/me`, user.token)).json()).first_name).toBeNull()
  })

  test('a password change: new password logs in, old does not, every refresh token is revoked', async () => {
    const user = await api.signUp()
    const other = await (
      await api.post(`${API}/auth/login`, { email: user.email, password: user.password })
    ).json()
    const res = await api.put(
      `${API}/users/me`,
      { password: 'a new long passphrase', current_password: user.password },
      user.token,
    )
    expect(res.status).toBe(200)
    expect(Object.keys(await res.json())).not.toContain('hashed_password')
    expect((await api.post(`${API}/auth/refresh`, { refresh_token: user.refreshToken })).status).toBe(401)
    expect((await api.post(`${API}/auth/refresh`, { refresh_token: other.refresh_token })).status).toBe(401)
    expect((await api.post(`${API}/auth/login`, { email: user.email, password: user.password })).status).toBe(
      401,
    )
    const login = await api.post(`${API}/auth/login`, {
      email: user.email,
      password: 'a new long passphrase',
    })
    expect(login.status).toBe(200)
  })

  test('an empty body changes nothing', async () => {
    const user = await api.signUp()
    const res = await api.put(`${API}/users/me`, {}, user.token)
    expect(res.status).toBe(200)
    expect((await res.json()).email).toBe(user.email)
  })

  test('401 without a token, before the body is looked at', async () => {
    const res = await api.put(`${API}/users/me`, { email: 'nope' })
    expect(res.status).toBe(401)
  })
})

describe('DELETE /users/me', () => {
  test('204; then the access token is 401, refresh is 401 and login is 403', async () => {
    const user = await api.signUp()
    const res = await api.delete(`${API}/users/me`, user.token)
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    const me = await api.get(`${API}/users/me`, user.token)
    expect(me.status).toBe(401)
    expect((await api.post(`${API}/auth/refresh`, { refresh_token: user.refreshToken })).status).toBe(401)
    const login = await api.post(`${API}/auth/login`, { email: user.email, password: user.password })
    expect(login.status).toBe(403)
  })

  test('the email and username stay taken', async () => {
    const user = await api.signUp()
    await api.delete(`${API}/users/me`, user.token)
    const res = await api.post(`${API}/auth/register`, {
      email: user.email,
      username: `x_${unique()}`,
      password: 'password-123',
    })
    expect(res.status).toBe(409)
  })

  test('401 without a token', async () => {
    expect((await api.delete(`${API}/users/me`)).status).toBe(401)
  })
})
