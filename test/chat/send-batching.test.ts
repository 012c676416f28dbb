// Sends that arrive together are stored by one statement (src/chat/send-batcher.ts). Seen from outside,
// nothing may change: every send answered after its commit with its own message, seq gapless per room,
// refusals and retries answered one by one. /metrics shows that batches really formed.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite, roomWithRoles } from '../helpers/chat.js'
import { metric } from '../helpers/metrics.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp({ env: { RATE_LIMITS: 'off' } })
})
afterAll(() => api.close())

interface Message {
  id: number
  session_id: number
  seq: number
  user_id: number
  content: string
  client_msg_id: string | null
}

const messagesOf = (roomId: number) => `${API}/chat/sessions/${roomId}/messages`

async function history(roomId: number, user: TestUser): Promise<Message[]> {
  const res = await api.get(`${messagesOf(roomId)}?limit=200`, user.token)
  expect(res.status).toBe(200)
  return res.json()
}

test('a burst over several rooms: each send gets its own stored message, seq gapless per room, in batches', async () => {
  const users = await Promise.all(Array.from({ length: 6 }, () => api.signUp()))
  const [owner, ...others] = users as [TestUser, ...TestUser[]]
  const rooms = await Promise.all(Array.from({ length: 4 }, () => createRoom(api, owner)))
  for (const room of rooms) for (const user of others) await invite(api, room.id, owner, user)
  const batchesBefore = await metric(api, 'insurge_send_batches_total')

  const sends = users.flatMap((user, u) =>
    rooms.flatMap((room, r) =>
      [0, 1].map((k) => ({
        user,
        room: room.id,
        content: `u${u} r${r} k${k}`,
        client_msg_id: `b-${u}-${r}-${k}`,
      })),
    ),
  )
  const responses = await Promise.all(
    sends.map((s) =>
      api.post(messagesOf(s.room), { content: s.content, client_msg_id: s.client_msg_id }, s.user.token),
    ),
  )
  expect(responses.map((r) => r.status)).toEqual(sends.map(() => 201))
  const stored = (await Promise.all(responses.map((r) => r.json()))) as Message[]
  stored.forEach((message, i) => {
    const sent = sends[i] as (typeof sends)[number]
    expect([message.session_id, message.user_id, message.content, message.client_msg_id]).toEqual([
      sent.room,
      sent.user.id,
      sent.content,
      sent.client_msg_id,
    ])
  })
  for (const room of rooms) {
    const seqs = stored.filter((m) => m.session_id === room.id).map((m) => m.seq)
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
    // What each sender was told is what the room holds.
    const held = await history(room.id, owner)
    expect(held.map((m) => [m.seq, m.id, m.content])).toEqual(
      stored
        .filter((m) => m.session_id === room.id)
        .sort((a, b) => a.seq - b.seq)
        .map((m) => [m.seq, m.id, m.content]),
    )
  }
  expect(await metric(api, 'insurge_send_batches_total')).toBeGreaterThan(batchesBefore)
})

test('refusals and retries inside a burst are answered one by one; the others are stored', async () => {
  const r = await roomWithRoles(api)
  await api.post(messagesOf(r.id), { content: 'first', client_msg_id: 'again' }, r.member.token)
  const burst = await Promise.all([
    api.post(messagesOf(r.id), { content: 'owner 1' }, r.owner.token),
    api.post(messagesOf(r.id), { content: 'from a viewer' }, r.viewer.token),
    api.post(messagesOf(r.id), { content: 'first', client_msg_id: 'again' }, r.member.token),
    api.post(messagesOf(r.id), { content: 'from an outsider' }, r.outsider.token),
    api.post(messagesOf(r.id), { content: 'admin 1' }, r.admin.token),
    api.post(messagesOf(r.id), { content: 'owner 2' }, r.owner.token),
  ])
  expect(burst.map((res) => res.status)).toEqual([201, 403, 200, 403, 201, 201])
  const retry = (await burst[2]?.json()) as Message
  expect([retry.seq, retry.content]).toEqual([1, 'first'])
  const held = await history(r.id, r.owner)
  expect(held.map((m) => m.seq)).toEqual([1, 2, 3, 4])
  expect(held.map((m) => m.content).sort()).toEqual(['admin 1', 'first', 'owner 1', 'owner 2'])
})
