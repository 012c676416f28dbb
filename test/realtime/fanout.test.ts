// Fan-out (DESIGN.md section 5, guarantees): every message, sent by HTTP or WebSocket, is stored, then reaches
// every subscribed socket of every participant, in seq order, once, as the same frame.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite, ROLES, roomWithRoles } from '../helpers/chat.js'
import { type Frame, socketsClosedAfterEach, type TestSocket } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  // Rate limits off: the big room sends 20 messages from a few users at once.
  api = await startTestApp({ env: { RATE_LIMITS: 'off' } })
})
afterAll(() => api.close())

const QUIET_MS = 300
const messagesPath = (roomId: number) => `${API}/chat/sessions/${roomId}/messages`
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

const { online } = socketsClosedAfterEach(() => api)

async function history(roomId: number, user: TestUser): Promise<Frame[]> {
  const res = await api.get(`${messagesPath(roomId)}?limit=200`, user.token)
  expect(res.status).toBe(200)
  return res.json()
}

async function sendByHttp(roomId: number, user: TestUser, content: string, clientMsgId: string) {
  const res = await api.post(messagesPath(roomId), { content, client_msg_id: clientMsgId }, user.token)
  expect(res.status).toBe(201)
  return res.json()
}

/** Sends over the socket and resolves with the ack. */
async function sendByWs(socket: TestSocket, roomId: number, content: string, clientMsgId: string) {
  socket.send({ type: 'chat_message', session_id: roomId, content, client_msg_id: clientMsgId })
  const ack = await socket.next((f) => f.type === 'ack' && f.client_msg_id === clientMsgId)
  expect(ack).toMatchObject({ id: expect.any(Number), seq: expect.any(Number) })
  return ack
}

const chatMessagesOf = (socket: TestSocket, roomId: number) =>
  socket.frames.filter((f) => f.type === 'chat_message' && f.session_id === roomId)

/** The frame without what a socket adds on top of the stored Message. */
function withoutTimestamp(frame: Frame): Frame {
  const { timestamp: _, ...rest } = frame
  return rest
}

describe('every role', () => {
  test('owner, admin, member and viewer all receive messages sent by HTTP and by WebSocket, as identical frames', async () => {
    const room = await roomWithRoles(api)
    const sockets = await Promise.all(ROLES.map((role) => online(room[role], room.id)))
    const [, adminSocket] = sockets
    if (!adminSocket) throw new Error('no admin socket')

    const byHttp = await sendByHttp(room.id, room.member, 'sent over HTTP', 'http-1')
    const byWs = await sendByWs(adminSocket, room.id, 'sent over WebSocket', 'ws-1')
    expect([byHttp.seq, byWs.seq]).toEqual([1, 2])

    const received = await Promise.all(
      sockets.map(async (socket) => [
        await socket.nextOf('chat_message', room.id),
        await socket.nextOf('chat_message', room.id),
      ]),
    )
    const [first] = received
    for (const frames of received) {
      expect(frames.map((f) => f.seq)).toEqual([1, 2])
      // The same frame for everyone, timestamp included.
      expect(frames).toEqual(first)
    }
    const stored = await history(room.id, room.owner)
    expect(first?.map(withoutTimestamp)).toEqual(stored.map((m) => ({ type: 'chat_message', ...m })))
    expect(first?.[0]).toMatchObject({
      user_id: room.member.id,
      content: 'sent over HTTP',
      client_msg_id: 'http-1',
    })
    expect(first?.[1]).toMatchObject({
      user_id: room.admin.id,
      content: 'sent over WebSocket',
      client_msg_id: 'ws-1',
    })

    await Promise.all(sockets.map((socket) => socket.quietFor(QUIET_MS)))
    for (const socket of sockets) expect(chatMessagesOf(socket, room.id)).toHaveLength(2)
  })

  test('a message sent over HTTP reaches sockets exactly like one sent over a socket', async () => {
    const room = await roomWithRoles(api)
    const viewer = await online(room.viewer, room.id)
    const member = await online(room.member, room.id)

    await sendByHttp(room.id, room.member, 'same words', 'same-http')
    await sendByWs(member, room.id, 'same words', 'same-ws')
    const viaHttp = await viewer.nextOf('chat_message', room.id)
    const viaWs = await viewer.nextOf('chat_message', room.id)

    expect(Object.keys(viaWs).sort()).toEqual(Object.keys(viaHttp).sort())
    // Only what differs between two messages may differ: id, seq, time and the client's id.
    const comparable = (frame: Frame) => {
      const { timestamp: _t, id: _i, seq: _s, created_at: _c, client_msg_id: _m, ...rest } = frame
      return rest
    }
    expect(comparable(viaWs)).toEqual(comparable(viaHttp))
    expect(comparable(viaHttp)).toEqual({
      type: 'chat_message',
      session_id: room.id,
      user_id: room.member.id,
      username: room.member.username,
      role: 'user',
      content: 'same words',
      reply_to: null,
      ai_usage: null,
      edited_at: null,
      deleted_at: null,
      reactions: [],
    })
    const stored = await history(room.id, room.member)
    expect(stored).toHaveLength(2)
    expect(withoutTimestamp(viaHttp)).toEqual({ type: 'chat_message', ...stored[0] })
    expect(withoutTimestamp(viaWs)).toEqual({ type: 'chat_message', ...stored[1] })
    // The sender's own socket gets its message like everyone else.
    expect(await member.nextOf('chat_message', room.id)).toEqual(viaHttp)
    expect(await member.nextOf('chat_message', room.id)).toEqual(viaWs)
  })
})

