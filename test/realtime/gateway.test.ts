import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite, MESSAGE_FIELDS, roomWithRoles, send } from '../helpers/chat.js'
import { forgeAccessToken } from '../helpers/tokens.js'
import {
  type ConnectOptions,
  connect,
  type Frame,
  socketsClosedAfterEach,
  type TestSocket,
} from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const POLICY_VIOLATION = 1008
const MESSAGE_TOO_BIG = 1009
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
/** A room id that no test creates. */
const UNKNOWN_ROOM = 2_147_483_647
/** Long enough to prove that something did not arrive. */
const QUIET_MS = 300

const roomPath = (id: number) => `${API}/chat/sessions/${id}`

const { open, online } = socketsClosedAfterEach(() => api)

/** The socket's close, or a failure when the server keeps it open. */
function closeOf(socket: TestSocket, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
  return Promise.race([
    socket.closed,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs),
    ),
  ])
}

/** Connects with `options` and expects the server to close with 1008 and a reason, without a greeting. */
async function expectRefused(options: ConnectOptions): Promise<string> {
  const socket = await open(options)
  const { code, reason } = await closeOf(socket)
  expect(code).toBe(POLICY_VIOLATION)
  expect(reason.length).toBeGreaterThan(0)
  expect(socket.frames.filter((f) => f.type === 'system_message')).toEqual([])
  return reason
}

/** A ping answered: every frame the socket sent before it has been handled, and the socket is open. */
async function roundTrip(socket: TestSocket): Promise<void> {
  socket.send({ type: 'ping' })
  expect(await socket.nextOf('pong')).toMatchObject({ type: 'pong', content: 'pong' })
}

async function history(roomId: number, user: TestUser): Promise<Frame[]> {
  const res = await api.get(`${roomPath(roomId)}/messages`, user.token)
  expect(res.status).toBe(200)
  return res.json()
}

const chatMessagesOf = (frames: Frame[], roomId: number) =>
  frames.filter((f) => f.type === 'chat_message' && f.session_id === roomId)

/** An access token signed with the server's secret, with `claims` changed. */
const forgeToken = (user: TestUser, claims: Record<string, unknown>, secret = api.config.SECRET_KEY) =>
  forgeAccessToken(secret, user.id, { claims })

