// Token attacks: every forged, misused or stale token is refused with 401.
import { randomUUID } from 'node:crypto'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { type Forge, forgeAccessToken } from '../helpers/tokens.js'

let api: TestApi
let user: TestUser
beforeAll(async () => {
  api = await startTestApp()
  user = await api.signUp()
})
afterAll(() => api.close())

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Signs a token the way the server does, then lets the test change one thing. */
const forge = ({ secret = api.config.SECRET_KEY, ...change }: Forge & { secret?: string } = {}) =>
  forgeAccessToken(secret, user.id, change)

async function meWith(token: string) {
  return api.get(`${API}/users/me`, token)
}

test('the forge itself makes a token the server accepts (so the refusals below mean something)', async () => {
  expect((await meWith(await forge())).status).toBe(200)
})

test('tokens carry typ, sub, iat, exp, jti, iss and aud', () => {
  const access = decodeJwt(user.token)
  const refresh = decodeJwt(user.refreshToken)
  for (const claims of [access, refresh]) {
    for (const key of ['typ', 'sub', 'iat', 'exp', 'jti', 'iss', 'aud']) expect(claims).toHaveProperty(key)
  }
  expect(access.typ).toBe('access')
  expect(refresh.typ).toBe('refresh')
  // iat keeps milliseconds (revocation compares it with the instant of a logout-all); exp is whole seconds.
  expect(Number(access.exp)).toBe(
    Math.floor(Number(access.iat)) + api.config.ACCESS_TOKEN_EXPIRE_MINUTES * 60,
  )
  expect(Number(refresh.exp)).toBe(
    Math.floor(Number(refresh.iat)) + api.config.REFRESH_TOKEN_EXPIRE_DAYS * 86400,
  )
})

describe('refused as access tokens', () => {
  test.each<[string, () => Promise<string>]>([
    ['a refresh token', async () => user.refreshToken],
    [
      'a tampered payload (another sub)',
      async () => {
        const [header, , signature] = user.token.split('.')
        const payload = { ...decodeJwt(user.token), sub: String(user.id + 1) }
        return `${header}.${b64(payload)}.${signature}`
      },
    ],
    [
      'alg: none',
      async () => {
        const payload = decodeJwt(user.token)
        return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`
      },
    ],
    ['another algorithm with the same secret (HS512)', () => forge({ alg: 'HS512' })],
    ['another secret', () => forge({ secret: 'x'.repeat(64) })],
    ['expired', () => forge({ claims: { iat: 1_000_000, exp: 1_000_600 } })],
    ['the wrong audience', () => forge({ claims: { aud: 'someone-else' } })],
    ['the wrong issuer', () => forge({ claims: { iss: 'someone-else' } })],
    ['no typ claim', () => forge({ omit: ['typ'] })],
    ['no jti claim', () => forge({ omit: ['jti'] })],
    ['no exp claim', () => forge({ omit: ['exp'] })],
    ['a sub that is not a user id', () => forge({ claims: { sub: 'admin' } })],
    ['a sub of no user', () => forge({ claims: { sub: '999999' } })],
    ['garbage', async () => 'not.a.jwt'],
  ])('%s', async (_name, make) => {
    const res = await meWith(await make())
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer')
    const body = await res.json()
    expect(body.code).toBe('unauthenticated')
    expect(typeof body.detail).toBe('string')
  })

  test('an expired token says so', async () => {
    const res = await meWith(await forge({ claims: { iat: 1_000_000, exp: 1_000_600 } }))
    expect((await res.json()).detail).toBe('Token has expired')
  })

  test('no Authorization header, or not a Bearer one, is 401', async () => {
    expect((await api.get(`${API}/users/me`)).status).toBe(401)
    const basic = await api.request('GET', `${API}/users/me`, { headers: { authorization: 'Basic YTpi' } })
    expect(basic.status).toBe(401)
  })
})

describe('refused as refresh tokens', () => {
  test.each<[string, () => Promise<string>]>([
    ['an access token', async () => user.token],
    ['a forged refresh token of no family', () => forge({ claims: { typ: 'refresh', fam: randomUUID() } })],
    ['a refresh token without a family', () => forge({ claims: { typ: 'refresh' } })],
    ['an expired refresh token', () => forge({ claims: { typ: 'refresh', iat: 1_000_000, exp: 1_000_600 } })],
    [
      'a refresh token signed with another secret',
      () => forge({ secret: 'y'.repeat(64), claims: { typ: 'refresh', fam: randomUUID() } }),
    ],
  ])('%s', async (_name, make) => {
    const res = await api.post(`${API}/auth/refresh`, { refresh_token: await make() })
    expect(res.status).toBe(401)
    expect((await res.json()).code).toBe('unauthenticated')
  })
})
