// Clients of the Python original over WebSocket (DESIGN.md section 9): a frame without `type` is a
// chat_message, and a frame without `session_id` on a socket opened with ?session_id= goes to that room.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite } from '../helpers/chat.js'
import { socketsClosedAfterEach } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const { online } = socketsClosedAfterEach(() => api)

async function contentsOf(roomId: number, user: TestUser): Promise<string[]> {
  const res = await api.get(`${API}/chat/sessions/${roomId}/messages`, user.token)
  expect(res.status).toBe(200)
  return ((await res.json()) as { content: string }[]).map((m) => m.content)
}

/** A room with two participants, each with a socket opened with ?session_id= of it. */
async function roomOfTwo() {
  const [owner, guest] = await Promise.all([api.signUp(), api.signUp()])
  const room = await createRoom(api, owner, { session_type: 'invite_only' })
  await invite(api, room.id, owner, guest)
  const [ownerSocket, guestSocket] = await Promise.all([online(owner, room.id), online(guest, room.id)])
  return { roomId: room.id, owner, guest, ownerSocket, guestSocket }
}

test('frames without type or session_id are stored in the room of ?session_id= and broadcast', async () => {
  const { roomId, owner, ownerSocket, guestSocket } = await roomOfTwo()
  ownerSocket.send({ content: 'hi' })
  ownerSocket.send({ type: 'chat_message', content: 'x' })

  const acks = [await ownerSocket.nextOf('ack', roomId), await ownerSocket.nextOf('ack', roomId)]
  expect(acks.map((a) => a.seq)).toEqual([1, 2])
  for (const content of ['hi', 'x']) {
    const seen = await guestSocket.next((f) => f.type === 'chat_message' && f.content === content)
    expect(seen).toMatchObject({ session_id: roomId, username: owner.username, content })
  }
  expect(await contentsOf(roomId, owner)).toEqual(['hi', 'x'])
})

test('typing without session_id reaches the room of ?session_id=', async () => {
  const { roomId, owner, ownerSocket, guestSocket } = await roomOfTwo()
  ownerSocket.send({ type: 'typing', is_typing: true })
  expect(await guestSocket.nextOf('typing', roomId)).toMatchObject({ user_id: owner.id, is_typing: true })
})

test('an explicit session_id still wins over the room of ?session_id=', async () => {
  const { roomId, owner, ownerSocket } = await roomOfTwo()
  const other = await createRoom(api, owner, { title: 'Other' })
  ownerSocket.send({ content: 'elsewhere', session_id: other.id })
  expect(await ownerSocket.nextOf('ack')).toMatchObject({ session_id: other.id })
  expect(await contentsOf(other.id, owner)).toEqual(['elsewhere'])
  expect(await contentsOf(roomId, owner)).toEqual([])
})

test('on a socket opened without session_id, a frame lacking it gets an error naming the field', async () => {
  const user = await api.signUp()
  const socket = await online(user)
  socket.send({ content: 'hi' })
  socket.send({ type: 'chat_message', content: 'x' })
  for (let i = 0; i < 2; i++) {
    const error = await socket.nextOf('error')
    expect(error.code).toBe('invalid_frame')
    expect(error.detail).toMatch(/session_id/)
  }
  socket.send({ type: 'ping' })
  await socket.nextOf('pong')
  expect(socket.frames.filter((f) => f.type === 'ack')).toEqual([])
})