describe('connect', () => {
  test('with a token and session_id the first frame is the greeting for that room', async () => {
    const owner = await api.signUp()
    const room = await createRoom(api, owner)
    const socket = await open({ token: owner.token, sessionId: room.id })
    const greeting = await socket.nextOf('system_message')
    expect(socket.frames[0]).toBe(greeting)
    expect(greeting).toEqual({
      type: 'system_message',
      content: `Connected to chat session ${room.id}`,
      session_id: room.id,
      timestamp: expect.stringMatching(ISO_UTC),
    })
  })

  test('without session_id the greeting has session_id null', async () => {
    const user = await api.signUp()
    const socket = await open({ token: user.token })
    const greeting = await socket.nextOf('system_message')
    expect(socket.frames[0]).toBe(greeting)
    expect(greeting).toMatchObject({ type: 'system_message', session_id: null })
    expect(typeof greeting.content).toBe('string')
    expect(greeting.timestamp).toMatch(ISO_UTC)
    await roundTrip(socket)
  })

  test('the forged-token helper makes a token the gateway accepts (so the refusals below mean something)', async () => {
    const user = await api.signUp()
    const socket = await open({ token: await forgeToken(user, {}) })
    expect(await socket.nextOf('system_message')).toMatchObject({ session_id: null })
  })

  describe('closes with 1008 and a reason', () => {
    test('without a token', async () => {
      await expectRefused({})
    })

    test('with a garbage token', async () => {
      await expectRefused({ token: 'not-a-jwt' })
    })

    test('with an expired token', async () => {
      const user = await api.signUp()
      const past = Math.floor(Date.now() / 1000) - 3600
      await expectRefused({ token: await forgeToken(user, { iat: past - 600, exp: past }) })
    })

    test('with a token signed by another secret', async () => {
      const user = await api.signUp()
      await expectRefused({ token: await forgeToken(user, {}, `${api.config.SECRET_KEY}-not`) })
    })

    test('with a refresh token', async () => {
      const user = await api.signUp()
      await expectRefused({ token: user.refreshToken })
    })

    test("with a deactivated user's token", async () => {
      const user = await api.signUp()
      expect((await api.delete(`${API}/users/me`, user.token)).status).toBe(204)
      await expectRefused({ token: user.token })
    })

    test('for an invite_only room the user is not in', async () => {
      const [owner, outsider] = await Promise.all([api.signUp(), api.signUp()])
      const room = await createRoom(api, owner, { session_type: 'invite_only' })
      await expectRefused({ token: outsider.token, sessionId: room.id })
    })

    test('for a public room the user has not joined', async () => {
      const [owner, outsider] = await Promise.all([api.signUp(), api.signUp()])
      const room = await createRoom(api, owner, { session_type: 'public' })
      await expectRefused({ token: outsider.token, sessionId: room.id })
      // Once joined, the same connect works.
      expect((await api.post(`${roomPath(room.id)}/join`, undefined, outsider.token)).status).toBe(200)
      await online(outsider, room.id)
    })

    test('for an unknown room', async () => {
      const user = await api.signUp()
      await expectRefused({ token: user.token, sessionId: UNKNOWN_ROOM })
    })

    test('for session_id=abc', async () => {
      const user = await api.signUp()
      await expectRefused({ query: `token=${encodeURIComponent(user.token)}&session_id=abc` })
    })

    // Still just a room nobody can read: the id is past the integer column, not a server fault.
    test('for a session_id past the largest room id (2147483648)', async () => {
      const user = await api.signUp()
      await expectRefused({ token: user.token, sessionId: 2_147_483_648 })
    })

    test('for an Origin not in ALLOWED_ORIGINS', async () => {
      const user = await api.signUp()
      await expectRefused({ token: user.token, headers: { origin: 'http://evil.example' } })
    })
  })

  test('an allowed Origin connects, and so does a client that sends none', async () => {
    expect(api.config.ALLOWED_ORIGINS).toContain('http://localhost:3000')
    const user = await api.signUp()
    const browser = await open({ token: user.token, headers: { origin: 'http://localhost:3000' } })
    expect(await browser.nextOf('system_message')).toMatchObject({ session_id: null })
    const script = await open({ token: user.token })
    expect(await script.nextOf('system_message')).toMatchObject({ session_id: null })
  })

  test('the server’s own origin connects (its web app at /app/), whatever ALLOWED_ORIGINS says', async () => {
    expect(api.config.ALLOWED_ORIGINS).not.toContain(api.url)
    const user = await api.signUp()
    const app = await open({ token: user.token, headers: { origin: api.url } })
    expect(await app.nextOf('system_message')).toMatchObject({ session_id: null })
    // Same host, another port: another origin, refused.
    const { port } = new URL(api.url)
    await expectRefused({ token: user.token, headers: { origin: `http://127.0.0.1:${Number(port) + 1}` } })
  })
})

describe('tickets', () => {
  const issue = (token?: string) => api.post(`${API}/auth/ws-ticket`, undefined, token)

  test('POST /auth/ws-ticket answers {ticket, expires_in: 60}', async () => {
    const user = await api.signUp()
    const res = await issue(user.token)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(Object.keys(body).sort()).toEqual(['expires_in', 'ticket'])
    expect(body.expires_in).toBe(60)
    expect(typeof body.ticket).toBe('string')
    expect(body.ticket.length).toBeGreaterThan(0)
  })

  test('a ticket connects once; the second use closes with 1008', async () => {
    const owner = await api.signUp()
    const room = await createRoom(api, owner)
    const { ticket } = await (await issue(owner.token)).json()
    const first = await open({ ticket, sessionId: room.id })
    expect(await first.nextOf('system_message')).toMatchObject({
      content: `Connected to chat session ${room.id}`,
      session_id: room.id,
    })
    await expectRefused({ ticket, sessionId: room.id })
  })

  test('a garbage ticket closes with 1008', async () => {
    await expectRefused({ ticket: 'not-a-ticket' })
  })

  test('POST /auth/ws-ticket without a bearer token is 401', async () => {
    const res = await issue()
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'unauthenticated' })
  })
})

