// Reactions (DESIGN.md section 7): PUT / DELETE …/reactions/{emoji}, idempotent, by anyone who may send;
// Message.reactions [{emoji, count, me}] per caller; reaction_added / reaction_removed frames only on a change;
// concurrent reactions counted exactly.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { invite, roomWithRoles, send } from '../helpers/chat.js'
import { type Frame, socketsClosedAfterEach, type TestSocket } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const { online } = socketsClosedAfterEach(() => api)

const QUIET_MS = 300
/** A message id that no test creates. */
const UNKNOWN_MESSAGE = 9_007_199_254_740_991
const THUMBS_UP = '👍'

const messagesPath = (roomId: number) => `${API}/chat/sessions/${roomId}/messages`
/** `emoji` goes into the path as given: callers encode it (or not) themselves. */
const reactionPath = (roomId: number, messageId: number, emoji: string) =>
  `${messagesPath(roomId)}/${messageId}/reactions/${emoji}`
const put = (roomId: number, messageId: number, emoji: string, user: TestUser) =>
  api.put(reactionPath(roomId, messageId, encodeURIComponent(emoji)), undefined, user.token)
const unreact = (roomId: number, messageId: number, emoji: string, user: TestUser) =>
  api.delete(reactionPath(roomId, messageId, encodeURIComponent(emoji)), user.token)

async function history(roomId: number, user: TestUser): Promise<Frame[]> {
  const res = await api.get(`${messagesPath(roomId)}?limit=200`, user.token)
  expect(res.status).toBe(200)
  return res.json()
}

/** The reactions of one message, as `user` sees them in history. */
async function reactionsOf(roomId: number, messageId: number, user: TestUser): Promise<Frame[]> {
  const message = (await history(roomId, user)).find((m) => m.id === messageId)
  if (!message) throw new Error(`message ${messageId} is not in the history of room ${roomId}`)
  return message.reactions
}

async function expectStatus(res: Response, status: number) {
  expect(res.status).toBe(status)
  if (status === 204) expect(await res.text()).toBe('')
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(await res.json()).toMatchObject({ code, detail: expect.any(String) })
}

const reactionFrames = (socket: TestSocket) =>
  socket.frames.filter((f) => f.type === 'reaction_added' || f.type === 'reaction_removed')

