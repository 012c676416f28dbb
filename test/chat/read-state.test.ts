// Read state (DESIGN.md section 7): last_read_seq starts at the newest seq on joining and only moves forward;
// unread_count leaves out the caller's own and deleted messages; last_message is the newest one not deleted;
// POST …/read and its `read` frame; racing markers; unread counts for many rooms at once.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite, roomWithRoles, send } from '../helpers/chat.js'
import { type Frame, socketsClosedAfterEach, type TestSocket } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const { online } = socketsClosedAfterEach(() => api)

const QUIET_MS = 300
const roomPath = (roomId: number) => `${API}/chat/sessions/${roomId}`
const markRead = (roomId: number, body: unknown, user: TestUser) =>
  api.post(`${roomPath(roomId)}/read`, body, user.token)
const join = (roomId: number, user: TestUser) => api.post(`${roomPath(roomId)}/join`, undefined, user.token)
const deleteMessage = (roomId: number, messageId: number, user: TestUser) =>
  api.delete(`${roomPath(roomId)}/messages/${messageId}`, user.token)

/** GET /chat/sessions/{id} as `user`. */
async function detail(roomId: number, user: TestUser): Promise<Frame> {
  const res = await api.get(roomPath(roomId), user.token)
  expect(res.status).toBe(200)
  return res.json()
}

/** The room as it appears in GET /chat/sessions for `user`. */
async function listed(roomId: number, user: TestUser): Promise<Frame> {
  const res = await api.get(`${API}/chat/sessions?limit=100`, user.token)
  expect(res.status).toBe(200)
  const found = ((await res.json()) as Frame[]).find((s) => s.id === roomId)
  if (!found) throw new Error(`room ${roomId} is not listed for ${user.username}`)
  return found
}

/** [last_read_seq, unread_count] for `user`, checked to be the same in the listing and in the detail. */
async function readState(roomId: number, user: TestUser): Promise<[number, number]> {
  const one = await detail(roomId, user)
  const inList = await listed(roomId, user)
  expect([inList.last_read_seq, inList.unread_count]).toEqual([one.last_read_seq, one.unread_count])
  return [one.last_read_seq, one.unread_count]
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(await res.json()).toMatchObject({ code, detail: expect.any(String) })
}

const readFrames = (socket: TestSocket) => socket.frames.filter((f) => f.type === 'read')

describe('where the read marker starts', () => {
  test('a participant who joins starts at the newest seq, with nothing unread', async () => {
    const room = await roomWithRoles(api, 'public')
    for (const n of [1, 2, 3]) await send(api, room.id, room.owner, `before ${n}`)
    expect((await join(room.id, room.outsider)).status).toBe(200)
    expect(await readState(room.id, room.outsider)).toEqual([3, 0])
  })

  test('an invited participant starts at the newest seq too', async () => {
    const room = await roomWithRoles(api, 'invite_only')
    for (const n of [1, 2, 3, 4]) await send(api, room.id, room.member, `before ${n}`)
    await invite(api, room.id, room.owner, room.outsider, 'viewer')
    expect(await readState(room.id, room.outsider)).toEqual([4, 0])
  })

  test('a new room: 0 read, 0 unread, last_message null', async () => {
    const owner = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'invite_only' })
    expect(created).toMatchObject({ last_read_seq: 0, unread_count: 0, last_message: null })
    expect(await readState(created.id, owner)).toEqual([0, 0])
    expect((await detail(created.id, owner)).last_message).toBeNull()
  })
})