describe('client frames', () => {
  let owner: TestUser
  let roomId: number
  beforeAll(async () => {
    owner = await api.signUp()
    roomId = (await createRoom(api, owner)).id
  })

  test('ping gets pong {content: "pong"}', async () => {
    const socket = await online(owner, roomId)
    socket.send({ type: 'ping' })
    expect(await socket.nextOf('pong')).toMatchObject({ type: 'pong', content: 'pong' })
  })

  const badFrames: [string, () => string][] = [
    ['not JSON', () => 'not json'],
    ['a JSON array', () => '[]'],
    ['an unknown type', () => '{"type":"nope"}'],
    ['chat_message without content', () => JSON.stringify({ type: 'chat_message', session_id: roomId })],
    [
      'chat_message with blank content',
      () => JSON.stringify({ type: 'chat_message', session_id: roomId, content: '   \n\t ' }),
    ],
    [
      'chat_message with content over 10000 characters',
      () => JSON.stringify({ type: 'chat_message', session_id: roomId, content: 'x'.repeat(10_001) }),
    ],
    ["subscribe with session_id 'x'", () => JSON.stringify({ type: 'subscribe', session_id: 'x' })],
  ]

  test.each(badFrames)('%s gets an error frame and the socket stays open', async (_, frame) => {
    const socket = await online(owner, roomId)
    socket.send(frame())
    const error = await socket.nextOf('error')
    expect(error).toMatchObject({ type: 'error', code: expect.any(String), detail: expect.any(String) })
    expect(error.code.length).toBeGreaterThan(0)
    expect(error.detail.length).toBeGreaterThan(0)
    await roundTrip(socket)
    expect(chatMessagesOf(socket.frames, roomId)).toEqual([])
    expect(await history(roomId, owner)).toEqual([])
  })

  test('an invalid send names its room and client_msg_id, so the client can tell which send was refused', async () => {
    const socket = await online(owner, roomId)
    socket.send(
      JSON.stringify({ type: 'chat_message', session_id: roomId, content: ' ', client_msg_id: 'c-1' }),
    )
    expect(await socket.nextOf('error')).toEqual({
      type: 'error',
      code: 'invalid_frame',
      detail: expect.stringContaining('content'),
      session_id: roomId,
      client_msg_id: 'c-1',
    })
    // Fields that are themselves invalid are not echoed back.
    socket.send(JSON.stringify({ type: 'chat_message', session_id: -1, content: 'hi', client_msg_id: '' }))
    const error = await socket.nextOf('error')
    expect(error.code).toBe('invalid_frame')
    expect(error).not.toHaveProperty('session_id')
    expect(error).not.toHaveProperty('client_msg_id')
  })

  test('a frame just under 64 KiB is answered; one over 64 KiB closes the socket with 1009', async () => {
    const socket = await online(owner, roomId)
    const frameOf = (size: number) => {
      const base = JSON.stringify({ type: 'chat_message', session_id: roomId, content: '' })
      return JSON.stringify({
        type: 'chat_message',
        session_id: roomId,
        content: 'x'.repeat(size - base.length),
      })
    }
    expect(Buffer.byteLength(frameOf(60 * 1024))).toBe(60 * 1024)
    socket.send(frameOf(60 * 1024))
    expect(await socket.nextOf('error')).toMatchObject({ type: 'error' })
    await roundTrip(socket)
    socket.send(frameOf(64 * 1024 + 1))
    expect((await closeOf(socket)).code).toBe(MESSAGE_TOO_BIG)
    expect(await history(roomId, owner)).toEqual([])
  })
})

