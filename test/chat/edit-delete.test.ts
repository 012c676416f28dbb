// Editing and deleting messages (DESIGN.md section 7): who may, what the Message and the history look like
// afterwards (a tombstone keeps its id and seq), the message_updated / message_deleted frames, and a resumed
// client rebuilding the current state from the replay.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { invite, type RoomWithRoles, roomWithRoles, send } from '../helpers/chat.js'
import { type Frame, socketsClosedAfterEach, type TestSocket } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const { online } = socketsClosedAfterEach(() => api)

const QUIET_MS = 300
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
/** A message id that no test creates. */
const UNKNOWN_MESSAGE = 9_007_199_254_740_991

const messagesPath = (roomId: number) => `${API}/chat/sessions/${roomId}/messages`
const messagePath = (roomId: number, messageId: number) => `${messagesPath(roomId)}/${messageId}`
const edit = (roomId: number, messageId: number, body: unknown, user: TestUser) =>
  api.request('PATCH', messagePath(roomId, messageId), { body, token: user.token })
const remove = (roomId: number, messageId: number, user: TestUser) =>
  api.delete(messagePath(roomId, messageId), user.token)
const react = (roomId: number, messageId: number, emoji: string, user: TestUser) =>
  api.put(`${messagePath(roomId, messageId)}/reactions/${encodeURIComponent(emoji)}`, undefined, user.token)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function history(roomId: number, user: TestUser): Promise<Frame[]> {
  const res = await api.get(`${messagesPath(roomId)}?limit=200`, user.token)
  expect(res.status).toBe(200)
  return res.json()
}

async function messageIn(roomId: number, messageId: number, user: TestUser): Promise<Frame> {
  const found = (await history(roomId, user)).find((m) => m.id === messageId)
  if (!found) throw new Error(`message ${messageId} is not in the history of room ${roomId}`)
  return found
}

async function messageCount(roomId: number, user: TestUser): Promise<number> {
  const res = await api.get(`${API}/chat/sessions/${roomId}`, user.token)
  expect(res.status).toBe(200)
  return (await res.json()).message_count
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(await res.json()).toMatchObject({ code, detail: expect.any(String) })
}

const framesOf = (socket: TestSocket, type: string) => socket.frames.filter((f) => f.type === type)