describe('unread_count', () => {
  test('messages from others after the marker are unread, in the listing and in the detail', async () => {
    const room = await roomWithRoles(api, 'public')
    for (const n of [1, 2, 3]) await send(api, room.id, n === 2 ? room.admin : room.owner, `m${n}`)
    expect(await readState(room.id, room.member)).toEqual([0, 3])
    expect(await readState(room.id, room.viewer)).toEqual([0, 3])
  })

  test('the caller’s own messages never count as unread', async () => {
    const room = await roomWithRoles(api, 'public')
    await send(api, room.id, room.member, 'mine 1')
    await send(api, room.id, room.owner, 'theirs 1')
    await send(api, room.id, room.member, 'mine 2')
    await send(api, room.id, room.member, 'mine 3')
    await send(api, room.id, room.admin, 'theirs 2')
    expect(await readState(room.id, room.member)).toEqual([0, 2])
    expect(await readState(room.id, room.owner)).toEqual([0, 4])
    expect(await readState(room.id, room.viewer)).toEqual([0, 5])
  })

  test('deleted messages do not count, whoever deleted them; deletions before the marker change nothing', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent: Frame[] = []
    for (let n = 1; n <= 6; n++) sent.push(await send(api, room.id, n % 2 ? room.owner : room.admin, `m${n}`))
    expect((await markRead(room.id, { seq: 2 }, room.member)).status).toBe(204)
    expect(await readState(room.id, room.member)).toEqual([2, 4])
    // Before the marker: already read, the count stays.
    expect((await deleteMessage(room.id, (sent[0] as Frame).id, room.owner)).status).toBe(204)
    expect(await readState(room.id, room.member)).toEqual([2, 4])
    // After it: by the author, and by an admin as moderation.
    expect((await deleteMessage(room.id, (sent[2] as Frame).id, room.owner)).status).toBe(204)
    expect((await deleteMessage(room.id, (sent[4] as Frame).id, room.admin)).status).toBe(204)
    expect(await readState(room.id, room.member)).toEqual([2, 2])
    expect(await readState(room.id, room.viewer)).toEqual([0, 3])
  })

  test('the caller’s own deleted message is not subtracted twice', async () => {
    const room = await roomWithRoles(api, 'public')
    await send(api, room.id, room.owner, 'theirs 1')
    const mine = await send(api, room.id, room.member, 'mine, soon deleted')
    await send(api, room.id, room.owner, 'theirs 2')
    await send(api, room.id, room.member, 'mine, kept')
    expect(await readState(room.id, room.member)).toEqual([0, 2])
    expect((await deleteMessage(room.id, mine.id, room.member)).status).toBe(204)
    expect(await readState(room.id, room.member)).toEqual([0, 2])
    expect(await readState(room.id, room.owner)).toEqual([0, 1])
  })
})

describe('POST /chat/sessions/{id}/read', () => {
  test('204 moves last_read_seq forward and unread_count drops', async () => {
    const room = await roomWithRoles(api, 'public')
    for (let n = 1; n <= 5; n++) await send(api, room.id, room.owner, `m${n}`)
    const res = await markRead(room.id, { seq: 3 }, room.member)
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    expect(await readState(room.id, room.member)).toEqual([3, 2])
    expect((await markRead(room.id, { seq: 5 }, room.member)).status).toBe(204)
    expect(await readState(room.id, room.member)).toEqual([5, 0])
    // One reader's marker is theirs alone.
    expect(await readState(room.id, room.admin)).toEqual([0, 5])
  })

  test('a lower or equal seq never moves it back (still 204)', async () => {
    const room = await roomWithRoles(api, 'public')
    for (let n = 1; n <= 5; n++) await send(api, room.id, room.owner, `m${n}`)
    expect((await markRead(room.id, { seq: 4 }, room.member)).status).toBe(204)
    for (const seq of [1, 0, 4]) {
      expect((await markRead(room.id, { seq }, room.member)).status).toBe(204)
      expect(await readState(room.id, room.member)).toEqual([4, 1])
    }
  })

  test('a viewer may mark read too', async () => {
    const room = await roomWithRoles(api, 'invite_only')
    for (let n = 1; n <= 2; n++) await send(api, room.id, room.owner, `m${n}`)
    expect((await markRead(room.id, { seq: 2 }, room.viewer)).status).toBe(204)
    expect(await readState(room.id, room.viewer)).toEqual([2, 0])
  })

  test.each([
    ['beyond the newest message', { seq: 4 }],
    ['far beyond', { seq: 1_000_000 }],
    ['negative', { seq: -1 }],
    ['not an integer', { seq: 1.5 }],
    ['not a number', { seq: 'two' }],
    ['missing', {}],
  ])('seq %s is 422 and the marker stays', async (_, body) => {
    const room = await roomWithRoles(api, 'public')
    for (let n = 1; n <= 3; n++) await send(api, room.id, room.owner, `m${n}`)
    expect((await markRead(room.id, { seq: 1 }, room.member)).status).toBe(204)
    const res = await markRead(room.id, body, room.member)
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ code: 'invalid', errors: expect.any(Array) })
    expect(await readState(room.id, room.member)).toEqual([1, 2])
  })

  test('a non-participant: 403 in a public room, 404 in an invite_only one; an unknown room is 404', async () => {
    for (const [type, status, code] of [
      ['public', 403, 'forbidden'],
      ['invite_only', 404, 'not_found'],
    ] as const) {
      const room = await roomWithRoles(api, type)
      await send(api, room.id, room.owner, 'hello')
      await expectError(await markRead(room.id, { seq: 1 }, room.outsider), status, code)
    }
    const someone = await api.signUp()
    await expectError(await markRead(2_147_483_647, { seq: 0 }, someone), 404, 'not_found')
  })

  test('frame read {session_id, user_id, seq} to the room, only when the marker moved', async () => {
    const room = await roomWithRoles(api, 'public')
    for (let n = 1; n <= 4; n++) await send(api, room.id, room.owner, `m${n}`)
    const [owner, reader] = await Promise.all([online(room.owner, room.id), online(room.member, room.id)])
    expect((await markRead(room.id, { seq: 3 }, room.member)).status).toBe(204)
    for (const socket of [owner, reader]) {
      const { timestamp: _, ...frame } = await socket.nextOf('read', room.id)
      expect(frame).toEqual({ type: 'read', session_id: room.id, user_id: room.member.id, seq: 3 })
    }
    // Not moved: no frame.
    expect((await markRead(room.id, { seq: 2 }, room.member)).status).toBe(204)
    expect((await markRead(room.id, { seq: 3 }, room.member)).status).toBe(204)
    expect((await markRead(room.id, { seq: 9 }, room.member)).status).toBe(422)
    await owner.quietFor(QUIET_MS)
    expect(readFrames(owner)).toHaveLength(1)
    expect((await markRead(room.id, { seq: 4 }, room.member)).status).toBe(204)
    expect(await owner.nextOf('read', room.id)).toMatchObject({ user_id: room.member.id, seq: 4 })
  })

  test('racing markers: seqs 1..10 at once leave the marker at 10', async () => {
    const room = await roomWithRoles(api, 'public')
    for (let n = 1; n <= 10; n++) await send(api, room.id, room.owner, `m${n}`)
    const watcher = await online(room.owner, room.id)
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => markRead(room.id, { seq: i + 1 }, room.member)),
    )
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(204))
    expect(await readState(room.id, room.member)).toEqual([10, 0])
    await watcher.next((f) => f.type === 'read' && f.seq === 10)
    await watcher.quietFor(QUIET_MS)
    // Each frame announces a real move: no seq twice.
    const seqs = readFrames(watcher).map((f) => f.seq)
    expect(new Set(seqs).size).toBe(seqs.length)
  })
})