describe('chat_message over WebSocket', () => {
  test('the sender gets an ack, every subscribed socket the message, stored before it is seen', async () => {
    const room = await roomWithRoles(api)
    const owner = await online(room.owner, room.id)
    const member = await online(room.member, room.id)
    owner.send({ type: 'chat_message', session_id: room.id, content: 'hello room', client_msg_id: 'c-1' })

    const seen = await member.nextOf('chat_message', room.id)
    // Stored before anyone sees it: the history already has it the moment a socket receives it.
    const stored = await history(room.id, room.member)
    expect(stored).toHaveLength(1)
    const [message] = stored
    expect(Object.keys(message ?? {}).sort()).toEqual(MESSAGE_FIELDS)
    expect(message).toMatchObject({
      session_id: room.id,
      seq: 1,
      user_id: room.owner.id,
      username: room.owner.username,
      role: 'user',
      content: 'hello room',
      client_msg_id: 'c-1',
      reply_to: null,
    })

    // The Message fields at top level, plus type and timestamp.
    expect(Object.keys(seen).sort()).toEqual([...MESSAGE_FIELDS, 'timestamp', 'type'].sort())
    const { type, timestamp, ...fields } = seen
    expect(type).toBe('chat_message')
    expect(timestamp).toMatch(ISO_UTC)
    expect(fields).toEqual(message)
    expect(await owner.nextOf('chat_message', room.id)).toEqual(seen)

    const ack = await owner.nextOf('ack')
    expect(ack).toMatchObject({ type: 'ack', client_msg_id: 'c-1', id: message?.id, seq: 1 })
    expect(member.frames.filter((f) => f.type === 'ack')).toEqual([])
  })

  test("a viewer's chat_message gets an error frame with code forbidden, and nothing is stored", async () => {
    const room = await roomWithRoles(api)
    const owner = await online(room.owner, room.id)
    const viewer = await online(room.viewer, room.id)
    viewer.send({ type: 'chat_message', session_id: room.id, content: 'can I talk?', client_msg_id: 'v-1' })
    expect(await viewer.nextOf('error')).toMatchObject({ type: 'error', code: 'forbidden' })
    expect(viewer.frames.filter((f) => f.type === 'ack')).toEqual([])
    expect(await history(room.id, room.owner)).toEqual([])
    expect(chatMessagesOf(await owner.quietFor(QUIET_MS), room.id)).toEqual([])
  })

  test('the same client_msg_id twice stores one message; both acks carry its id and seq', async () => {
    const room = await roomWithRoles(api)
    const member = await online(room.member, room.id)
    const owner = await online(room.owner, room.id)
    const frame = { type: 'chat_message', session_id: room.id, content: 'only once', client_msg_id: 'dup-1' }
    member.send(frame)
    member.send(frame)
    const first = await member.nextOf('ack')
    const second = await member.nextOf('ack')
    expect(first).toMatchObject({ client_msg_id: 'dup-1', seq: 1 })
    expect(second).toMatchObject({ client_msg_id: 'dup-1', id: first.id, seq: first.seq })
    const stored = await history(room.id, room.owner)
    expect(stored.map((m) => [m.id, m.seq, m.content])).toEqual([[first.id, 1, 'only once']])
    await owner.nextOf('chat_message', room.id)
    await owner.quietFor(QUIET_MS)
    expect(chatMessagesOf(owner.frames, room.id)).toHaveLength(1)
    expect(chatMessagesOf(member.frames, room.id)).toHaveLength(1)
  })
})

describe('typing', () => {
  test("goes to the other participants' sockets and to none of the sender's", async () => {
    const room = await roomWithRoles(api)
    const ownerA = await online(room.owner, room.id)
    const ownerB = await online(room.owner, room.id)
    const member = await online(room.member, room.id)
    const admin = await online(room.admin, room.id)
    ownerA.send({ type: 'typing', session_id: room.id, is_typing: true })
    const expected = {
      type: 'typing',
      session_id: room.id,
      user_id: room.owner.id,
      username: room.owner.username,
      is_typing: true,
    }
    expect(await member.nextOf('typing', room.id)).toMatchObject(expected)
    expect(await admin.nextOf('typing', room.id)).toMatchObject(expected)
    const [quietA, quietB] = await Promise.all([ownerA.quietFor(QUIET_MS), ownerB.quietFor(QUIET_MS)])
    expect(
      [...ownerA.frames, ...quietA, ...ownerB.frames, ...quietB].filter((f) => f.type === 'typing'),
    ).toEqual([])
  })

  test('typing in a room the socket has not subscribed gets an error frame and reaches nobody', async () => {
    const room = await roomWithRoles(api)
    const member = await online(room.member, room.id)
    const owner = await online(room.owner)
    owner.send({ type: 'typing', session_id: room.id, is_typing: true })
    expect(await owner.nextOf('error')).toMatchObject({ type: 'error', code: expect.any(String) })
    await roundTrip(owner)
    expect((await member.quietFor(QUIET_MS)).filter((f) => f.type === 'typing')).toEqual([])
  })
})

