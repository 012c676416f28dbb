// Every authenticated write has a per-user limit, shared by HTTP and the WebSocket (DESIGN section 9):
// a script that repeats one action meets a 429 with Retry-After and a sentence; a person never does.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { USER_LIMITS, type UserAction } from '../../src/limits.js'
import { API, startTestApp, type TestApi, type TestResponse, type TestUser } from '../helpers/app.js'
import { createRoom, send } from '../helpers/chat.js'
import { connect } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  // Users sign up from addresses of their own (X-Forwarded-For): registration is limited per address.
  api = await startTestApp({ env: { RATE_LIMITS: 'on', TRUST_PROXY: 'true' } })
})
afterAll(() => api.close())

let users = 0
const signUp = () => {
  users += 1
  return api.signUp({ address: `198.18.${Math.floor(users / 250)}.${users % 250}` })
}

interface Scenario {
  /** Prepares what the action needs and returns one attempt of it. */
  setUp(user: TestUser): Promise<(i: number) => Promise<TestResponse>>
}

const sessions = `${API}/chat/sessions`

/** One scenario per HTTP action; each test uses a fresh user, so the counts are its own. */
const SCENARIOS: Partial<Record<UserAction, Scenario>> = {
  create_room: {
    async setUp(user) {
      return (i) => api.post(sessions, { title: `Room ${i}` }, user.token)
    },
  },
  edit: {
    async setUp(user) {
      const room = await createRoom(api, user)
      const message = await send(api, room.id, user, 'first')
      return (i) =>
        api.request('PATCH', `${sessions}/${room.id}/messages/${message.id}`, {
          body: { content: `edit ${i}` },
          token: user.token,
        })
    },
  },
  reaction: {
    async setUp(user) {
      const room = await createRoom(api, user)
      const message = await send(api, room.id, user, 'react to me')
      return (i) =>
        i % 2 === 0
          ? api.put(`${sessions}/${room.id}/messages/${message.id}/reactions/👍`, undefined, user.token)
          : api.delete(`${sessions}/${room.id}/messages/${message.id}/reactions/👍`, user.token)
    },
  },
  invite: {
    async setUp(user) {
      const room = await createRoom(api, user, { session_type: 'invite_only' })
      // Nobody by that name: each attempt is a 404, and still an attempt.
      return () => api.post(`${sessions}/${room.id}/invite`, { username: 'nobody_here' }, user.token)
    },
  },
  ws_ticket: {
    async setUp(user) {
      return () => api.post(`${API}/auth/ws-ticket`, undefined, user.token)
    },
  },
  read_marker: {
    async setUp(user) {
      const room = await createRoom(api, user)
      await send(api, room.id, user, 'read me')
      return () => api.post(`${sessions}/${room.id}/read`, { seq: 1 }, user.token)
    },
  },
  search: {
    async setUp(user) {
      return (i) => api.get(`${API}/chat/search?q=word${i}`, user.token)
    },
  },
  password_change: {
    async setUp(user) {
      return () =>
        api.put(
          `${API}/users/me`,
          { password: 'another passphrase', current_password: 'wrong one' },
          user.token,
        )
    },
  },
  manage: {
    async setUp(user) {
      const owner = await signUp()
      const room = await createRoom(api, owner, { session_type: 'public' })
      // Joining again is a no-op that answers 200: still an action that counts.
      return () => api.post(`${sessions}/${room.id}/join`, undefined, user.token)
    },
  },
}

describe.each(Object.entries(SCENARIOS))('%s', (action, scenario) => {
  test('is refused past its limit with 429, Retry-After and a sentence; another user is not', async () => {
    const limit = USER_LIMITS[action as UserAction]
    const [user, other] = await Promise.all([signUp(), signUp()])
    const attempt = await scenario.setUp(user)
    for (let i = 0; i < limit.points; i++) {
      const res = await attempt(i)
      expect(res.status, `attempt ${i + 1} of ${limit.points}`).not.toBe(429)
    }
    const over = await attempt(limit.points)
    expect(over.status).toBe(429)
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(Number(over.headers.get('retry-after'))).toBeLessThanOrEqual(limit.seconds)
    expect(await over.json()).toEqual({
      code: 'rate_limited',
      detail: expect.stringMatching(new RegExp(`^Too many ${limit.what}; try again in \\d+ seconds$`)),
    })
    // The limit is the user's, not the route's.
    const otherAttempt = await scenario.setUp(other)
    expect((await otherAttempt(0)).status).not.toBe(429)
  })
})

test('a password change past the limit is refused before the password is checked', async () => {
  const user = await signUp()
  const wrong = { password: 'another passphrase', current_password: 'wrong one' }
  for (let i = 0; i < USER_LIMITS.password_change.points; i++) {
    expect((await api.put(`${API}/users/me`, wrong, user.token)).status).toBe(403)
  }
  // The right current password does not get through either: the guesser learns nothing.
  const right = { password: 'another passphrase', current_password: user.password }
  expect((await api.put(`${API}/users/me`, right, user.token)).status).toBe(429)
})

test('typing frames are limited per user with a rate_limited error frame; the socket stays open', async () => {
  const user = await signUp()
  const room = await createRoom(api, user)
  const socket = await connect(api, { token: user.token, sessionId: room.id })
  await socket.nextOf('system_message')
  for (let i = 0; i <= USER_LIMITS.typing.points; i++) {
    socket.send({ type: 'typing', session_id: room.id, is_typing: i % 2 === 0 })
  }
  const error = await socket.nextOf('error')
  expect(error).toMatchObject({
    code: 'rate_limited',
    session_id: room.id,
    detail: expect.stringMatching(/^Too many typing notifications; try again in \d+ seconds$/),
  })
  expect(socket.frames.filter((f) => f.type === 'error')).toHaveLength(1)
  socket.send({ type: 'ping' })
  await socket.nextOf('pong')
  await socket.close()
})

test('sends over HTTP and over the WebSocket share one count', async () => {
  const user = await signUp()
  const room = await createRoom(api, user)
  const socket = await connect(api, { token: user.token, sessionId: room.id })
  await socket.nextOf('system_message')
  for (let i = 0; i < USER_LIMITS.send.points - 1; i++) await send(api, room.id, user, `m${i}`)
  socket.send({ type: 'chat_message', session_id: room.id, content: 'last one', client_msg_id: 'a' })
  await socket.nextOf('ack')
  socket.send({ type: 'chat_message', session_id: room.id, content: 'one too many', client_msg_id: 'b' })
  expect(await socket.nextOf('error')).toMatchObject({ code: 'rate_limited', client_msg_id: 'b' })
  await socket.close()
})

describe('with Redis unreachable', () => {
  let offline: TestApi
  beforeAll(async () => {
    // Nothing listens on port 1: every Redis command fails, as in an outage.
    offline = await startTestApp({ env: { RATE_LIMITS: 'on', REDIS_URL: 'redis://127.0.0.1:1' } })
  })
  afterAll(() => offline.close())

  test('per-user limits still hold, counted in the instance’s memory', async () => {
    const user = await offline.signUp()
    for (let i = 0; i < USER_LIMITS.search.points; i++) {
      expect((await offline.get(`${API}/chat/search?q=w${i}`, user.token)).status).toBe(200)
    }
    const over = await offline.get(`${API}/chat/search?q=over`, user.token)
    expect(over.status).toBe(429)
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})