describe('PATCH /chat/sessions/{id}/messages/{message_id}', () => {
  test('the author edits: 200 Message with the new content and edited_at, also in history', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent = await send(api, room.id, room.member, 'helo world')
    expect(sent.edited_at).toBeNull()
    const res = await edit(room.id, sent.id, { content: 'hello world' }, room.member)
    expect(res.status).toBe(200)
    const edited = await res.json()
    expect(edited).toEqual({
      ...sent,
      content: 'hello world',
      edited_at: expect.stringMatching(ISO_UTC),
    })
    expect(new Date(edited.edited_at).toISOString()).toBe(edited.edited_at)
    expect(Date.parse(edited.edited_at)).toBeGreaterThanOrEqual(Date.parse(sent.created_at))
    // Everyone reads the same edited message, at the same place in history.
    for (const reader of [room.member, room.owner, room.viewer]) {
      expect(await history(room.id, reader)).toEqual([edited])
    }
    expect(await messageCount(room.id, room.owner)).toBe(1)
  })

  test('editing twice keeps the last content; seq and created_at never change', async () => {
    const room = await roomWithRoles(api, 'invite_only')
    await send(api, room.id, room.owner, 'first')
    const sent = await send(api, room.id, room.admin, 'v1')
    await send(api, room.id, room.owner, 'third')
    expect((await edit(room.id, sent.id, { content: 'v2' }, room.admin)).status).toBe(200)
    const last = await (await edit(room.id, sent.id, { content: 'v3' }, room.admin)).json()
    expect(last).toMatchObject({ id: sent.id, seq: 2, created_at: sent.created_at, content: 'v3' })
    expect((await history(room.id, room.member)).map((m) => [m.seq, m.content])).toEqual([
      [1, 'first'],
      [2, 'v3'],
      [3, 'third'],
    ])
  })

  test('10000 characters is the longest content an edit may have', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent = await send(api, room.id, room.member, 'short')
    const res = await edit(room.id, sent.id, { content: 'a'.repeat(10_000) }, room.member)
    expect(res.status).toBe(200)
    expect((await res.json()).content).toHaveLength(10_000)
  })

  test.each(['owner', 'admin', 'member'] as const)(
    'someone else than the author (%s) gets 403 and the message is unchanged',
    async (role) => {
      const room = await roomWithRoles(api, 'public')
      const author = await api.signUp()
      await invite(api, room.id, room.owner, author, 'member')
      const sent = await send(api, room.id, author, 'mine')
      await expectError(await edit(room.id, sent.id, { content: 'yours now' }, room[role]), 403, 'forbidden')
      expect(await messageIn(room.id, sent.id, author)).toEqual(sent)
    },
  )

  test('an author demoted to viewer can no longer edit (403)', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent = await send(api, room.id, room.member, 'before the demotion')
    const demoted = await api.put(
      `${API}/chat/sessions/${room.id}/participants/${room.member.id}/role`,
      { role: 'viewer' },
      room.owner.token,
    )
    expect(demoted.status).toBe(200)
    await expectError(await edit(room.id, sent.id, { content: 'after' }, room.member), 403, 'forbidden')
    expect((await messageIn(room.id, sent.id, room.owner)).content).toBe('before the demotion')
  })

  test('an author who is no longer in the room: 403 in a public room, 404 in an invite_only one', async () => {
    for (const type of ['public', 'invite_only'] as const) {
      const room = await roomWithRoles(api, type)
      const sent = await send(api, room.id, room.member, 'then I left')
      expect(
        (await api.post(`${API}/chat/sessions/${room.id}/leave`, undefined, room.member.token)).status,
      ).toBe(200)
      const res = await edit(room.id, sent.id, { content: 'edited from outside' }, room.member)
      await expectError(res, type === 'public' ? 403 : 404, type === 'public' ? 'forbidden' : 'not_found')
      expect((await messageIn(room.id, sent.id, room.owner)).content).toBe('then I left')
    }
  })

  test('a message of another room is 404, even one the caller wrote, and is unchanged', async () => {
    const room = await roomWithRoles(api, 'public')
    const other = await roomWithRoles(api, 'public')
    await invite(api, other.id, other.owner, room.member, 'member')
    const elsewhere = await send(api, other.id, room.member, 'in the other room')
    await send(api, room.id, room.member, 'here')
    await expectError(await edit(room.id, elsewhere.id, { content: 'x' }, room.member), 404, 'not_found')
    expect(await messageIn(other.id, elsewhere.id, room.member)).toEqual(elsewhere)
  })

  test('an unknown message id is 404', async () => {
    const room = await roomWithRoles(api, 'public')
    await send(api, room.id, room.member, 'one')
    await expectError(await edit(room.id, UNKNOWN_MESSAGE, { content: 'x' }, room.member), 404, 'not_found')
  })

  test.each([
    ['empty', { content: '' }],
    ['blank', { content: '   ' }],
    ['blank with newlines and tabs', { content: '\n\t \n' }],
    ['over 10000 characters', { content: 'a'.repeat(10_001) }],
    ['missing', {}],
  ])('content %s is 422 and the message is unchanged', async (_, body) => {
    const room = await roomWithRoles(api, 'public')
    const sent = await send(api, room.id, room.member, 'original')
    const res = await edit(room.id, sent.id, body, room.member)
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ code: 'invalid', errors: expect.any(Array) })
    expect(await messageIn(room.id, sent.id, room.member)).toEqual(sent)
  })

  test('a deleted message cannot be edited (409) and stays a tombstone', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent = await send(api, room.id, room.member, 'gone soon')
    expect((await remove(room.id, sent.id, room.member)).status).toBe(204)
    await expectError(await edit(room.id, sent.id, { content: 'resurrected' }, room.member), 409, 'conflict')
    expect(await messageIn(room.id, sent.id, room.member)).toMatchObject({
      content: '',
      edited_at: null,
      deleted_at: expect.stringMatching(ISO_UTC),
    })
  })

  test('frame message_updated: the edited Message at top level, to every subscribed socket', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent = await send(api, room.id, room.member, 'typo')
    expect((await react(room.id, sent.id, '👍', room.member)).status).toBe(204)
    const sockets = await Promise.all([room.owner, room.viewer, room.member].map((u) => online(u, room.id)))
    const res = await edit(room.id, sent.id, { content: 'fixed' }, room.member)
    expect(res.status).toBe(200)
    const edited = await res.json()
    expect(edited.reactions).toEqual([{ emoji: '👍', count: 1, me: true }])
    for (const socket of sockets) {
      const frame = await socket.nextOf('message_updated', room.id)
      const { type: _type, timestamp: _timestamp, ...message } = frame
      // A frame is shared by every socket: `me` is nobody's (DESIGN: Message.reactions, frames).
      expect(message).toEqual({ ...edited, reactions: [{ emoji: '👍', count: 1, me: false }] })
    }
  })

  test('a refused edit sends no frame', async () => {
    const room = await roomWithRoles(api, 'public')
    const sent = await send(api, room.id, room.member, 'stays')
    const watcher = await online(room.viewer, room.id)
    expect((await edit(room.id, sent.id, { content: 'x' }, room.owner)).status).toBe(403)
    expect((await edit(room.id, sent.id, { content: '' }, room.member)).status).toBe(422)
    expect((await watcher.quietFor(QUIET_MS)).filter((f) => f.type === 'message_updated')).toEqual([])
  })
})