describe('last_message', () => {
  test('the newest message that is not deleted, as a Message with reactions, or null', async () => {
    const room = await roomWithRoles(api, 'public')
    expect((await listed(room.id, room.member)).last_message).toBeNull()
    const first = await send(api, room.id, room.owner, 'first')
    const second = await send(api, room.id, room.admin, 'second')
    expect(
      (
        await api.put(
          `${roomPath(room.id)}/messages/${second.id}/reactions/%F0%9F%91%8D`,
          undefined,
          room.member.token,
        )
      ).status,
    ).toBe(204)
    const expected = { ...second, reactions: [{ emoji: '👍', count: 1, me: true }] }
    expect((await listed(room.id, room.member)).last_message).toEqual(expected)
    expect((await detail(room.id, room.member)).last_message).toEqual(expected)
    // `me` is the caller's own.
    expect((await detail(room.id, room.viewer)).last_message).toEqual({
      ...expected,
      reactions: [{ emoji: '👍', count: 1, me: false }],
    })

    expect((await deleteMessage(room.id, second.id, room.admin)).status).toBe(204)
    expect((await listed(room.id, room.member)).last_message).toEqual(first)
    expect((await detail(room.id, room.viewer)).last_message).toEqual(first)

    expect((await deleteMessage(room.id, first.id, room.owner)).status).toBe(204)
    expect((await listed(room.id, room.member)).last_message).toBeNull()
    expect((await detail(room.id, room.member)).last_message).toBeNull()
  })

  test('a non-participant of a public room is not shown last_message: messages are 403 until joined', async () => {
    const room = await roomWithRoles(api, 'public')
    await send(api, room.id, room.member, 'for participants')
    // DESIGN sections 4 and 5: reading messages needs participation (a public room must be joined first).
    expect((await api.get(`${roomPath(room.id)}/messages`, room.outsider.token)).status).toBe(403)
    const seen = await detail(room.id, room.outsider)
    expect(seen).toMatchObject({ my_role: null, unread_count: 0 })
    expect(seen.last_message).toBeNull()
    const res = await api.get(`${API}/chat/sessions/public?limit=100`, room.outsider.token)
    expect(res.status).toBe(200)
    const listedPublic = (await res.json()).sessions.find((s: Frame) => s.id === room.id)
    expect(listedPublic?.last_message).toBeNull()
    // Once joined, it is there.
    expect((await join(room.id, room.outsider)).status).toBe(200)
    expect((await detail(room.id, room.outsider)).last_message).toMatchObject({ content: 'for participants' })
  })

  test('an edit shows in last_message', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent = await send(api, room.id, room.member, 'draft')
    const res = await api.request('PATCH', `${roomPath(room.id)}/messages/${sent.id}`, {
      body: { content: 'final' },
      token: room.member.token,
    })
    expect(res.status).toBe(200)
    expect((await listed(room.id, room.owner)).last_message).toEqual(await res.json())
  })

  test('the session_updated frame carries no caller-specific reaction state (`me` false)', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent = await send(api, room.id, room.member, 'react')
    expect(
      (
        await api.put(
          `${roomPath(room.id)}/messages/${sent.id}/reactions/%F0%9F%91%8D`,
          undefined,
          room.admin.token,
        )
      ).status,
    ).toBe(204)
    const watcher = await online(room.viewer, room.id)
    // The admin, who reacted, updates the room: every socket gets the same frame.
    expect((await api.put(roomPath(room.id), { title: 'Renamed' }, room.admin.token)).status).toBe(200)
    const frame = await watcher.nextOf('session_updated', room.id)
    expect(frame.session).not.toHaveProperty('unread_count')
    expect(frame.session).not.toHaveProperty('last_read_seq')
    expect(frame.session.last_message?.reactions).toEqual([{ emoji: '👍', count: 1, me: false }])
  })
})