describe('subscribe and unsubscribe', () => {
  test("subscribing to a second room greets it, then that room's messages arrive", async () => {
    const owner = await api.signUp()
    const [first, second] = await Promise.all([createRoom(api, owner), createRoom(api, owner)])
    const socket = await online(owner, first.id)
    socket.send({ type: 'subscribe', session_id: second.id })
    const greeting = await socket.nextOf('system_message', second.id)
    expect(greeting).toMatchObject({
      type: 'system_message',
      content: `Subscribed to chat session ${second.id}`,
      session_id: second.id,
    })
    expect(greeting.timestamp).toMatch(ISO_UTC)
    await send(api, second.id, owner, 'in the second room')
    await send(api, first.id, owner, 'in the first room')
    expect(await socket.nextOf('chat_message', second.id)).toMatchObject({ content: 'in the second room' })
    expect(await socket.nextOf('chat_message', first.id)).toMatchObject({ content: 'in the first room' })
  })

  test.each([
    ['an invite_only room the user is not in', 'invite_only'],
    ['a public room the user has not joined', 'public'],
    ['an unknown room', null],
  ] as const)('subscribing to %s gets an error frame; the socket stays open', async (_, type) => {
    const [owner, user] = await Promise.all([api.signUp(), api.signUp()])
    const roomId = type === null ? UNKNOWN_ROOM : (await createRoom(api, owner, { session_type: type })).id
    const socket = await online(user)
    socket.send({ type: 'subscribe', session_id: roomId })
    expect(await socket.nextOf('error')).toMatchObject({ type: 'error', code: expect.any(String) })
    await roundTrip(socket)
    if (type !== null) await send(api, roomId, owner, 'not for outsiders')
    const later = await socket.quietFor(QUIET_MS)
    expect([...socket.frames, ...later].filter((f) => f.session_id === roomId && f.type !== 'error')).toEqual(
      [],
    )
  })

  test('after unsubscribe nothing more from that room arrives', async () => {
    const room = await roomWithRoles(api)
    const member = await online(room.member, room.id)
    const witness = await online(room.admin, room.id)
    await send(api, room.id, room.owner, 'before')
    expect(await member.nextOf('chat_message', room.id)).toMatchObject({ content: 'before' })
    member.send({ type: 'unsubscribe', session_id: room.id })
    await roundTrip(member)
    await send(api, room.id, room.owner, 'after')
    expect(await witness.nextOf('chat_message', room.id)).toMatchObject({ content: 'before' })
    expect(await witness.nextOf('chat_message', room.id)).toMatchObject({ content: 'after' })
    await member.quietFor(QUIET_MS)
    expect(chatMessagesOf(member.frames, room.id).map((f) => f.content)).toEqual(['before'])
  })
})