describe('PUT and DELETE …/reactions/{emoji}', () => {
  test('PUT is 204 and idempotent: twice is still one reaction', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'react to me')
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.member), 204)
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.member), 204)
    expect(await reactionsOf(room.id, message.id, room.member)).toEqual([
      { emoji: THUMBS_UP, count: 1, me: true },
    ])
  })

  test('DELETE is 204 and idempotent: the reaction is gone, a second DELETE is 204 too', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'react to me')
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.member), 204)
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.admin), 204)
    await expectStatus(await unreact(room.id, message.id, THUMBS_UP, room.member), 204)
    expect(await reactionsOf(room.id, message.id, room.member)).toEqual([
      { emoji: THUMBS_UP, count: 1, me: false },
    ])
    await expectStatus(await unreact(room.id, message.id, THUMBS_UP, room.member), 204)
    // Never reacted with it at all: still 204.
    await expectStatus(await unreact(room.id, message.id, '🎉', room.member), 204)
    await expectStatus(await unreact(room.id, message.id, THUMBS_UP, room.admin), 204)
    expect(await reactionsOf(room.id, message.id, room.owner)).toEqual([])
  })

  test('two users react: count 2, `me` true for each of them, false for a third user', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'good news')
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.member), 204)
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.admin), 204)
    for (const reacted of [room.member, room.admin]) {
      expect(await reactionsOf(room.id, message.id, reacted)).toEqual([
        { emoji: THUMBS_UP, count: 2, me: true },
      ])
    }
    for (const other of [room.owner, room.viewer]) {
      expect(await reactionsOf(room.id, message.id, other)).toEqual([
        { emoji: THUMBS_UP, count: 2, me: false },
      ])
    }
  })

  test('several emoji: the same order for every reader and every read, each with its own count and me', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'party')
    const other = await send(api, room.id, room.owner, 'another message')
    await expectStatus(await put(room.id, message.id, '🎉', room.member), 204)
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.admin), 204)
    await expectStatus(await put(room.id, message.id, 'ok', room.member), 204)
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.member), 204)
    await expectStatus(await put(room.id, message.id, '🎉', room.owner), 204)
    await expectStatus(await put(room.id, other.id, '❤️', room.admin), 204)

    const views = new Map<TestUser, Frame[]>()
    for (const reader of [room.member, room.admin, room.owner, room.viewer]) {
      views.set(reader, await reactionsOf(room.id, message.id, reader))
    }
    const order = (views.get(room.owner) ?? []).map((r) => r.emoji)
    expect([...order].sort()).toEqual(['ok', '🎉', THUMBS_UP].sort())
    for (const [reader, reactions] of views) {
      expect(reactions.map((r) => r.emoji)).toEqual(order)
      const byEmoji = Object.fromEntries(reactions.map((r) => [r.emoji, r]))
      expect(byEmoji['🎉']).toEqual({
        emoji: '🎉',
        count: 2,
        me: reader === room.member || reader === room.owner,
      })
      expect(byEmoji[THUMBS_UP]).toEqual({
        emoji: THUMBS_UP,
        count: 2,
        me: reader === room.member || reader === room.admin,
      })
      expect(byEmoji.ok).toEqual({ emoji: 'ok', count: 1, me: reader === room.member })
    }
    // Reading again gives the same order; the other message keeps only its own reaction.
    for (let i = 0; i < 3; i++) {
      expect((await reactionsOf(room.id, message.id, room.viewer)).map((r) => r.emoji)).toEqual(order)
    }
    expect(await reactionsOf(room.id, other.id, room.admin)).toEqual([{ emoji: '❤️', count: 1, me: true }])
  })

  test('the emoji travels URL-encoded (%F0%9F%91%8D) and comes back as 👍', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'encoded')
    const res = await api.put(reactionPath(room.id, message.id, '%F0%9F%91%8D'), undefined, room.member.token)
    await expectStatus(res, 204)
    expect(await reactionsOf(room.id, message.id, room.member)).toEqual([{ emoji: '👍', count: 1, me: true }])
    const removed = await api.delete(reactionPath(room.id, message.id, '%F0%9F%91%8D'), room.member.token)
    await expectStatus(removed, 204)
    expect(await reactionsOf(room.id, message.id, room.member)).toEqual([])
  })

  test('an emoji of 32 characters is accepted, 33 is 422', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'long emoji')
    await expectStatus(await put(room.id, message.id, 'a'.repeat(32), room.member), 204)
    // Characters, not UTF-16 units: 32 emoji outside the BMP are 32 characters.
    await expectStatus(await put(room.id, message.id, '😀'.repeat(32), room.member), 204)
    const res = await put(room.id, message.id, 'b'.repeat(33), room.member)
    await expectError(res, 422, 'invalid')
    const reactions = await reactionsOf(room.id, message.id, room.member)
    expect(reactions).toHaveLength(2)
    expect(reactions).toEqual(
      expect.arrayContaining([
        { emoji: 'a'.repeat(32), count: 1, me: true },
        { emoji: '😀'.repeat(32), count: 1, me: true },
      ]),
    )
  })

  test.each([
    ['a space (%20)', 'thumbs%20up'],
    ['only a space', '%20'],
    ['a tab', 'a%09b'],
    ['33 emoji', encodeURIComponent('😀'.repeat(33))],
  ])('an emoji with %s is 422', async (_, raw) => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'bad emoji')
    await expectError(
      await api.put(reactionPath(room.id, message.id, raw), undefined, room.member.token),
      422,
      'invalid',
    )
    await expectError(
      await api.delete(reactionPath(room.id, message.id, raw), room.member.token),
      422,
      'invalid',
    )
    expect(await reactionsOf(room.id, message.id, room.member)).toEqual([])
  })

  test('a viewer cannot react nor take a reaction back (403)', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'look but do not touch')
    await expectError(await put(room.id, message.id, THUMBS_UP, room.viewer), 403, 'forbidden')
    await expectError(await unreact(room.id, message.id, THUMBS_UP, room.viewer), 403, 'forbidden')
    expect(await reactionsOf(room.id, message.id, room.owner)).toEqual([])
  })

  test('a non-participant: 403 in a public room, 404 in an invite_only room', async () => {
    for (const [type, status, code] of [
      ['public', 403, 'forbidden'],
      ['invite_only', 404, 'not_found'],
    ] as const) {
      const room = await roomWithRoles(api, type)
      const message = await send(api, room.id, room.owner, 'members only')
      await expectError(await put(room.id, message.id, THUMBS_UP, room.outsider), status, code)
      await expectError(await unreact(room.id, message.id, THUMBS_UP, room.outsider), status, code)
      expect(await reactionsOf(room.id, message.id, room.owner)).toEqual([])
    }
  })

  test('an unknown message or a message of another room is 404', async () => {
    const room = await roomWithRoles(api, 'public')
    const other = await roomWithRoles(api, 'public')
    await invite(api, other.id, other.owner, room.member, 'member')
    await send(api, room.id, room.owner, 'here')
    const elsewhere = await send(api, other.id, other.owner, 'there')
    await expectError(await put(room.id, UNKNOWN_MESSAGE, THUMBS_UP, room.member), 404, 'not_found')
    await expectError(await unreact(room.id, UNKNOWN_MESSAGE, THUMBS_UP, room.member), 404, 'not_found')
    await expectError(await put(room.id, elsewhere.id, THUMBS_UP, room.member), 404, 'not_found')
    await expectError(await unreact(room.id, elsewhere.id, THUMBS_UP, room.member), 404, 'not_found')
    expect(await reactionsOf(other.id, elsewhere.id, other.owner)).toEqual([])
  })

  test('a deleted message: reacting is 409, and deleting a message drops its reactions', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.member, 'soon gone')
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.owner), 204)
    await expectStatus(await put(room.id, message.id, '🎉', room.admin), 204)
    expect(await reactionsOf(room.id, message.id, room.owner)).toHaveLength(2)
    await expectStatus(await api.delete(`${messagesPath(room.id)}/${message.id}`, room.member.token), 204)
    expect(await reactionsOf(room.id, message.id, room.owner)).toEqual([])
    await expectError(await put(room.id, message.id, THUMBS_UP, room.owner), 409, 'conflict')
    await expectError(await put(room.id, message.id, '❤️', room.member), 409, 'conflict')
    expect(await reactionsOf(room.id, message.id, room.member)).toEqual([])
  })
})

