// Messages over HTTP: sending (shape, seq, validation, who may send, client_msg_id retries) and history paging.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite, MESSAGE_FIELDS, roomWithRoles, send } from '../helpers/chat.js'

let api: TestApi
beforeAll(async () => {
  // Rate limits off: some tests send 60 messages from one user in a row.
  api = await startTestApp({ env: { RATE_LIMITS: 'off' } })
})
afterAll(() => api.close())

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
/** A room id that no test creates (the largest the path accepts). */
const UNKNOWN_ROOM = 2_147_483_647

const messagesPath = (roomId: number, query = '') => `${API}/chat/sessions/${roomId}/messages${query}`
const post = (roomId: number, body: unknown, user: TestUser) =>
  api.post(messagesPath(roomId), body, user.token)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function history(roomId: number, user: TestUser, query = '') {
  const res = await api.get(messagesPath(roomId, query), user.token)
  expect(res.status).toBe(200)
  return (await res.json()) as { seq: number; content: string; username: string; user_id: number }[]
}

async function seqs(roomId: number, user: TestUser, query = '') {
  return (await history(roomId, user, query)).map((m) => m.seq)
}

async function session(roomId: number, user: TestUser) {
  const res = await api.get(`${API}/chat/sessions/${roomId}`, user.token)
  expect(res.status).toBe(200)
  return res.json()
}

/** A public room whose owner and member have sent `count` messages, alternately; message n says `m<n>`. */
async function roomWithMessages(count: number) {
  const room = await roomWithRoles(api, 'public')
  for (let n = 1; n <= count; n++) await send(api, room.id, n % 2 ? room.owner : room.member, `m${n}`)
  return room
}

