// Search (DESIGN.md section 7): GET /chat/search over the rooms the caller can read, full-text with websearch
// syntax, newest first, paged by before_id; never another room, a deleted room or a deleted message.
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite, MESSAGE_FIELDS, roomWithRoles, send } from '../helpers/chat.js'
import type { Frame } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

/** A search result: a Message plus the room's title. */
const RESULT_FIELDS = [...MESSAGE_FIELDS, 'session_title'].sort()

/** A word no other test writes (letters only, so that the 'simple' parser keeps it as one token). */
const word = () => `w${[...randomBytes(6)].map((b) => String.fromCharCode(97 + (b % 26))).join('')}`

const roomPath = (roomId: number) => `${API}/chat/sessions/${roomId}`

function search(user: TestUser, params: Record<string, string | number>) {
  const query = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]))
  return api.get(`${API}/chat/search?${query}`, user.token)
}

async function found(user: TestUser, params: Record<string, string | number>) {
  const res = await search(user, params)
  expect(res.status).toBe(200)
  return (await res.json()) as { results: Frame[]; next_before_id: number | null }
}

/** The contents found for `q`, as returned (newest first). */
async function contents(user: TestUser, q: string, extra: Record<string, string | number> = {}) {
  return (await found(user, { q, ...extra })).results.map((m) => m.content)
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(await res.json()).toMatchObject({ code, detail: expect.any(String) })
}