describe('presence', () => {
  const presenceOf = (socket: TestSocket, user: TestUser, status: string) =>
    socket.next((f) => f.type === 'presence' && f.user_id === user.id && f.status === status)

  async function isOnline(roomId: number, asker: TestUser, user: TestUser): Promise<boolean> {
    const res = await api.get(`${roomPath(roomId)}/participants`, asker.token)
    expect(res.status).toBe(200)
    const participants: { user_id: number; is_online: boolean }[] = await res.json()
    const found = participants.find((p) => p.user_id === user.id)
    expect(found).toBeDefined()
    return found?.is_online ?? false
  }

  test("another user's socket subscribing shows online, closing it offline", async () => {
    const room = await roomWithRoles(api)
    const owner = await online(room.owner, room.id)
    expect(await isOnline(room.id, room.owner, room.member)).toBe(false)
    const member = await online(room.member, room.id)
    expect(await presenceOf(owner, room.member, 'online')).toEqual({
      type: 'presence',
      session_id: room.id,
      user_id: room.member.id,
      username: room.member.username,
      status: 'online',
    })
    expect(await isOnline(room.id, room.owner, room.member)).toBe(true)
    await member.close()
    expect(await presenceOf(owner, room.member, 'offline')).toMatchObject({
      session_id: room.id,
      username: room.member.username,
    })
    expect(await isOnline(room.id, room.owner, room.member)).toBe(false)
  })

  test('a user with two sockets is online once and offline only when the last one closes', async () => {
    const room = await roomWithRoles(api)
    const owner = await online(room.owner, room.id)
    const first = await online(room.member, room.id)
    await presenceOf(owner, room.member, 'online')
    const second = await online(room.member, room.id)
    await owner.quietFor(QUIET_MS)
    await first.close()
    await owner.quietFor(QUIET_MS)
    const memberPresence = () =>
      owner.frames.filter((f) => f.type === 'presence' && f.user_id === room.member.id)
    expect(memberPresence().map((f) => f.status)).toEqual(['online'])
    expect(await isOnline(room.id, room.owner, room.member)).toBe(true)
    await second.close()
    await presenceOf(owner, room.member, 'offline')
    expect(memberPresence().map((f) => f.status)).toEqual(['online', 'offline'])
  })

  test('a socket that goes away before its greeting does not leave its user online', async () => {
    const room = await roomWithRoles(api)
    const owner = await online(room.owner, room.id)
    // Gone while the server is still authenticating and subscribing it: nothing may keep it counted.
    const ghost = await open({ token: room.member.token, sessionId: room.id })
    ghost.ws.terminate()
    await closeOf(ghost)
    const deadline = Date.now() + 3000
    while ((await isOnline(room.id, room.owner, room.member)) && Date.now() < deadline) {
      await owner.quietFor(100)
    }
    expect(await isOnline(room.id, room.owner, room.member)).toBe(false)
    await owner.quietFor(QUIET_MS)
    const statuses = owner.frames
      .filter((f) => f.type === 'presence' && f.user_id === room.member.id)
      .map((f) => f.status)
    expect([[], ['online', 'offline']]).toContainEqual(statuses)
  })
})