describe('reaction frames', () => {
  test('reaction_added / reaction_removed {session_id, message_id, emoji, user_id, username} to the room', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'frames')
    const sockets = await Promise.all([room.owner, room.viewer, room.member].map((u) => online(u, room.id)))
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.member), 204)
    const expected = {
      session_id: room.id,
      message_id: message.id,
      emoji: THUMBS_UP,
      user_id: room.member.id,
      username: room.member.username,
    }
    for (const socket of sockets) {
      const { timestamp: _, ...added } = await socket.nextOf('reaction_added', room.id)
      expect(added).toEqual({ type: 'reaction_added', ...expected })
    }
    await expectStatus(await unreact(room.id, message.id, THUMBS_UP, room.member), 204)
    for (const socket of sockets) {
      const { timestamp: _, ...removed } = await socket.nextOf('reaction_removed', room.id)
      expect(removed).toEqual({ type: 'reaction_removed', ...expected })
    }
  })

  test('no frame when nothing changed: a second identical PUT, a DELETE of nothing, a refused PUT', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'quiet')
    const watcher = await online(room.owner, room.id)
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.member), 204)
    await watcher.nextOf('reaction_added', room.id)
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.member), 204)
    await expectStatus(await unreact(room.id, message.id, '🎉', room.member), 204)
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.viewer), 403)
    await watcher.quietFor(QUIET_MS)
    expect(reactionFrames(watcher)).toHaveLength(1)

    await expectStatus(await unreact(room.id, message.id, THUMBS_UP, room.member), 204)
    await watcher.nextOf('reaction_removed', room.id)
    await expectStatus(await unreact(room.id, message.id, THUMBS_UP, room.member), 204)
    await watcher.quietFor(QUIET_MS)
    expect(reactionFrames(watcher).map((f) => f.type)).toEqual(['reaction_added', 'reaction_removed'])
  })
})