describe('GET /chat/sessions for a user in 30 rooms', () => {
  test('every room has its own unread_count and last_message', async () => {
    const owner = await api.signUp()
    const reader = await api.signUp()
    const rooms: { id: number; expectedUnread: number; lastContent: string | null }[] = []
    for (let i = 0; i < 30; i++) {
      const created = await createRoom(api, owner, { title: `Room ${i}`, session_type: 'public' })
      expect((await join(created.id, reader)).status).toBe(200)
      rooms.push({ id: created.id, expectedUnread: 0, lastContent: null })
    }
    await Promise.all(
      rooms.map(async (room, i) => {
        // i messages from the owner; in odd rooms one of the reader's own; in every third one a deletion.
        const sent: Frame[] = []
        for (let n = 1; n <= i; n++) sent.push(await send(api, room.id, owner, `room ${i} message ${n}`))
        room.expectedUnread = i
        room.lastContent = i > 0 ? `room ${i} message ${i}` : null
        if (i % 2 === 1) {
          await send(api, room.id, reader, `room ${i} mine`)
          room.lastContent = `room ${i} mine`
        }
        if (i % 3 === 0 && i > 0) {
          expect((await deleteMessage(room.id, (sent[0] as Frame).id, owner)).status).toBe(204)
          room.expectedUnread -= 1
        }
      }),
    )
    const res = await api.get(`${API}/chat/sessions?limit=100`, reader.token)
    expect(res.status).toBe(200)
    expect(res.headers.get('x-total-count')).toBe('30')
    const listing = (await res.json()) as Frame[]
    expect(listing).toHaveLength(30)
    const byId = new Map(listing.map((s) => [s.id, s]))
    for (const room of rooms) {
      const session = byId.get(room.id)
      expect([room.id, session?.unread_count, session?.last_message?.content ?? null]).toEqual([
        room.id,
        room.expectedUnread,
        room.lastContent,
      ])
      expect(session?.last_read_seq).toBe(0)
    }
    // Reading one room changes that room only.
    const some = rooms[20] as (typeof rooms)[number]
    const newest = (await detail(some.id, reader)).last_message.seq
    expect((await markRead(some.id, { seq: newest }, reader)).status).toBe(204)
    const after = (await (await api.get(`${API}/chat/sessions?limit=100`, reader.token)).json()) as Frame[]
    for (const session of after) {
      const room = rooms.find((r) => r.id === session.id)
      expect([session.id, session.unread_count]).toEqual([
        session.id,
        room === some ? 0 : room?.expectedUnread,
      ])
    }
  })
})