describe('access changes take effect on open sockets at once', () => {
  test('a removed participant gets participant_removed, then nothing more from the room', async () => {
    const room = await roomWithRoles(api)
    const owner = await online(room.owner, room.id)
    const member = await online(room.member, room.id)
    const res = await api.delete(`${roomPath(room.id)}/participants/${room.member.id}`, room.owner.token)
    expect(res.status).toBe(200)
    const expected = {
      type: 'participant_removed',
      session_id: room.id,
      user_id: room.member.id,
      username: room.member.username,
    }
    expect(await member.nextOf('participant_removed', room.id)).toMatchObject(expected)
    expect(await owner.nextOf('participant_removed', room.id)).toMatchObject(expected)
    await send(api, room.id, room.owner, 'after the removal')
    owner.send({ type: 'typing', session_id: room.id, is_typing: true })
    expect(await owner.nextOf('chat_message', room.id)).toMatchObject({ content: 'after the removal' })
    await member.quietFor(QUIET_MS)
    const removedAt = member.frames.findIndex((f) => f.type === 'participant_removed')
    expect(member.frames.slice(removedAt + 1).filter((f) => f.session_id === room.id)).toEqual([])
    // Its socket cannot send there either.
    member.send({ type: 'chat_message', session_id: room.id, content: 'still here?' })
    expect(await member.nextOf('error')).toMatchObject({ type: 'error' })
    expect((await history(room.id, room.owner)).map((m) => m.content)).toEqual(['after the removal'])
  })

  test('a participant who leaves gets participant_left, then nothing more from the room', async () => {
    const room = await roomWithRoles(api)
    const owner = await online(room.owner, room.id)
    const member = await online(room.member, room.id)
    expect((await api.post(`${roomPath(room.id)}/leave`, undefined, room.member.token)).status).toBe(200)
    const expected = {
      type: 'participant_left',
      session_id: room.id,
      user_id: room.member.id,
      username: room.member.username,
    }
    expect(await owner.nextOf('participant_left', room.id)).toMatchObject(expected)
    expect(await member.nextOf('participant_left', room.id)).toMatchObject(expected)
    await send(api, room.id, room.owner, 'after leaving')
    expect(await owner.nextOf('chat_message', room.id)).toMatchObject({ content: 'after leaving' })
    await member.quietFor(QUIET_MS)
    const leftAt = member.frames.findIndex((f) => f.type === 'participant_left')
    expect(member.frames.slice(leftAt + 1).filter((f) => f.session_id === room.id)).toEqual([])
  })

  test('deleting the room sends session_deleted, then nothing; the room is gone for the sockets', async () => {
    const room = await roomWithRoles(api)
    const owner = await online(room.owner, room.id)
    const member = await online(room.member, room.id)
    expect((await api.delete(roomPath(room.id), room.owner.token)).status).toBe(204)
    for (const socket of [owner, member]) {
      expect(await socket.nextOf('session_deleted', room.id)).toMatchObject({
        type: 'session_deleted',
        session_id: room.id,
      })
    }
    member.send({ type: 'chat_message', session_id: room.id, content: 'anyone?' })
    expect(await member.nextOf('error')).toMatchObject({ type: 'error', code: 'not_found' })
    member.send({ type: 'subscribe', session_id: room.id })
    expect(await member.nextOf('error')).toMatchObject({ type: 'error', code: 'not_found' })
    owner.send({ type: 'typing', session_id: room.id, is_typing: true })
    await owner.nextOf('error')
    await member.quietFor(QUIET_MS)
    for (const socket of [owner, member]) {
      const deletedAt = socket.frames.findIndex((f) => f.type === 'session_deleted')
      const after = socket.frames.slice(deletedAt + 1).filter((f) => f.session_id === room.id)
      expect(after.filter((f) => f.type !== 'error')).toEqual([])
    }
  })

  test('a role change reaches the room; a member made viewer can no longer send over WebSocket', async () => {
    const room = await roomWithRoles(api)
    const owner = await online(room.owner, room.id)
    const member = await online(room.member, room.id)
    const res = await api.put(
      `${roomPath(room.id)}/participants/${room.member.id}/role`,
      { role: 'viewer' },
      room.owner.token,
    )
    expect(res.status).toBe(200)
    const expected = {
      type: 'role_changed',
      session_id: room.id,
      user_id: room.member.id,
      username: room.member.username,
      role: 'viewer',
    }
    expect(await owner.nextOf('role_changed', room.id)).toMatchObject(expected)
    expect(await member.nextOf('role_changed', room.id)).toMatchObject(expected)
    member.send({ type: 'chat_message', session_id: room.id, content: 'still a member?' })
    expect(await member.nextOf('error')).toMatchObject({ type: 'error', code: 'forbidden' })
    expect(await history(room.id, room.owner)).toEqual([])
    // A viewer still sees the room.
    await send(api, room.id, room.owner, 'you can still read')
    expect(await member.nextOf('chat_message', room.id)).toMatchObject({ content: 'you can still read' })
  })

  describe("account events close every socket of that user with 1008, and only that user's", () => {
    test.each<[string, (user: TestUser) => Promise<Response>, number]>([
      ['deactivation (DELETE /users/me)', (user) => api.delete(`${API}/users/me`, user.token), 204],
      [
        'a password change (PUT /users/me)',
        (user) =>
          api.put(
            `${API}/users/me`,
            { password: 'a-brand-new-password', current_password: user.password },
            user.token,
          ),
        200,
      ],
      [
        'logout-all (POST /auth/logout-all)',
        (user) => api.post(`${API}/auth/logout-all`, undefined, user.token),
        204,
      ],
    ])('%s', async (_, act, status) => {
      const room = await roomWithRoles(api)
      const inRoom = await online(room.member, room.id)
      const bare = await online(room.member)
      const other = await online(room.owner, room.id)
      expect((await act(room.member)).status).toBe(status)
      for (const socket of [inRoom, bare]) {
        const { code, reason } = await closeOf(socket)
        expect(code).toBe(POLICY_VIOLATION)
        expect(reason.length).toBeGreaterThan(0)
      }
      await roundTrip(other)
    })

    test('a profile change without a new password leaves the sockets open', async () => {
      const user = await api.signUp()
      const socket = await online(user)
      const res = await api.put(`${API}/users/me`, { first_name: 'Renamed' }, user.token)
      expect(res.status).toBe(200)
      await socket.quietFor(QUIET_MS)
      await roundTrip(socket)
    })
  })
})

