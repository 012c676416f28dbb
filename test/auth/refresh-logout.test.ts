// Rotating refresh tokens: each works once, reuse revokes the family, logout ends the family.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi } from '../helpers/app.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

async function refresh(token: string) {
  return api.post(`${API}/auth/refresh`, { refresh_token: token })
}

describe('refresh', () => {
  test('returns a new working pair; the refresh token is a new one', async () => {
    const user = await api.signUp()
    const res = await refresh(user.refreshToken)
    expect(res.status).toBe(200)
    const pair = await res.json()
    expect(pair.token_type).toBe('bearer')
    expect(pair.refresh_token).not.toBe(user.refreshToken)
    expect((await api.get(`${API}/users/me`, pair.access_token)).status).toBe(200)
    expect((await refresh(pair.refresh_token)).status).toBe(200)
  })

  test('accepts the token in the query string, with no body', async () => {
    const user = await api.signUp()
    const res = await api.request(
      'POST',
      `${API}/auth/refresh?refresh_token=${encodeURIComponent(user.refreshToken)}`,
    )
    expect(res.status).toBe(200)
  })

  test('without a token is 422', async () => {
    const res = await api.post(`${API}/auth/refresh`, {})
    expect(res.status).toBe(422)
    expect((await res.json()).code).toBe('invalid')
  })

  test('a used token is refused', async () => {
    const user = await api.signUp()
    expect((await refresh(user.refreshToken)).status).toBe(200)
    const again = await refresh(user.refreshToken)
    expect(again.status).toBe(401)
  })

  test('reusing an old token revokes the whole family, including its newest token', async () => {
    const user = await api.signUp()
    const second = await (await refresh(user.refreshToken)).json()
    const third = await (await refresh(second.refresh_token)).json()
    // The first token is two rotations old: that is theft, not a race.
    const reuse = await refresh(user.refreshToken)
    expect(reuse.status).toBe(401)
    expect((await reuse.json()).detail).toMatch(/reuse/i)
    expect((await refresh(third.refresh_token)).status).toBe(401)
    // Other logins of the same user are not affected.
    const other = await api.post(`${API}/auth/login`, { email: user.email, password: user.password })
    expect((await refresh((await other.json()).refresh_token)).status).toBe(200)
  })

  test('two refreshes racing with one token: one wins, the other gets 401, the winner keeps working', async () => {
    const user = await api.signUp()
    const results = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)])
    const statuses = results.map((r) => r.status).sort()
    expect(statuses).toEqual([200, 401])
    const [winner] = results.filter((r) => r.status === 200)
    const pair = await winner?.json()
    expect((await refresh(pair.refresh_token)).status).toBe(200)
  })

  test('many refreshes racing with one token: exactly one wins', async () => {
    const user = await api.signUp()
    const results = await Promise.all(Array.from({ length: 8 }, () => refresh(user.refreshToken)))
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    expect(results.filter((r) => r.status === 401)).toHaveLength(7)
  })
})

describe('logout', () => {
  test('204, then that refresh token and its family stop working', async () => {
    const user = await api.signUp()
    const next = await (await refresh(user.refreshToken)).json()
    const res = await api.post(`${API}/auth/logout`, { refresh_token: next.refresh_token })
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    expect((await refresh(next.refresh_token)).status).toBe(401)
  })

  test('logging out twice is still 204', async () => {
    const user = await api.signUp()
    expect((await api.post(`${API}/auth/logout`, { refresh_token: user.refreshToken })).status).toBe(204)
    expect((await api.post(`${API}/auth/logout`, { refresh_token: user.refreshToken })).status).toBe(204)
  })

  test('only ends that login', async () => {
    const user = await api.signUp()
    const other = await (
      await api.post(`${API}/auth/login`, { email: user.email, password: user.password })
    ).json()
    await api.post(`${API}/auth/logout`, { refresh_token: user.refreshToken })
    expect((await refresh(other.refresh_token)).status).toBe(200)
  })

  test('an access token or garbage is 401; no token is 422', async () => {
    const user = await api.signUp()
    expect((await api.post(`${API}/auth/logout`, { refresh_token: user.token })).status).toBe(401)
    expect((await api.post(`${API}/auth/logout`, { refresh_token: 'garbage' })).status).toBe(401)
    expect((await api.post(`${API}/auth/logout`, {})).status).toBe(422)
  })

  test('logout-all ends every login of the caller and needs an access token', async () => {
    const user = await api.signUp()
    const other = await (
      await api.post(`${API}/auth/login`, { email: user.email, password: user.password })
    ).json()
    expect((await api.post(`${API}/auth/logout-all`, undefined)).status).toBe(401)
    expect((await api.post(`${API}/auth/logout-all`, undefined, user.token)).status).toBe(204)
    expect((await refresh(user.refreshToken)).status).toBe(401)
    expect((await refresh(other.refresh_token)).status).toBe(401)
    // A new login works again.
    const again = await api.post(`${API}/auth/login`, { email: user.email, password: user.password })
    expect(again.status).toBe(200)
  })
})
