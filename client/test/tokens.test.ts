// The login's tokens over a long session: refreshed before the access token expires, one refresh for
// many waiting requests, a 401 refreshes once then retries, and a login that ended says so.
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { startTestApp, type TestApi } from '../../test/helpers/app.js'
import { createRoom } from '../../test/helpers/chat.js'
import { spawnInstance } from '../../test/helpers/instances.js'
import { forgeAccessToken } from '../../test/helpers/tokens.js'
import { clientFor, closeClients, recordingFetch, until } from './helpers.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(async () => {
  await api?.close()
})
afterEach(() => closeClients())

const refreshes = (log: string[]) => log.filter((line) => line.endsWith('/auth/refresh')).length

describe('tokens during a long session', () => {
  test('an access token about to expire is refreshed before it does: no request sees a 401', async () => {
    const user = await api.signUp()
    const { fetch, log } = recordingFetch()
    const soon = Math.floor(Date.now() / 1000) + 4
    const access = await forgeAccessToken(api.config.SECRET_KEY, user.id, { claims: { exp: soon } })
    const client = await clientFor(api.url, undefined, {
      fetch,
      tokens: { access_token: access, refresh_token: user.refreshToken },
    })
    const room = await createRoom(api, user)
    await client.room(room.id).ready
    await until(() => refreshes(log) === 1, 'refreshed ahead of expiry', 10_000)
    expect(client.tokens?.access_token).not.toBe(access)
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, soon * 1000 - Date.now() + 500)))
    // Past the first token's expiry: calls and sends carry on, and none was ever refused.
    await client.api.getMe()
    const message = await client.room(room.id).send('still here')
    expect(message.content).toBe('still here')
    expect(log.filter((line) => line.startsWith('401'))).toEqual([])
    expect(refreshes(log)).toBe(1)
  }, 30_000)

  test('a token the server refuses: many requests at once share one refresh, then each is retried once', async () => {
    const user = await api.signUp()
    const { fetch, log } = recordingFetch()
    const refused = await forgeAccessToken('a-secret-the-server-does-not-have', user.id)
    const client = await clientFor(api.url, undefined, {
      fetch,
      tokens: { access_token: refused, refresh_token: user.refreshToken },
    })
    const results = await Promise.all(Array.from({ length: 5 }, () => client.api.getMe()))
    expect(results.map((me) => me.id)).toEqual(Array(5).fill(user.id))
    expect(refreshes(log)).toBe(1)
    expect(log.filter((line) => line === '401 /api/v1/users/me')).toHaveLength(5)
    expect(log.filter((line) => line === '200 /api/v1/users/me')).toHaveLength(5)
  })

  test('an expired access token is refreshed before the request, not after a 401', async () => {
    const user = await api.signUp()
    const { fetch, log } = recordingFetch()
    const past = Math.floor(Date.now() / 1000) - 60
    const expired = await forgeAccessToken(api.config.SECRET_KEY, user.id, {
      claims: { exp: past, iat: past - 600 },
    })
    const client = await clientFor(api.url, undefined, {
      fetch,
      tokens: { access_token: expired, refresh_token: user.refreshToken },
    })
    expect((await client.api.getMe()).id).toBe(user.id)
    expect(log).toEqual(['200 /api/v1/auth/refresh', '200 /api/v1/users/me'])
  })

  test('logged out everywhere: the socket is closed (1008), the refresh is refused, and the client is signed out', async () => {
    const user = await api.signUp()
    const client = await clientFor(api.url, user)
    const room = await createRoom(api, user)
    const followed = client.room(room.id)
    await followed.ready
    await until(() => client.connection.state === 'open', 'open')
    let ended: unknown
    followed.on('ended', (error) => {
      ended = error
    })
    let signedOut = 0
    const tokens: unknown[] = []
    client.on('signedOut', () => signedOut++)
    client.on('tokens', (t) => tokens.push(t))
    const res = await api.post('/api/v1/auth/logout-all', undefined, user.token)
    expect(res.status).toBe(204)
    await until(() => signedOut === 1, 'signed out')
    // The room ended with the login: nothing waits for a login that may be somebody else's.
    expect(ended).toMatchObject({ status: 401, code: 'unauthenticated' })
    await expect(followed.send('after the end')).rejects.toMatchObject({ code: 'closed' })
    expect(client.connection.state).toBe('closed')
    expect(client.tokens).toBeNull()
    expect(tokens.at(-1)).toBeNull()
    await expect(client.api.getMe()).rejects.toMatchObject({ status: 401 })
  })

  test('logging in as somebody else on the same client closes the rooms the one before followed', async () => {
    const [ada, bob] = await Promise.all([api.signUp(), api.signUp()])
    const client = await clientFor(api.url, ada)
    const room = await createRoom(api, ada)
    const followed = client.room(room.id)
    await followed.ready
    await client.login(bob.email, bob.password)
    expect(client.userId).toBe(bob.id)
    await expect(followed.send('as whom?')).rejects.toMatchObject({ code: 'closed' })
    expect(client.room(room.id)).not.toBe(followed)
  })
})

describe.runIf(process.env.TEST_DB_KIND === 'postgres')('a device clock set wrong', () => {
  test('a clock 31 minutes fast (past a token’s 30-minute life) neither loops on refreshes nor sees a 401', async () => {
    // The server in a process of its own, with the right time; only this process's clock is fast.
    const server = await spawnInstance(api)
    const real = Date.now.bind(Date)
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => real() + 31 * 60_000)
    try {
      const user = await api.signUp()
      const { fetch, log } = recordingFetch()
      const client = await clientFor(server.url, user, { fetch })
      const room = await createRoom(api, user)
      const followed = client.room(room.id)
      await followed.ready
      expect((await followed.send('on time')).content).toBe('on time')
      await new Promise((resolve) => setTimeout(resolve, 2_000))
      expect(refreshes(log)).toBe(0)
      expect(log.filter((line) => line.startsWith('401'))).toEqual([])
    } finally {
      spy.mockRestore()
      await server.kill()
    }
  }, 60_000)
})