describe('concurrent reactions', () => {
  test('10 users reacting with the same emoji at once: count 10, one frame each', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'popular')
    const users = await Promise.all(Array.from({ length: 10 }, () => api.signUp()))
    for (const user of users) {
      const joined = await api.post(`${API}/chat/sessions/${room.id}/join`, undefined, user.token)
      expect(joined.status).toBe(200)
    }
    const watcher = await online(room.viewer, room.id)
    const results = await Promise.all(users.map((user) => put(room.id, message.id, THUMBS_UP, user)))
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(204))
    expect(await reactionsOf(room.id, message.id, room.viewer)).toEqual([
      { emoji: THUMBS_UP, count: 10, me: false },
    ])
    expect(await reactionsOf(room.id, message.id, users[3] as TestUser)).toEqual([
      { emoji: THUMBS_UP, count: 10, me: true },
    ])
    for (let i = 0; i < 10; i++) await watcher.nextOf('reaction_added', room.id)
    await watcher.quietFor(QUIET_MS)
    const senders = reactionFrames(watcher).map((f) => f.user_id)
    expect([...senders].sort((a, b) => a - b)).toEqual(users.map((u) => u.id).sort((a, b) => a - b))
  })

  test('the same user PUTting the same emoji 5 times at once: count 1, one frame', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'click click click')
    const watcher = await online(room.owner, room.id)
    const results = await Promise.all(
      Array.from({ length: 5 }, () => put(room.id, message.id, THUMBS_UP, room.member)),
    )
    expect(results.map((r) => r.status)).toEqual(Array(5).fill(204))
    expect(await reactionsOf(room.id, message.id, room.member)).toEqual([
      { emoji: THUMBS_UP, count: 1, me: true },
    ])
    await watcher.nextOf('reaction_added', room.id)
    await watcher.quietFor(QUIET_MS)
    expect(reactionFrames(watcher)).toHaveLength(1)
  })

  test('reactions racing a deletion: every tombstone ends with no reactions', async () => {
    const room = await roomWithRoles(api, 'public')
    const users = await Promise.all(Array.from({ length: 8 }, () => api.signUp()))
    for (const user of users) {
      expect((await api.post(`${API}/chat/sessions/${room.id}/join`, undefined, user.token)).status).toBe(200)
    }
    for (let round = 0; round < 20; round++) {
      const message = await send(api, room.id, room.member, `round ${round}`)
      const puts = users.map((user) => put(room.id, message.id, THUMBS_UP, user))
      // The deletion goes out somewhere among the reactions, at a different place each round.
      puts.splice(
        round % (users.length + 1),
        0,
        api.delete(`${messagesPath(room.id)}/${message.id}`, room.member.token),
      )
      const statuses = (await Promise.all(puts)).map((r) => r.status)
      // Each reaction either came first (204, then dropped by the deletion) or found a tombstone (409).
      expect(statuses.every((status) => status === 204 || status === 409)).toBe(true)
    }
    const tombstones = await history(room.id, room.owner)
    expect(tombstones).toHaveLength(20)
    // DESIGN section 7: a deleted message keeps no reactions.
    expect(
      tombstones
        .filter((m) => m.reactions.length > 0)
        .map((m) => [m.content, m.deleted_at !== null, m.reactions]),
    ).toEqual([])
    expect(tombstones.every((m) => m.deleted_at !== null)).toBe(true)
  })

  test('the same user DELETEing the same emoji 5 times at once: gone, one frame', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'unclick')
    await expectStatus(await put(room.id, message.id, THUMBS_UP, room.member), 204)
    const watcher = await online(room.owner, room.id)
    const results = await Promise.all(
      Array.from({ length: 5 }, () => unreact(room.id, message.id, THUMBS_UP, room.member)),
    )
    expect(results.map((r) => r.status)).toEqual(Array(5).fill(204))
    expect(await reactionsOf(room.id, message.id, room.member)).toEqual([])
    await watcher.nextOf('reaction_removed', room.id)
    await watcher.quietFor(QUIET_MS)
    expect(reactionFrames(watcher)).toHaveLength(1)
  })
})

