// A user who renames themselves while their socket is open speaks under the new name at once:
// messages, typing and presence take the name from the database, not from the socket's connect time.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { API, startTestApp, type TestApi } from '../helpers/app.js'
import { createRoom, invite } from '../helpers/chat.js'
import { connect } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

test('a socket opened before a rename sends, types and is listed under the new name', async () => {
  const [ada, bob] = await Promise.all([api.signUp(), api.signUp()])
  const room = await createRoom(api, ada, { session_type: 'invite_only' })
  await invite(api, room.id, ada, bob)
  const adaSocket = await connect(api, { token: ada.token, sessionId: room.id })
  const bobSocket = await connect(api, { token: bob.token, sessionId: room.id })
  await Promise.all([adaSocket.nextOf('system_message'), bobSocket.nextOf('system_message')])

  const newName = `ada_${Date.now()}`
  const renamed = await api.put(`${API}/users/me`, { username: newName }, ada.token)
  expect(renamed.status).toBe(200)

  adaSocket.send({
    type: 'chat_message',
    session_id: room.id,
    content: 'after the rename',
    client_msg_id: 'r1',
  })
  const seen = await bobSocket.next((f) => f.type === 'chat_message' && f.content === 'after the rename')
  expect(seen.username).toBe(newName)
  const ack = await adaSocket.nextOf('ack')
  expect(ack.client_msg_id).toBe('r1')

  // The rename reaches the socket through the user's channel, so typing follows it too.
  await expect
    .poll(async () => {
      adaSocket.send({ type: 'typing', session_id: room.id, is_typing: true })
      const typing = await bobSocket.nextOf('typing', room.id)
      return typing.username
    })
    .toBe(newName)

  // Over HTTP, the stored message and history say the same.
  const sent = await api.post(`${API}/chat/sessions/${room.id}/messages`, { content: 'by http' }, ada.token)
  expect((await sent.json()).username).toBe(newName)
  const history = await (await api.get(`${API}/chat/sessions/${room.id}/messages`, bob.token)).json()
  expect(history.map((m: { username: string }) => m.username)).toEqual([newName, newName])
  await Promise.all([adaSocket.close(), bobSocket.close()])
})