describe('a big room', () => {
  const USERS = 10
  const SOCKETS_PER_USER = 10
  const MESSAGES = 20

  test(`${USERS * SOCKETS_PER_USER} sockets each receive all ${MESSAGES} concurrent messages once, in seq order`, async () => {
    const users = await Promise.all(range(1, USERS).map(() => api.signUp()))
    const [owner, ...others] = users
    if (!owner) throw new Error('no owner')
    const room = await createRoom(api, owner, { session_type: 'invite_only' })
    for (const user of others) await invite(api, room.id, owner, user, 'member')

    const sockets = await Promise.all(
      users.flatMap((user) => range(1, SOCKETS_PER_USER).map(() => online(user, room.id))),
    )
    expect(sockets).toHaveLength(USERS * SOCKETS_PER_USER)

    // Five senders, four messages each, half over HTTP and half over their own socket, all at once.
    const senders = users.slice(0, 5)
    const sent = await Promise.all(
      senders.flatMap((user, u) =>
        range(1, MESSAGES / senders.length).map((n) => {
          const content = `message ${n} from sender ${u}`
          const clientMsgId = `big-${u}-${n}`
          const socket = sockets[u * SOCKETS_PER_USER]
          if (n % 2 === 0 && socket) return sendByWs(socket, room.id, content, clientMsgId)
          return sendByHttp(room.id, user, content, clientMsgId)
        }),
      ),
    )
    expect(sent.map((m) => m.seq).sort((a, b) => a - b)).toEqual(range(1, MESSAGES))

    await Promise.all(
      sockets.map(async (socket) => {
        for (let i = 0; i < MESSAGES; i += 1) await socket.nextOf('chat_message', room.id, 10_000)
      }),
    )
    // Give duplicates a chance to show up.
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS))

    const stored = await history(room.id, owner)
    expect(stored.map((m) => m.seq)).toEqual(range(1, MESSAGES))
    const expected = stored.map((m) => ({ type: 'chat_message', ...m }))
    for (const socket of sockets) {
      const frames = chatMessagesOf(socket, room.id)
      // Strictly increasing 1..20: no gap, no duplicate, nothing out of order.
      expect(frames.map((f) => f.seq)).toEqual(range(1, MESSAGES))
      expect(frames.map(withoutTimestamp)).toEqual(expected)
    }
    const [first] = sockets
    for (const socket of sockets)
      expect(chatMessagesOf(socket, room.id)).toEqual(first && chatMessagesOf(first, room.id))

    await Promise.all(sockets.map((socket) => socket.close()))
    for (const socket of sockets) expect(socket.ws.readyState).toBe(socket.ws.CLOSED)
  })
})
