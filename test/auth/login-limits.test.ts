// The per-account login limit (DESIGN section 9): a guesser spread over many addresses is stopped, and
// the owner, from an address they logged in from before, still gets in.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { LOGIN_LIMITS } from '../../src/limits.js'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'

let api: TestApi
beforeAll(async () => {
  // Addresses come from X-Forwarded-For, as behind a proxy: one test process plays many clients.
  api = await startTestApp({ env: { RATE_LIMITS: 'on', TRUST_PROXY: 'true' } })
})
afterAll(() => api.close())

let nextAddress = 1
const freshAddress = () => `203.0.113.${nextAddress++}`

const loginFrom = (address: string, email: string, password: string) =>
  api.request('POST', `${API}/auth/login`, {
    body: { email, password },
    headers: { 'x-forwarded-for': address },
  })

async function userWithHome(): Promise<{ user: TestUser; home: string }> {
  const user = await api.signUp()
  const home = freshAddress()
  expect((await loginFrom(home, user.email, user.password)).status).toBe(200)
  return { user, home }
}

test('one address is refused after its failures for one account, before the password is checked', async () => {
  const { user } = await userWithHome()
  const guesser = freshAddress()
  for (let i = 0; i < LOGIN_LIMITS.perAddress.points; i++) {
    expect((await loginFrom(guesser, user.email, `guess-${i}`)).status).toBe(401)
  }
  // Even the right password: a guesser must not learn that it found it.
  const refused = await loginFrom(guesser, user.email, user.password)
  expect(refused.status).toBe(429)
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
  expect(await refused.json()).toEqual({
    code: 'rate_limited',
    detail: expect.stringMatching(/^Too many failed logins for this account; try again in \d+ seconds$/),
  })
  // The same address may still log in to another account.
  const other = await api.signUp()
  expect((await loginFrom(guesser, other.email, other.password)).status).toBe(200)
})

test('guesses from many addresses lock the account for new addresses, not for the owner’s', async () => {
  const { user, home } = await userWithHome()
  const statuses: number[] = []
  // Sixty guesses, from addresses that each stay under the per-address limit.
  for (let i = 0; i < 60; i++) {
    const address = `198.51.100.${Math.floor(i / (LOGIN_LIMITS.perAddress.points - 1)) + 1}`
    statuses.push((await loginFrom(address, user.email, `guess-${i}`)).status)
  }
  expect(statuses.slice(0, LOGIN_LIMITS.perAccount.points)).toEqual(
    Array(LOGIN_LIMITS.perAccount.points).fill(401),
  )
  expect(statuses.slice(LOGIN_LIMITS.perAccount.points).every((s) => s === 429)).toBe(true)
  // A stranger with the right password, from a new address, is refused too.
  expect((await loginFrom(freshAddress(), user.email, user.password)).status).toBe(429)
  // The owner, from the address they logged in from before, is not locked out.
  expect((await loginFrom(home, user.email, user.password)).status).toBe(200)
})

test('a successful login clears that address’s failures', async () => {
  const { user, home } = await userWithHome()
  const tries = LOGIN_LIMITS.perAddress.points - 1
  for (let i = 0; i < tries; i++) expect((await loginFrom(home, user.email, 'typo')).status).toBe(401)
  expect((await loginFrom(home, user.email, user.password)).status).toBe(200)
  for (let i = 0; i < tries; i++) expect((await loginFrom(home, user.email, 'typo')).status).toBe(401)
  expect((await loginFrom(home, user.email, user.password)).status).toBe(200)
})

test('unknown emails are limited the same way, so the answers tell nothing about who exists', async () => {
  const email = `nobody-${Date.now()}@example.com`
  const guesser = freshAddress()
  for (let i = 0; i < LOGIN_LIMITS.perAddress.points; i++) {
    expect((await loginFrom(guesser, email, 'whatever')).status).toBe(401)
  }
  expect((await loginFrom(guesser, email, 'whatever')).status).toBe(429)
})
