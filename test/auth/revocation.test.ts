// Logout-all, a password change and deactivation end every access token issued before them at once:
// over HTTP, for new WebSocket tickets and sockets, and for tickets already issued (DESIGN section 9).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom } from '../helpers/chat.js'
import { connect } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const me = (token: string) => api.get(`${API}/users/me`, token)
const ticketFor = (token: string) => api.post(`${API}/auth/ws-ticket`, undefined, token)
const login = async (user: TestUser, password = user.password) => {
  const res = await api.post(`${API}/auth/login`, { email: user.email, password })
  expect(res.status).toBe(200)
  return (await res.json()).access_token as string
}

/** Everything a token issued before the revocation could still do, and must not. */
async function expectRevoked(user: TestUser, oldToken: string, oldTicket: string) {
  const res = await me(oldToken)
  expect(res.status).toBe(401)
  expect(res.headers.get('www-authenticate')).toBe('Bearer')
  expect(await res.json()).toEqual({
    detail: 'Token has been revoked; log in again',
    code: 'unauthenticated',
  })
  expect((await ticketFor(oldToken)).status).toBe(401)
  const byToken = await connect(api, { token: oldToken })
  expect(await byToken.closed).toEqual({ code: 1008, reason: 'Token has been revoked; log in again' })
  const byTicket = await connect(api, { ticket: oldTicket })
  expect((await byTicket.closed).code).toBe(1008)
  // Sending a message with the old token is refused too, not only reading.
  const room = await createRoom(api, user, { session_type: 'private' }).catch(() => null)
  expect(room).toBeNull()
}

describe('logout-all', () => {
  test('ends the access tokens, tickets and sockets from before it; a login right after works', async () => {
    const user = await api.signUp()
    const secondLogin = await login(user)
    const ticket = (await (await ticketFor(user.token)).json()).ticket as string
    const room = await createRoom(api, user)
    const open = await connect(api, { token: user.token, sessionId: room.id })
    await open.nextOf('system_message')

    expect((await api.post(`${API}/auth/logout-all`, undefined, user.token)).status).toBe(204)
    expect((await open.closed).code).toBe(1008)
    await expectRevoked(user, user.token, ticket)
    expect((await me(secondLogin)).status).toBe(401)

    // Within the same second as the revocation: a new token is newer than it, and works.
    const fresh = await login(user)
    expect((await me(fresh)).status).toBe(200)
    expect((await ticketFor(fresh)).status).toBe(200)
    const socket = await connect(api, { token: fresh, sessionId: room.id })
    expect((await socket.nextOf('system_message')).content).toBe(`Connected to chat session ${room.id}`)
    await socket.close()
  })

  test('does not touch another user’s tokens', async () => {
    const [user, other] = await Promise.all([api.signUp(), api.signUp()])
    expect((await api.post(`${API}/auth/logout-all`, undefined, user.token)).status).toBe(204)
    expect((await me(other.token)).status).toBe(200)
  })
})

describe('a password change', () => {
  test('ends every token from before it, the caller’s own included; the new password logs in', async () => {
    const user = await api.signUp()
    const ticket = (await (await ticketFor(user.token)).json()).ticket as string
    const open = await connect(api, { token: user.token })
    await open.nextOf('system_message')

    const changed = await api.put(
      `${API}/users/me`,
      { password: 'a brand new passphrase', current_password: user.password },
      user.token,
    )
    expect(changed.status).toBe(200)
    expect((await open.closed).code).toBe(1008)
    await expectRevoked(user, user.token, ticket)
    const fresh = await login(user, 'a brand new passphrase')
    expect((await me(fresh)).status).toBe(200)
  })

  test('a profile change without a new password keeps the tokens', async () => {
    const user = await api.signUp()
    expect((await api.put(`${API}/users/me`, { first_name: 'Ada' }, user.token)).status).toBe(200)
    expect((await me(user.token)).status).toBe(200)
    expect((await ticketFor(user.token)).status).toBe(200)
  })

  test('a wrong current password revokes nothing', async () => {
    const user = await api.signUp()
    const res = await api.put(
      `${API}/users/me`,
      { password: 'a brand new passphrase', current_password: 'not the password' },
      user.token,
    )
    expect(res.status).toBe(403)
    expect((await me(user.token)).status).toBe(200)
  })
})

describe('deactivation', () => {
  test('a ticket issued before it can no longer open a socket', async () => {
    const user = await api.signUp()
    const ticket = (await (await ticketFor(user.token)).json()).ticket as string
    expect((await api.delete(`${API}/users/me`, user.token)).status).toBe(204)
    const socket = await connect(api, { ticket })
    expect((await socket.closed).code).toBe(1008)
    expect((await me(user.token)).status).toBe(401)
  })
})