describe('at most 20 distinct reactions per user per message', () => {
  const CAP = 20
  /** `n` different emoji: 😀, 😁, 😂, … */
  const emojis = (n: number) => Array.from({ length: n }, (_, i) => String.fromCodePoint(0x1f600 + i))
  const mine = async (roomId: number, messageId: number, user: TestUser) =>
    (await reactionsOf(roomId, messageId, user)).filter((r) => r.me).map((r) => r.emoji)

  test('the 21st distinct one is 409 naming the limit; the ones already there stay idempotent 204s', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'react a lot')
    const [first20, [extra = ''] = []] = [emojis(CAP), emojis(CAP + 1).slice(CAP)]
    for (const emoji of first20) await expectStatus(await put(room.id, message.id, emoji, room.member), 204)

    const refused = await put(room.id, message.id, extra, room.member)
    expect(refused.status).toBe(409)
    const body = await refused.json()
    expect(body).toMatchObject({ code: 'conflict' })
    expect(body.detail).toContain(String(CAP))
    for (const emoji of [first20[0] ?? '', first20[CAP - 1] ?? '']) {
      await expectStatus(await put(room.id, message.id, emoji, room.member), 204)
    }
    expect((await mine(room.id, message.id, room.member)).sort()).toEqual([...first20].sort())

    // The cap is per user and per message: someone else, or another message, is not affected.
    await expectStatus(await put(room.id, message.id, extra, room.admin), 204)
    const other = await send(api, room.id, room.owner, 'another message')
    await expectStatus(await put(room.id, other.id, extra, room.member), 204)
    // Taking one back makes room for another.
    await expectStatus(await unreact(room.id, message.id, first20[0] ?? '', room.member), 204)
    await expectStatus(await put(room.id, message.id, extra, room.member), 204)
    expect(await mine(room.id, message.id, room.member)).toHaveLength(CAP)
  })

  test('25 distinct reactions PUT at once by one user: exactly 20 stored, the other 5 are 409', async () => {
    const room = await roomWithRoles(api, 'public')
    const message = await send(api, room.id, room.owner, 'react all at once')
    const socket = await online(room.owner, room.id)
    const results = await Promise.all(
      emojis(CAP + 5).map((emoji) => put(room.id, message.id, emoji, room.member)),
    )
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 204)).toHaveLength(CAP)
    expect(statuses.filter((s) => s === 409)).toHaveLength(5)
    const stored = await mine(room.id, message.id, room.member)
    expect(stored).toHaveLength(CAP)
    // Exactly the accepted ones, and one frame for each of them.
    const accepted = emojis(CAP + 5).filter((_, i) => statuses[i] === 204)
    expect([...stored].sort()).toEqual([...accepted].sort())
    await socket.quietFor(QUIET_MS)
    expect(
      reactionFrames(socket)
        .map((f) => f.emoji)
        .sort(),
    ).toEqual([...accepted].sort())
  })
})