describe('POST /chat/sessions/{id}/messages', () => {
  test('201 with exactly the Message fields', async () => {
    const room = await roomWithRoles(api, 'public')
    const res = await post(room.id, { content: 'Hello everyone!' }, room.member)
    expect(res.status).toBe(201)
    const message = await res.json()
    expect(Object.keys(message).sort()).toEqual(MESSAGE_FIELDS)
    expect(message).toEqual({
      id: expect.any(Number),
      session_id: room.id,
      seq: 1,
      user_id: room.member.id,
      username: room.member.username,
      role: 'user',
      content: 'Hello everyone!',
      client_msg_id: null,
      reply_to: null,
      ai_usage: null,
      created_at: expect.stringMatching(ISO_UTC),
      edited_at: null,
      deleted_at: null,
      reactions: [],
    })
    expect(Number.isInteger(message.id)).toBe(true)
    expect(new Date(message.created_at).toISOString()).toBe(message.created_at)
  })

  test('the same message comes back in history, with the same fields', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent = await (
      await post(room.id, { content: 'kept', role: 'user', client_msg_id: 'c-1' }, room.admin)
    ).json()
    expect(sent).toMatchObject({ role: 'user', client_msg_id: 'c-1', username: room.admin.username })
    expect(await history(room.id, room.viewer)).toEqual([sent])
  })

  test('seq is 1, 2, 3… per room, shared by every sender, independent between rooms', async () => {
    const a = await roomWithRoles(api, 'public')
    const b = await roomWithRoles(api, 'invite_only')
    const order: [number, TestUser][] = [
      [a.id, a.owner],
      [b.id, b.member],
      [a.id, a.member],
      [a.id, a.admin],
      [b.id, b.owner],
      [a.id, a.member],
    ]
    const got: number[] = []
    for (const [roomId, user] of order) got.push((await send(api, roomId, user, 'x')).seq)
    expect(got).toEqual([1, 1, 2, 3, 2, 4])
    expect(await seqs(a.id, a.owner)).toEqual([1, 2, 3, 4])
    expect(await seqs(b.id, b.owner)).toEqual([1, 2])
  })

  test.each(['assistant', 'system'])('role %s is 422 and nothing is stored', async (role) => {
    const room = await roomWithRoles(api, 'public')
    const res = await post(room.id, { content: 'I am the AI', role }, room.owner)
    expect(res.status).toBe(422)
    const body = await res.json()
    expect(body).toMatchObject({ code: 'invalid', detail: expect.any(String) })
    expect(body.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]),
    )
    expect(await history(room.id, room.owner)).toEqual([])
    expect((await session(room.id, room.owner)).message_count).toBe(0)
  })

  test.each([
    ['blank', { content: '   ' }],
    ['blank with newlines and tabs', { content: '\n\t \n' }],
    ['empty', { content: '' }],
    ['over 10000 characters', { content: 'a'.repeat(10_001) }],
    ['missing', {}],
  ])('content %s is 422 and takes no seq', async (_, body) => {
    const room = await roomWithRoles(api, 'public')
    const res = await post(room.id, body, room.member)
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ code: 'invalid' })
    expect((await send(api, room.id, room.member, 'next')).seq).toBe(1)
  })

  // PostgreSQL text cannot hold U+0000: the API must refuse it as invalid input, not fail with 500.
  test.each([
    ['content', { content: 'a\u0000b' }],
    ['client_msg_id', { content: 'hi', client_msg_id: 'id\u0000' }],
  ])('a NUL character in %s is 422', async (_, body) => {
    const room = await roomWithRoles(api, 'public')
    const res = await post(room.id, body, room.member)
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ code: 'invalid' })
    expect((await send(api, room.id, room.member, 'next')).seq).toBe(1)
  })

  test('the six characters \\u0000 written out (not a NUL) are ordinary text', async () => {
    const room = await roomWithRoles(api, 'public')
    const res = await post(room.id, { content: 'C strings end with \\u0000' }, room.member)
    expect(res.status).toBe(201)
    expect((await res.json()).content).toBe('C strings end with \\u0000')
  })

  test('a NUL in a query string is 422, not 500', async () => {
    const user = await api.signUp()
    const res = await api.get(`${API}/chat/sessions/public?search=a%00b`, user.token)
    expect(res.status).toBe(422)
  })

  test('content of exactly 10000 characters is 201 and stored whole', async () => {
    const room = await roomWithRoles(api, 'public')
    const content = `${'x'.repeat(9_998)}é!`
    const res = await post(room.id, { content }, room.member)
    expect(res.status).toBe(201)
    expect((await res.json()).content).toBe(content)
    const [stored] = await history(room.id, room.member)
    expect(stored?.content).toBe(content)
    expect(stored?.content).toHaveLength(10_000)
  })

  test('content keeps its surrounding whitespace', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.member, '  indented\n')
    expect(message.content).toBe('  indented\n')
  })

  test('a viewer cannot send: 403, and no seq is taken', async () => {
    const room = await roomWithRoles(api, 'public')
    const res = await post(room.id, { content: 'hi' }, room.viewer)
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ code: 'forbidden' })
    expect((await send(api, room.id, room.member, 'hi')).seq).toBe(1)
    expect((await session(room.id, room.owner)).message_count).toBe(1)
  })

  test('a non-participant of a public room gets 403, of an invite_only room 404', async () => {
    const open = await roomWithRoles(api, 'public')
    const closed = await roomWithRoles(api, 'invite_only')
    const toOpen = await post(open.id, { content: 'hi' }, open.outsider)
    expect(toOpen.status).toBe(403)
    expect(await toOpen.json()).toMatchObject({ code: 'forbidden' })
    const toClosed = await post(closed.id, { content: 'hi' }, closed.outsider)
    expect(toClosed.status).toBe(404)
    expect(await toClosed.json()).toMatchObject({ code: 'not_found' })
    expect((await send(api, open.id, open.owner, 'first')).seq).toBe(1)
    expect((await send(api, closed.id, closed.owner, 'first')).seq).toBe(1)
  })

  test('a private room is 404 to anyone but its owner', async () => {
    const room = await roomWithRoles(api, 'private')
    const res = await post(room.id, { content: 'hi' }, room.outsider)
    expect(res.status).toBe(404)
    expect((await send(api, room.id, room.owner, 'note to self')).seq).toBe(1)
  })

  test('an unknown room is 404', async () => {
    const user = await api.signUp()
    const res = await post(UNKNOWN_ROOM, { content: 'hi' }, user)
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'not_found' })
  })

  test('a deleted room is 404', async () => {
    const room = await roomWithRoles(api, 'public')
    expect((await api.delete(`${API}/chat/sessions/${room.id}`, room.owner.token)).status).toBe(204)
    expect((await post(room.id, { content: 'hi' }, room.member)).status).toBe(404)
  })

  test('without a token is 401', async () => {
    const room = await roomWithRoles(api, 'public')
    const res = await api.post(messagesPath(room.id), { content: 'hi' })
    expect(res.status).toBe(401)
  })

  test('a member who joined a public room can send; after leaving, 403', async () => {
    const room = await roomWithRoles(api, 'public')
    expect((await api.post(`${API}/chat/sessions/${room.id}/join`, {}, room.outsider.token)).status).toBe(200)
    expect((await send(api, room.id, room.outsider, 'hello')).seq).toBe(1)
    expect((await api.post(`${API}/chat/sessions/${room.id}/leave`, {}, room.outsider.token)).status).toBe(
      200,
    )
    expect((await post(room.id, { content: 'still here?' }, room.outsider)).status).toBe(403)
    expect((await send(api, room.id, room.member, 'next')).seq).toBe(2)
  })

  describe('client_msg_id', () => {
    test('a retry from the same user in the same room answers 200 with the first message and takes no seq', async () => {
      const room = await roomWithRoles(api, 'public')
      const first = await post(room.id, { content: 'once', client_msg_id: 'retry-1' }, room.member)
      expect(first.status).toBe(201)
      const original = await first.json()
      expect(original).toMatchObject({ seq: 1, client_msg_id: 'retry-1' })

      const retry = await post(room.id, { content: 'once', client_msg_id: 'retry-1' }, room.member)
      expect(retry.status).toBe(200)
      expect(await retry.json()).toEqual(original)

      // A retry whose content differs still gets the first message back: the id names the message.
      const changed = await post(room.id, { content: 'edited?', client_msg_id: 'retry-1' }, room.member)
      expect(changed.status).toBe(200)
      expect(await changed.json()).toEqual(original)

      expect((await session(room.id, room.member)).message_count).toBe(1)
      expect((await send(api, room.id, room.member, 'next')).seq).toBe(2)
      expect(await seqs(room.id, room.member)).toEqual([1, 2])
      expect((await history(room.id, room.member)).map((m) => m.content)).toEqual(['once', 'next'])
    })

    test('the same client_msg_id from another user is a new message', async () => {
      const room = await roomWithRoles(api, 'public')
      const mine = await post(room.id, { content: 'a', client_msg_id: 'shared' }, room.member)
      const theirs = await post(room.id, { content: 'b', client_msg_id: 'shared' }, room.admin)
      expect(mine.status).toBe(201)
      expect(theirs.status).toBe(201)
      const [m, t] = [await mine.json(), await theirs.json()]
      expect(t.id).not.toBe(m.id)
      expect([m.seq, t.seq]).toEqual([1, 2])
      expect(t).toMatchObject({ user_id: room.admin.id, content: 'b', client_msg_id: 'shared' })
      // Each user's own retry still finds their own message.
      const again = await post(room.id, { content: 'b', client_msg_id: 'shared' }, room.admin)
      expect(again.status).toBe(200)
      expect(await again.json()).toEqual(t)
      expect((await session(room.id, room.owner)).message_count).toBe(2)
    })

    test('the same client_msg_id from the same user in another room is a new message', async () => {
      const owner = await api.signUp()
      const a = await createRoom(api, owner)
      const b = await createRoom(api, owner)
      const inA = await post(a.id, { content: 'a', client_msg_id: 'everywhere' }, owner)
      const inB = await post(b.id, { content: 'b', client_msg_id: 'everywhere' }, owner)
      expect(inA.status).toBe(201)
      expect(inB.status).toBe(201)
      const [ma, mb] = [await inA.json(), await inB.json()]
      expect(mb.id).not.toBe(ma.id)
      expect(mb).toMatchObject({ session_id: b.id, seq: 1, content: 'b' })
      expect(ma).toMatchObject({ session_id: a.id, seq: 1, content: 'a' })
    })

    test('messages without a client_msg_id are never taken for retries', async () => {
      const room = await roomWithRoles(api, 'public')
      const one = await post(room.id, { content: 'same' }, room.member)
      const two = await post(room.id, { content: 'same' }, room.member)
      expect([one.status, two.status]).toEqual([201, 201])
      expect((await two.json()).seq).toBe(2)
    })

    test('over 100 characters is 422', async () => {
      const room = await roomWithRoles(api, 'public')
      const res = await post(room.id, { content: 'hi', client_msg_id: 'c'.repeat(101) }, room.member)
      expect(res.status).toBe(422)
    })
  })

  test('message_count and the order of GET /chat/sessions follow sends', async () => {
    const owner = await api.signUp()
    const member = await api.signUp()
    const a = await createRoom(api, owner, { title: 'A' })
    const b = await createRoom(api, owner, { title: 'B' })
    const c = await createRoom(api, owner, { title: 'C' })
    await invite(api, a.id, owner, member)
    const mine = async (user: TestUser) => {
      const res = await api.get(`${API}/chat/sessions`, user.token)
      expect(res.status).toBe(200)
      const rooms = (await res.json()) as { id: number; message_count: number }[]
      return rooms.map((r) => [r.id, r.message_count])
    }
    expect(await mine(owner)).toEqual([
      [c.id, 0],
      [b.id, 0],
      [a.id, 0],
    ])

    await send(api, a.id, member, 'a1')
    expect(await mine(owner)).toEqual([
      [a.id, 1],
      [c.id, 0],
      [b.id, 0],
    ])
    expect(await mine(member)).toEqual([[a.id, 1]])

    await send(api, b.id, owner, 'b1')
    await send(api, b.id, owner, 'b2')
    expect(await mine(owner)).toEqual([
      [b.id, 2],
      [a.id, 1],
      [c.id, 0],
    ])

    await send(api, c.id, owner, 'c1')
    await send(api, a.id, owner, 'a2')
    expect(await mine(owner)).toEqual([
      [a.id, 2],
      [c.id, 1],
      [b.id, 2],
    ])
    expect((await session(a.id, member)).message_count).toBe(2)
    expect((await session(b.id, owner)).message_count).toBe(2)
  })

  test('a rejected send does not move the room up in GET /chat/sessions', async () => {
    const owner = await api.signUp()
    const viewer = await api.signUp()
    const a = await createRoom(api, owner, { title: 'A' })
    const b = await createRoom(api, owner, { title: 'B' })
    await invite(api, a.id, owner, viewer, 'viewer')
    expect((await post(a.id, { content: 'no' }, viewer)).status).toBe(403)
    expect((await post(a.id, { content: '' }, owner)).status).toBe(422)
    const rooms = (await (await api.get(`${API}/chat/sessions`, owner.token)).json()) as { id: number }[]
    expect(rooms.map((r) => r.id)).toEqual([b.id, a.id])
  })
})