describe('room events', () => {
  test('joining a public room sends participant_joined to the room', async () => {
    const [owner, joiner] = await Promise.all([api.signUp(), api.signUp()])
    const room = await createRoom(api, owner, { session_type: 'public' })
    const socket = await online(owner, room.id)
    expect((await api.post(`${roomPath(room.id)}/join`, undefined, joiner.token)).status).toBe(200)
    expect(await socket.nextOf('participant_joined', room.id)).toMatchObject({
      type: 'participant_joined',
      session_id: room.id,
      user_id: joiner.id,
      username: joiner.username,
      role: 'member',
    })
  })

  test('an invitation sends participant_joined with the given role', async () => {
    const [owner, admin, guest] = await Promise.all([api.signUp(), api.signUp(), api.signUp()])
    const room = await createRoom(api, owner, { session_type: 'invite_only' })
    await invite(api, room.id, owner, admin, 'admin')
    const socket = await online(admin, room.id)
    await invite(api, room.id, admin, guest, 'viewer')
    expect(await socket.nextOf('participant_joined', room.id)).toMatchObject({
      type: 'participant_joined',
      session_id: room.id,
      user_id: guest.id,
      username: guest.username,
      role: 'viewer',
    })
  })

  test('the invited user’s own sockets, following other rooms or none, are told at once; once', async () => {
    const [owner, guest] = await Promise.all([api.signUp(), api.signUp()])
    const elsewhere = await createRoom(api, guest)
    const bare = await online(guest)
    const inOtherRoom = await online(guest, elsewhere.id)
    const room = await createRoom(api, owner, { session_type: 'invite_only' })
    await invite(api, room.id, owner, guest, 'member')
    for (const socket of [bare, inOtherRoom]) {
      expect(await socket.nextOf('participant_joined', room.id)).toMatchObject({
        session_id: room.id,
        user_id: guest.id,
        role: 'member',
      })
    }
    // Now subscribed, the next joiner reaches it once, through the room.
    const third = await api.signUp()
    bare.send({ type: 'subscribe', session_id: room.id })
    await bare.nextOf('system_message', room.id)
    await invite(api, room.id, owner, third, 'viewer')
    expect(await bare.nextOf('participant_joined', room.id)).toMatchObject({ user_id: third.id })
    expect((await bare.quietFor(QUIET_MS)).filter((f) => f.type === 'participant_joined')).toEqual([])
  })

  test('PUT /chat/sessions/{id} sends session_updated to the room', async () => {
    const room = await roomWithRoles(api)
    const member = await online(room.member, room.id)
    const res = await api.put(
      roomPath(room.id),
      { title: 'Renamed', description: 'new words' },
      room.admin.token,
    )
    expect(res.status).toBe(200)
    const updated = await member.nextOf('session_updated', room.id)
    expect(updated).toMatchObject({
      type: 'session_updated',
      session_id: room.id,
      session: { id: room.id, title: 'Renamed', description: 'new words' },
    })
  })
})

describe('a burst of frames', () => {
  test('is slowed down, not cut off: 600 pings back to back all get their pong', async () => {
    const user = await api.signUp()
    const socket = await connect(api, { token: user.token })
    await socket.nextOf('system_message')
    for (let i = 0; i < 600; i++) socket.send({ type: 'ping' })
    for (let i = 0; i < 600; i++) await socket.nextOf('pong', undefined, 10_000)
    expect(socket.ws.readyState).toBe(socket.ws.OPEN)
    await socket.close()
  })
})