describe('GET /chat/search', () => {
  test('results are Messages plus session_title; next_before_id null when all fit', async () => {
    const room = await roomWithRoles(api, 'invite_only')
    const w = word()
    const sent = await send(api, room.id, room.member, `hello ${w} world`)
    expect(
      (
        await api.put(
          `${roomPath(room.id)}/messages/${sent.id}/reactions/%F0%9F%91%8D`,
          undefined,
          room.owner.token,
        )
      ).status,
    ).toBe(204)
    const body = await found(room.owner, { q: w })
    expect(Object.keys(body).sort()).toEqual(['next_before_id', 'results'])
    expect(body.next_before_id).toBeNull()
    expect(body.results).toHaveLength(1)
    const [result] = body.results
    expect(Object.keys(result ?? {}).sort()).toEqual(RESULT_FIELDS)
    expect(result).toEqual({
      ...sent,
      session_title: 'Room',
      reactions: [{ emoji: '👍', count: 1, me: true }],
    })
    // `me` is the caller's.
    expect((await found(room.member, { q: w })).results[0]?.reactions).toEqual([
      { emoji: '👍', count: 1, me: false },
    ])
  })

  test('only the caller’s rooms: not rooms they are not in, not public rooms they have not joined, not rooms they left', async () => {
    const w = word()
    const me = await api.signUp()
    const stranger = await api.signUp()
    const mine = await createRoom(api, me, { title: 'Mine', session_type: 'invite_only' })
    const joined = await createRoom(api, stranger, { title: 'Joined', session_type: 'public' })
    const notJoined = await createRoom(api, stranger, { title: 'Not joined', session_type: 'public' })
    const closed = await createRoom(api, stranger, { title: 'Closed', session_type: 'invite_only' })
    const personal = await createRoom(api, stranger, { title: 'Personal', session_type: 'private' })
    const left = await createRoom(api, stranger, { title: 'Left', session_type: 'public' })
    for (const room of [joined, left]) {
      expect((await api.post(`${roomPath(room.id)}/join`, undefined, me.token)).status).toBe(200)
    }
    await send(api, mine.id, me, `${w} in mine`)
    await send(api, joined.id, stranger, `${w} in joined`)
    await send(api, notJoined.id, stranger, `${w} in not joined`)
    await send(api, closed.id, stranger, `${w} in closed`)
    await send(api, personal.id, stranger, `${w} in personal`)
    await send(api, left.id, stranger, `${w} in left`)
    expect((await api.post(`${roomPath(left.id)}/leave`, undefined, me.token)).status).toBe(200)

    const results = (await found(me, { q: w })).results
    expect(results.map((m) => [m.content, m.session_title])).toEqual([
      [`${w} in joined`, 'Joined'],
      [`${w} in mine`, 'Mine'],
    ])
    // The stranger, in every room but mine, finds theirs and not mine.
    expect(await contents(stranger, w)).toEqual([
      `${w} in left`,
      `${w} in personal`,
      `${w} in closed`,
      `${w} in not joined`,
      `${w} in joined`,
    ])
  })

  test('not in deleted rooms', async () => {
    const room = await roomWithRoles(api, 'public')
    const w = word()
    await send(api, room.id, room.member, `${w} before the room went away`)
    expect(await contents(room.member, w)).toHaveLength(1)
    expect((await api.delete(roomPath(room.id), room.owner.token)).status).toBe(204)
    expect(await contents(room.member, w)).toEqual([])
    expect(await contents(room.owner, w)).toEqual([])
  })

  test('not deleted messages; an edit is found by its new text and no longer by the old one', async () => {
    const room = await roomWithRoles(api, 'public')
    const [gone, oldWord, newWord] = [word(), word(), word()]
    const deleted = await send(api, room.id, room.member, `${gone} regrettable`)
    const kept = await send(api, room.id, room.member, `${gone} fine`)
    const edited = await send(api, room.id, room.member, `${oldWord} typo`)
    expect((await api.delete(`${roomPath(room.id)}/messages/${deleted.id}`, room.owner.token)).status).toBe(
      204,
    )
    const res = await api.request('PATCH', `${roomPath(room.id)}/messages/${edited.id}`, {
      body: { content: `${newWord} fixed` },
      token: room.member.token,
    })
    expect(res.status).toBe(200)
    expect((await found(room.admin, { q: gone })).results.map((m) => m.id)).toEqual([kept.id])
    expect(await contents(room.admin, oldWord)).toEqual([])
    const [hit] = (await found(room.admin, { q: newWord })).results
    expect(hit).toMatchObject({ id: edited.id, content: `${newWord} fixed`, edited_at: expect.any(String) })
  })

  test('newest first, across rooms', async () => {
    const room = await roomWithRoles(api, 'public')
    const other = await createRoom(api, room.owner, { title: 'Other', session_type: 'invite_only' })
    const w = word()
    const ids: number[] = []
    for (let n = 1; n <= 6; n++) {
      const where = n % 2 ? room.id : other.id
      ids.push((await send(api, where, room.owner, `${w} number ${n}`)).id)
    }
    const results = (await found(room.owner, { q: w })).results
    expect(results.map((m) => m.content)).toEqual([6, 5, 4, 3, 2, 1].map((n) => `${w} number ${n}`))
    expect(results.map((m) => m.id)).toEqual([...ids].reverse())
    expect(results.map((m) => m.session_title)).toEqual(['Other', 'Room', 'Other', 'Room', 'Other', 'Room'])
  })

  test('paging with limit=2 and before_id walks every result exactly once; next_before_id null at the end', async () => {
    const room = await roomWithRoles(api, 'public')
    const w = word()
    const sent: number[] = []
    for (let n = 1; n <= 5; n++) sent.push((await send(api, room.id, room.member, `${w} page ${n}`)).id)
    await send(api, room.id, room.member, 'unrelated noise')
    const pages: number[][] = []
    let beforeId: number | null = null
    for (let guard = 0; guard < 10; guard++) {
      const params: Record<string, string | number> = { q: w, limit: 2 }
      if (beforeId !== null) params.before_id = beforeId
      const page = await found(room.owner, params)
      pages.push(page.results.map((m) => m.id))
      if (page.next_before_id === null) break
      expect(page.next_before_id).toBe(page.results.at(-1)?.id)
      beforeId = page.next_before_id
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1])
    expect(pages.flat()).toEqual([...sent].reverse())
  })

  test('a page that ends exactly at the last result says next_before_id null', async () => {
    const room = await roomWithRoles(api, 'public')
    const w = word()
    for (let n = 1; n <= 4; n++) await send(api, room.id, room.member, `${w} ${n}`)
    const first = await found(room.owner, { q: w, limit: 2 })
    expect(first.next_before_id).not.toBeNull()
    const second = await found(room.owner, { q: w, limit: 2, before_id: first.next_before_id as number })
    expect(second.results).toHaveLength(2)
    expect(second.next_before_id).toBeNull()
    expect((await found(room.owner, { q: w, limit: 4 })).next_before_id).toBeNull()
  })

  test('session_id restricts to one room', async () => {
    const room = await roomWithRoles(api, 'public')
    const other = await createRoom(api, room.member, { title: 'Other', session_type: 'public' })
    const w = word()
    await send(api, room.id, room.member, `${w} here`)
    await send(api, other.id, room.member, `${w} there`)
    expect(await contents(room.member, w, { session_id: room.id })).toEqual([`${w} here`])
    expect(await contents(room.member, w, { session_id: other.id })).toEqual([`${w} there`])
    expect(await contents(room.member, w)).toEqual([`${w} there`, `${w} here`])
  })

  test('session_id of a room the caller cannot read: 403 for a public room not joined, 404 otherwise', async () => {
    const room = await roomWithRoles(api, 'public')
    const closed = await roomWithRoles(api, 'invite_only')
    const w = word()
    await send(api, room.id, room.owner, `${w} public`)
    await send(api, closed.id, closed.owner, `${w} closed`)
    await expectError(await search(room.outsider, { q: w, session_id: room.id }), 403, 'forbidden')
    await expectError(await search(room.outsider, { q: w, session_id: closed.id }), 404, 'not_found')
    await expectError(await search(room.outsider, { q: w, session_id: 2_147_483_647 }), 404, 'not_found')
    const deleted = await createRoom(api, room.outsider, { title: 'Gone', session_type: 'invite_only' })
    expect((await api.delete(roomPath(deleted.id), room.outsider.token)).status).toBe(204)
    await expectError(await search(room.outsider, { q: w, session_id: deleted.id }), 404, 'not_found')
  })

  test.each([
    ['q empty', { q: '' }],
    ['q blank', { q: '   ' }],
    ['q missing', {}],
    ['limit over 100', { q: 'x', limit: 101 }],
    ['limit 0', { q: 'x', limit: 0 }],
    ['before_id 0', { q: 'x', before_id: 0 }],
    ['session_id not a number', { q: 'x', session_id: 'abc' }],
  ])('%s is 422', async (_, params) => {
    const user = await api.signUp()
    const res = await search(user, params)
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ code: 'invalid', errors: expect.any(Array) })
  })

  test('limit 100 is accepted', async () => {
    const room = await roomWithRoles(api, 'public')
    const w = word()
    await send(api, room.id, room.member, w)
    expect((await found(room.member, { q: w, limit: 100 })).results).toHaveLength(1)
  })

  test('websearch syntax: "a phrase" matches the words in that order; -word excludes; or', async () => {
    const room = await roomWithRoles(api, 'public')
    const [a, b, c] = [word(), word(), word()]
    await send(api, room.id, room.member, `${a} ${b} together`)
    await send(api, room.id, room.member, `${b} ${a} reversed`)
    await send(api, room.id, room.member, `${a} then later ${b}`)
    await send(api, room.id, room.member, `${a} with ${c}`)
    await send(api, room.id, room.member, `${c} alone`)
    // Plain words: all of them, anywhere.
    expect(await contents(room.member, `${a} ${b}`)).toEqual([
      `${a} then later ${b}`,
      `${b} ${a} reversed`,
      `${a} ${b} together`,
    ])
    expect(await contents(room.member, `"${a} ${b}"`)).toEqual([`${a} ${b} together`])
    expect(await contents(room.member, `${a} -${b}`)).toEqual([`${a} with ${c}`])
    expect(await contents(room.member, `${a} -${c}`)).toEqual([
      `${a} then later ${b}`,
      `${b} ${a} reversed`,
      `${a} ${b} together`,
    ])
    expect(await contents(room.member, `"${b} ${a}" or ${c}`)).toEqual([
      `${c} alone`,
      `${a} with ${c}`,
      `${b} ${a} reversed`,
    ])
  })

  test('case-insensitive, both ways', async () => {
    const room = await roomWithRoles(api, 'public')
    const w = word()
    await send(api, room.id, room.member, `${w.toUpperCase()} shouted`)
    await send(api, room.id, room.member, `${w} whispered`)
    const both = [`${w} whispered`, `${w.toUpperCase()} shouted`]
    expect(await contents(room.member, w)).toEqual(both)
    expect(await contents(room.member, w.toUpperCase())).toEqual(both)
    expect(await contents(room.member, `${w[0]?.toUpperCase()}${w.slice(1)}`)).toEqual(both)
  })

  test('words only: a query of punctuation finds nothing, and is not an error', async () => {
    const room = await roomWithRoles(api, 'public')
    await send(api, room.id, room.member, 'hello !!! world')
    expect(await contents(room.member, '!!!')).toEqual([])
    expect(await contents(room.member, '"')).toEqual([])
    expect(await contents(room.member, '-')).toEqual([])
  })

  test('needs a token (401)', async () => {
    const res = await api.get(`${API}/chat/search?q=hello`)
    expect(res.status).toBe(401)
  })

  test('an invited viewer finds the room’s messages, from before they came in too', async () => {
    const room = await roomWithRoles(api, 'invite_only')
    const w = word()
    await send(api, room.id, room.owner, `${w} old news`)
    const late = await api.signUp()
    await invite(api, room.id, room.owner, late, 'viewer')
    expect(await contents(late, w)).toEqual([`${w} old news`])
  })
})