describe('GET /chat/sessions/{id}/messages', () => {
  test('oldest first; by default the newest 50 of 60', async () => {
    const room = await roomWithMessages(60)
    const page = await history(room.id, room.member)
    expect(page.map((m) => m.seq)).toEqual(range(11, 60))
    expect(page.map((m) => m.content)).toEqual(range(11, 60).map((n) => `m${n}`))
    expect(page[0]).toMatchObject({ seq: 11, username: room.owner.username, user_id: room.owner.id })
    expect(page[1]).toMatchObject({ seq: 12, username: room.member.username, user_id: room.member.id })
    for (const message of page) expect(Object.keys(message).sort()).toEqual(MESSAGE_FIELDS)
  })

  test('limit', async () => {
    const room = await roomWithMessages(12)
    expect(await seqs(room.id, room.owner, '?limit=5')).toEqual([8, 9, 10, 11, 12])
    expect(await seqs(room.id, room.owner, '?limit=1')).toEqual([12])
    expect(await seqs(room.id, room.owner, '?limit=200')).toEqual(range(1, 12))
  })

  test.each(['201', '0', '-1', 'abc'])('limit=%s is 422', async (limit) => {
    const room = await roomWithRoles(api, 'public')
    const res = await api.get(messagesPath(room.id, `?limit=${limit}`), room.owner.token)
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ code: 'invalid' })
  })

  test('before_seq: the newest `limit` before it, oldest first', async () => {
    const room = await roomWithMessages(30)
    expect(await seqs(room.id, room.owner, '?before_seq=20&limit=5')).toEqual([15, 16, 17, 18, 19])
    expect(await seqs(room.id, room.owner, '?before_seq=4&limit=5')).toEqual([1, 2, 3])
    expect(await seqs(room.id, room.owner, '?before_seq=1')).toEqual([])
    expect(await seqs(room.id, room.owner, '?before_seq=1000&limit=3')).toEqual([28, 29, 30])
    expect(await seqs(room.id, room.owner, '?before_seq=25')).toEqual(range(1, 24))
  })

  test('after_seq: the oldest `limit` after it; past the end, []', async () => {
    const room = await roomWithMessages(30)
    expect(await seqs(room.id, room.owner, '?after_seq=10&limit=5')).toEqual([11, 12, 13, 14, 15])
    expect(await seqs(room.id, room.owner, '?after_seq=0&limit=3')).toEqual([1, 2, 3])
    expect(await seqs(room.id, room.owner, '?after_seq=27&limit=5')).toEqual([28, 29, 30])
    expect(await seqs(room.id, room.owner, '?after_seq=5')).toEqual(range(6, 30))
    expect(await seqs(room.id, room.owner, '?after_seq=30')).toEqual([])
    expect(await seqs(room.id, room.owner, '?after_seq=1000')).toEqual([])
  })

  test('skip counts back from the newest', async () => {
    const room = await roomWithMessages(20)
    expect(await seqs(room.id, room.owner, '?skip=5&limit=5')).toEqual([11, 12, 13, 14, 15])
    expect(await seqs(room.id, room.owner, '?skip=0&limit=5')).toEqual([16, 17, 18, 19, 20])
    expect(await seqs(room.id, room.owner, '?skip=18&limit=5')).toEqual([1, 2])
    expect(await seqs(room.id, room.owner, '?skip=20')).toEqual([])
  })

  test('an empty room has no history', async () => {
    const room = await roomWithRoles(api, 'public')
    expect(await history(room.id, room.owner)).toEqual([])
  })

  test('history is per room', async () => {
    const a = await roomWithMessages(3)
    const b = await roomWithRoles(api, 'public')
    await send(api, b.id, b.member, 'only in b')
    expect((await history(b.id, b.owner)).map((m) => m.content)).toEqual(['only in b'])
    expect((await history(a.id, a.owner)).map((m) => m.content)).toEqual(['m1', 'm2', 'm3'])
  })

  test('a non-participant of a public room gets 403, of an invite_only room 404; unknown room 404', async () => {
    const open = await roomWithMessages(2)
    const closed = await roomWithRoles(api, 'invite_only')
    await send(api, closed.id, closed.owner, 'secret')
    const fromOpen = await api.get(messagesPath(open.id), open.outsider.token)
    expect(fromOpen.status).toBe(403)
    expect(await fromOpen.json()).toMatchObject({ code: 'forbidden' })
    const fromClosed = await api.get(messagesPath(closed.id), closed.outsider.token)
    expect(fromClosed.status).toBe(404)
    expect(await fromClosed.json()).toMatchObject({ code: 'not_found' })
    const unknown = await api.get(messagesPath(UNKNOWN_ROOM), open.outsider.token)
    expect(unknown.status).toBe(404)
  })

  test('a private room is 404 to others', async () => {
    const room = await roomWithRoles(api, 'private')
    await send(api, room.id, room.owner, 'note')
    expect((await api.get(messagesPath(room.id), room.outsider.token)).status).toBe(404)
    expect((await history(room.id, room.owner)).map((m) => m.content)).toEqual(['note'])
  })

  test('a viewer can read', async () => {
    const room = await roomWithMessages(3)
    expect((await history(room.id, room.viewer)).map((m) => m.content)).toEqual(['m1', 'm2', 'm3'])
  })

  test('a member who left can no longer read: 403 in a public room, 404 in an invite_only room', async () => {
    const open = await roomWithMessages(2)
    expect(await seqs(open.id, open.member)).toEqual([1, 2])
    expect((await api.post(`${API}/chat/sessions/${open.id}/leave`, {}, open.member.token)).status).toBe(200)
    const afterLeaving = await api.get(messagesPath(open.id), open.member.token)
    expect(afterLeaving.status).toBe(403)

    const closed = await roomWithRoles(api, 'invite_only')
    await send(api, closed.id, closed.owner, 'x')
    expect(await seqs(closed.id, closed.member)).toEqual([1])
    expect((await api.post(`${API}/chat/sessions/${closed.id}/leave`, {}, closed.member.token)).status).toBe(
      200,
    )
    expect((await api.get(messagesPath(closed.id), closed.member.token)).status).toBe(404)
  })

  test('a removed participant can no longer read', async () => {
    const room = await roomWithMessages(2)
    const removed = await api.delete(
      `${API}/chat/sessions/${room.id}/participants/${room.member.id}`,
      room.owner.token,
    )
    expect(removed.status).toBe(200)
    expect((await api.get(messagesPath(room.id), room.member.token)).status).toBe(403)
  })

  test('pages walked with before_seq from the newest back to seq 1 cover every message exactly once', async () => {
    const room = await roomWithMessages(60)
    const seen: number[] = []
    let page = await seqs(room.id, room.viewer, '?limit=7')
    let pages = 0
    while (page.length > 0) {
      pages++
      expect(page).toEqual([...page].sort((x, y) => x - y))
      seen.unshift(...page)
      const oldest = page[0] as number
      page = await seqs(room.id, room.viewer, `?limit=7&before_seq=${oldest}`)
      expect(pages).toBeLessThanOrEqual(9)
    }
    expect(pages).toBe(9)
    expect(seen).toEqual(range(1, 60))
  })

  test('pages walked with after_seq from seq 0 forward cover every message exactly once', async () => {
    const room = await roomWithMessages(25)
    const seen: number[] = []
    let after = 0
    for (;;) {
      const page = await seqs(room.id, room.owner, `?limit=6&after_seq=${after}`)
      if (page.length === 0) break
      seen.push(...page)
      after = page[page.length - 1] as number
      expect(seen.length).toBeLessThanOrEqual(25)
    }
    expect(seen).toEqual(range(1, 25))
  })
})