describe('DELETE /chat/sessions/{id}/messages/{message_id}', () => {
  /** A room with messages m1..m5 (by the member, then the owner, alternately) and a reaction on each. */
  async function roomWithFive(type: 'public' | 'invite_only' = 'public') {
    const room = await roomWithRoles(api, type)
    const sent: Frame[] = []
    for (let n = 1; n <= 5; n++)
      sent.push(await send(api, room.id, n % 2 ? room.member : room.owner, `m${n}`))
    for (const message of sent) expect((await react(room.id, message.id, '🎉', room.admin)).status).toBe(204)
    return { room, sent }
  }

  async function expectTombstone(room: RoomWithRoles, original: Frame) {
    const tombstone = await messageIn(room.id, original.id, room.viewer)
    expect(tombstone).toMatchObject({
      id: original.id,
      seq: original.seq,
      session_id: room.id,
      created_at: original.created_at,
      content: '',
      deleted_at: expect.stringMatching(ISO_UTC),
      reactions: [],
    })
    expect(new Date(tombstone.deleted_at).toISOString()).toBe(tombstone.deleted_at)
  }

  test('the author deletes: 204, a tombstone with the same id and seq, no gap, message_count - 1', async () => {
    const { room, sent } = await roomWithFive()
    const target = sent[2] as Frame
    expect(await messageCount(room.id, room.owner)).toBe(5)
    const res = await remove(room.id, target.id, room.member)
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')
    await expectTombstone(room, target)
    const after = await history(room.id, room.member)
    expect(after.map((m) => m.seq)).toEqual(range(1, 5))
    // The other messages are untouched, reactions included.
    expect(after.filter((m) => m.id !== target.id).map((m) => [m.content, m.reactions])).toEqual(
      ['m1', 'm2', 'm4', 'm5'].map((c) => [c, [{ emoji: '🎉', count: 1, me: false }]]),
    )
    expect(await messageCount(room.id, room.owner)).toBe(4)
    // The next message still gets the next seq.
    expect((await send(api, room.id, room.member, 'm6')).seq).toBe(6)
    expect(await messageCount(room.id, room.owner)).toBe(5)
  })

  test.each(['owner', 'admin'] as const)(
    'the %s deletes a member’s message as moderation: 204',
    async (role) => {
      const { room, sent } = await roomWithFive('invite_only')
      const target = sent[0] as Frame
      expect(target.user_id).toBe(room.member.id)
      expect((await remove(room.id, target.id, room[role])).status).toBe(204)
      await expectTombstone(room, target)
      expect(await messageCount(room.id, room.member)).toBe(4)
    },
  )

  test('an admin may delete the owner’s message too', async () => {
    const { room, sent } = await roomWithFive()
    const target = sent[1] as Frame
    expect(target.user_id).toBe(room.owner.id)
    expect((await remove(room.id, target.id, room.admin)).status).toBe(204)
    await expectTombstone(room, target)
  })

  test('another member or a viewer cannot delete someone’s message (403); it is unchanged', async () => {
    const { room, sent } = await roomWithFive()
    const otherMember = await api.signUp()
    await invite(api, room.id, room.owner, otherMember, 'member')
    const target = sent[0] as Frame
    const before = await messageIn(room.id, target.id, room.viewer)
    for (const user of [otherMember, room.viewer, room.outsider]) {
      const res = await remove(room.id, target.id, user)
      await expectError(res, 403, 'forbidden')
    }
    // A member cannot delete the owner's message either.
    await expectError(await remove(room.id, (sent[1] as Frame).id, room.member), 403, 'forbidden')
    expect(await messageIn(room.id, target.id, room.viewer)).toEqual(before)
    expect(await messageCount(room.id, room.owner)).toBe(5)
  })

  test('a message of another room or an unknown id is 404', async () => {
    const { room } = await roomWithFive()
    const other = await roomWithRoles(api, 'public')
    const elsewhere = await send(api, other.id, other.owner, 'not yours to delete')
    await expectError(await remove(room.id, elsewhere.id, room.owner), 404, 'not_found')
    await expectError(await remove(room.id, UNKNOWN_MESSAGE, room.owner), 404, 'not_found')
    expect((await messageIn(other.id, elsewhere.id, other.owner)).content).toBe('not yours to delete')
    expect(await messageCount(other.id, other.owner)).toBe(1)
  })

  test('frame message_deleted {session_id, id, seq} to every subscribed socket', async () => {
    const { room, sent } = await roomWithFive()
    const target = sent[3] as Frame
    const sockets = await Promise.all([room.owner, room.viewer, room.member].map((u) => online(u, room.id)))
    expect((await remove(room.id, target.id, room.owner)).status).toBe(204)
    for (const socket of sockets) {
      const frame = await socket.nextOf('message_deleted', room.id)
      const { timestamp: _, ...rest } = frame
      expect(rest).toEqual({ type: 'message_deleted', session_id: room.id, id: target.id, seq: target.seq })
    }
  })

  test('deleting again is 204, sends no second frame and does not count twice', async () => {
    const { room, sent } = await roomWithFive()
    const target = sent[4] as Frame
    const watcher = await online(room.viewer, room.id)
    expect((await remove(room.id, target.id, room.member)).status).toBe(204)
    await watcher.nextOf('message_deleted', room.id)
    const tombstone = await messageIn(room.id, target.id, room.owner)
    expect((await remove(room.id, target.id, room.member)).status).toBe(204)
    expect((await remove(room.id, target.id, room.owner)).status).toBe(204)
    await watcher.quietFor(QUIET_MS)
    expect(framesOf(watcher, 'message_deleted')).toHaveLength(1)
    expect(await messageIn(room.id, target.id, room.owner)).toEqual(tombstone)
    expect(await messageCount(room.id, room.owner)).toBe(4)
  })

  test('the same message deleted 6 times at once: all 204, one frame, message_count - 1', async () => {
    const { room, sent } = await roomWithFive()
    const target = sent[0] as Frame
    const watcher = await online(room.viewer, room.id)
    const results = await Promise.all(
      [room.member, room.owner, room.admin, room.member, room.owner, room.admin].map((u) =>
        remove(room.id, target.id, u),
      ),
    )
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(204))
    await watcher.nextOf('message_deleted', room.id)
    await watcher.quietFor(QUIET_MS)
    expect(framesOf(watcher, 'message_deleted')).toHaveLength(1)
    expect(await messageCount(room.id, room.owner)).toBe(4)
    await expectTombstone(room, target)
  })

  test('a refused deletion sends no frame', async () => {
    const { room, sent } = await roomWithFive()
    const watcher = await online(room.owner, room.id)
    expect((await remove(room.id, (sent[0] as Frame).id, room.viewer)).status).toBe(403)
    expect((await watcher.quietFor(QUIET_MS)).filter((f) => f.type === 'message_deleted')).toEqual([])
  })

  test('a resumed client (after_seq=0) rebuilds the current state: the edit and the tombstone', async () => {
    const room = await roomWithRoles(api, 'public')
    const first = await send(api, room.id, room.member, 'first draft')
    const second = await send(api, room.id, room.owner, 'regrettable')
    const third = await send(api, room.id, room.member, 'plain')
    const edited = await (await edit(room.id, first.id, { content: 'final text' }, room.member)).json()
    expect((await remove(room.id, second.id, room.owner)).status).toBe(204)
    const socket = await online(room.viewer, room.id, { afterSeq: 0 })
    await socket.next((f) => f.type === 'chat_message' && f.seq === 3)
    await socket.quietFor(QUIET_MS)
    const replayed = framesOf(socket, 'chat_message').map(({ type: _t, timestamp: _ts, ...m }) => m)
    expect(replayed.map((m) => m.seq)).toEqual([1, 2, 3])
    expect(replayed[0]).toMatchObject({ id: first.id, content: 'final text', edited_at: edited.edited_at })
    expect(replayed[1]).toMatchObject({
      id: second.id,
      seq: 2,
      content: '',
      deleted_at: expect.stringMatching(ISO_UTC),
      reactions: [],
    })
    expect(replayed[2]).toMatchObject({ id: third.id, content: 'plain', edited_at: null, deleted_at: null })
    // What the replay says is exactly what history says.
    expect(replayed).toEqual(await history(room.id, room.viewer))
  })
})
