// Rooms over HTTP: create, list mine, list public, read, update, delete (DESIGN.md section 4).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite, PARTICIPANT_FIELDS, roomWithRoles, send } from '../helpers/chat.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const SESSIONS = `${API}/chat/sessions`
const room = (id: number) => `${SESSIONS}/${id}`
const unique = () => Math.random().toString(36).slice(2, 10)

const SESSION_KEYS = [
  'ai_mode',
  'created_at',
  'description',
  'id',
  'is_active',
  'last_message',
  'last_read_seq',
  'max_participants',
  'message_count',
  'my_role',
  'owner_id',
  'owner_username',
  'participant_count',
  'session_type',
  'title',
  'unread_count',
  'updated_at',
]

/** GET /chat/sessions/{id} as `user`; fails the test unless 200. */
async function read(id: number, user: TestUser) {
  const res = await api.get(room(id), user.token)
  expect(res.status).toBe(200)
  return res.json()
}

/** The ids of GET /chat/sessions for `user`, and the X-Total-Count header. */
async function mine(user: TestUser, query = '') {
  const res = await api.get(`${SESSIONS}${query}`, user.token)
  expect(res.status).toBe(200)
  const sessions = await res.json()
  return {
    sessions,
    ids: sessions.map((s: { id: number }) => s.id) as number[],
    total: res.headers.get('x-total-count'),
  }
}

/** GET /chat/sessions/public as `user`. */
async function listPublic(user: TestUser, query: Record<string, string | number> = {}) {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))
  const res = await api.get(`${SESSIONS}/public?${params}`, user.token)
  expect(res.status).toBe(200)
  const body = await res.json()
  return { body, ids: body.sessions.map((s: { id: number }) => s.id) as number[] }
}

/** Waits until the clock has passed `iso`, so a timestamp written afterwards is strictly later. */
async function clockPast(iso: string) {
  const t = Date.parse(iso)
  while (Date.now() <= t + 1) await new Promise((resolve) => setTimeout(resolve, 2))
}

describe('POST /chat/sessions', () => {
  test('201 with exactly the Session fields; defaults: private, MAX_CHAT_PARTICIPANTS, ai_mode always', async () => {
    const owner = await api.signUp()
    const res = await api.post(SESSIONS, { title: 'My notes' }, owner.token)
    expect(res.status).toBe(201)
    const session = await res.json()
    expect(Object.keys(session).sort()).toEqual(SESSION_KEYS)
    expect(api.config.MAX_CHAT_PARTICIPANTS).toBe(50)
    expect(session).toMatchObject({
      title: 'My notes',
      description: null,
      session_type: 'private',
      max_participants: 50,
      owner_id: owner.id,
      owner_username: owner.username,
      is_active: true,
      ai_mode: 'always',
      participant_count: 1,
      message_count: 0,
      my_role: 'owner',
    })
    expect(Number.isInteger(session.id)).toBe(true)
    expect(new Date(session.created_at).toISOString()).toBe(session.created_at)
    expect(new Date(session.updated_at).toISOString()).toBe(session.updated_at)
    // Stored as answered, with the creator as its only participant, the owner.
    const stored = await read(session.id, owner)
    const { participants, ...rest } = stored
    expect(rest).toEqual(session)
    expect(participants).toHaveLength(1)
    expect(participants[0]).toMatchObject({ user_id: owner.id, username: owner.username, role: 'owner' })
  })

  test.each([
    ['public', 'mention'],
    ['invite_only', 'mention'],
    ['private', 'always'],
  ])('a %s room defaults to ai_mode %s', async (sessionType, aiMode) => {
    const owner = await api.signUp()
    const res = await api.post(SESSIONS, { title: 'Room', session_type: sessionType }, owner.token)
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ session_type: sessionType, ai_mode: aiMode })
  })

  test.each([
    ['private', 'off'],
    ['private', 'mention'],
    ['public', 'always'],
    ['public', 'off'],
    ['invite_only', 'always'],
  ])('a %s room keeps an explicit ai_mode %s', async (sessionType, aiMode) => {
    const owner = await api.signUp()
    const res = await api.post(
      SESSIONS,
      { title: 'Room', session_type: sessionType, ai_mode: aiMode },
      owner.token,
    )
    expect(res.status).toBe(201)
    const session = await res.json()
    expect(session).toMatchObject({ session_type: sessionType, ai_mode: aiMode })
    expect((await read(session.id, owner)).ai_mode).toBe(aiMode)
  })

  test('keeps the given description, type and size; accepts the bounds', async () => {
    const owner = await api.signUp()
    const max = api.config.MAX_CHAT_PARTICIPANTS
    const body = {
      title: 't'.repeat(200),
      description: 'd'.repeat(1000),
      session_type: 'invite_only',
      max_participants: 2,
    }
    const res = await api.post(SESSIONS, body, owner.token)
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject(body)
    const largest = await api.post(SESSIONS, { title: 'Big', max_participants: max }, owner.token)
    expect(largest.status).toBe(201)
    expect((await largest.json()).max_participants).toBe(max)
  })

  test.each([
    ['an empty title', { title: '' }, 'body.title'],
    ['a blank title', { title: '   ' }, 'body.title'],
    ['a title over 200 characters', { title: 't'.repeat(201) }, 'body.title'],
    ['no title', { title: undefined }, 'body.title'],
    ['a description over 1000 characters', { description: 'd'.repeat(1001) }, 'body.description'],
    ['session_type "Public"', { session_type: 'Public' }, 'body.session_type'],
    ['session_type "invite-only"', { session_type: 'invite-only' }, 'body.session_type'],
    ['session_type "PRIVATE"', { session_type: 'PRIVATE' }, 'body.session_type'],
    ['max_participants 1', { max_participants: 1 }, 'body.max_participants'],
    ['max_participants over MAX_CHAT_PARTICIPANTS', { max_participants: 51 }, 'body.max_participants'],
    ['ai_mode "sometimes"', { ai_mode: 'sometimes' }, 'body.ai_mode'],
  ])('%s is 422 naming the field, and creates nothing', async (_name, patch, path) => {
    const owner = await api.signUp()
    const res = await api.post(SESSIONS, { title: 'Room', ...patch }, owner.token)
    expect(res.status).toBe(422)
    const error = await res.json()
    expect(error.code).toBe('invalid')
    expect(error.errors.map((e: { path: string }) => e.path)).toContain(path)
    expect((await mine(owner)).total).toBe('0')
  })

  test('401 without a token', async () => {
    const res = await api.post(SESSIONS, { title: 'Room' })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ code: 'unauthenticated' })
  })

  describe('with MAX_CHAT_PARTICIPANTS=10', () => {
    let small: TestApi
    beforeAll(async () => {
      small = await startTestApp({ env: { MAX_CHAT_PARTICIPANTS: '10' } })
    })
    afterAll(() => small?.close())

    test('the default and the upper bound follow the setting, on create and on update', async () => {
      const owner = await small.signUp()
      const byDefault = await small.post(SESSIONS, { title: 'Room' }, owner.token)
      expect(byDefault.status).toBe(201)
      const created = await byDefault.json()
      expect(created.max_participants).toBe(10)
      const ten = await small.post(SESSIONS, { title: 'Room', max_participants: 10 }, owner.token)
      expect(ten.status).toBe(201)
      const eleven = await small.post(SESSIONS, { title: 'Room', max_participants: 11 }, owner.token)
      expect(eleven.status).toBe(422)
      const error = await eleven.json()
      expect(error.code).toBe('invalid')
      expect(error.errors.map((e: { path: string }) => e.path)).toContain('body.max_participants')

      const lowered = await small.put(room(created.id), { max_participants: 5 }, owner.token)
      expect(lowered.status).toBe(200)
      const over = await small.put(room(created.id), { max_participants: 11 }, owner.token)
      expect(over.status).toBe(422)
      const back = await small.put(room(created.id), { max_participants: 10 }, owner.token)
      expect(back.status).toBe(200)
      expect((await back.json()).max_participants).toBe(10)
    })
  })
})

describe('GET /chat/sessions', () => {
  test('lists only the rooms the caller is in, each with my_role and the counts', async () => {
    const [me, other] = await Promise.all([api.signUp(), api.signUp()])
    const own = await createRoom(api, me, { session_type: 'invite_only' })
    const invited = await createRoom(api, other, { session_type: 'invite_only' })
    await invite(api, invited.id, other, me, 'admin')
    const joinedPublic = await createRoom(api, other, { session_type: 'public' })
    expect((await api.post(`${room(joinedPublic.id)}/join`, undefined, me.token)).status).toBe(200)
    const notJoinedPublic = await createRoom(api, other, { session_type: 'public' })
    const othersPrivate = await createRoom(api, other, { session_type: 'private' })
    await send(api, invited.id, other, 'one')
    await send(api, invited.id, me, 'two')

    const { sessions, ids, total } = await mine(me)
    expect(ids.sort()).toEqual([own.id, invited.id, joinedPublic.id].sort())
    expect(ids).not.toContain(notJoinedPublic.id)
    expect(ids).not.toContain(othersPrivate.id)
    expect(total).toBe('3')
    const byId = new Map(sessions.map((s: { id: number }) => [s.id, s]))
    for (const s of sessions) expect(Object.keys(s).sort()).toEqual(SESSION_KEYS)
    expect(byId.get(own.id)).toMatchObject({ my_role: 'owner', participant_count: 1, message_count: 0 })
    expect(byId.get(invited.id)).toMatchObject({
      my_role: 'admin',
      participant_count: 2,
      message_count: 2,
      owner_id: other.id,
      owner_username: other.username,
    })
    expect(byId.get(joinedPublic.id)).toMatchObject({
      my_role: 'member',
      participant_count: 2,
      message_count: 0,
    })
  })

  test('newest activity first: a message moves its room to the top', async () => {
    const me = await api.signUp()
    const a = await createRoom(api, me, { title: 'A' })
    const b = await createRoom(api, me, { title: 'B' })
    const c = await createRoom(api, me, { title: 'C' })
    expect((await mine(me)).ids).toEqual([c.id, b.id, a.id])
    await send(api, a.id, me, 'bump a')
    expect((await mine(me)).ids).toEqual([a.id, c.id, b.id])
    await send(api, b.id, me, 'bump b')
    expect((await mine(me)).ids).toEqual([b.id, a.id, c.id])
  })

  test('skip and limit page the list; X-Total-Count is the total on every page, also past the end', async () => {
    const me = await api.signUp()
    for (let i = 0; i < 5; i++) await createRoom(api, me, { title: `Room ${i}` })
    const all = await mine(me)
    expect(all.ids).toHaveLength(5)
    expect(all.total).toBe('5')
    const first = await mine(me, '?limit=2')
    const second = await mine(me, '?skip=2&limit=2')
    const third = await mine(me, '?skip=4&limit=2')
    expect([...first.ids, ...second.ids, ...third.ids]).toEqual(all.ids)
    expect(first.ids).toHaveLength(2)
    expect(third.ids).toHaveLength(1)
    for (const page of [first, second, third]) expect(page.total).toBe('5')
    const past = await mine(me, '?skip=10&limit=2')
    expect(past.ids).toEqual([])
    expect(past.total).toBe('5')
  })

  test('a browser on an allowed origin may read X-Total-Count', async () => {
    const me = await api.signUp()
    await createRoom(api, me)
    const origin = api.config.ALLOWED_ORIGINS[0] ?? 'http://localhost:3000'
    const res = await api.request('GET', SESSIONS, { token: me.token, headers: { origin } })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(origin)
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(/\s*,\s*/)
    expect(exposed).toContain('x-total-count')
    expect(res.headers.get('x-total-count')).toBe('1')
  })

  test('a user in no room gets [] with X-Total-Count 0', async () => {
    const me = await api.signUp()
    const { ids, total } = await mine(me)
    expect(ids).toEqual([])
    expect(total).toBe('0')
  })

  test.each([
    ['limit=101', 'querystring.limit'],
    ['limit=0', 'querystring.limit'],
    ['skip=-1', 'querystring.skip'],
  ])('%s is 422', async (query, path) => {
    const me = await api.signUp()
    const res = await api.get(`${SESSIONS}?${query}`, me.token)
    expect(res.status).toBe(422)
    const error = await res.json()
    expect(error.code).toBe('invalid')
    expect(error.errors.map((e: { path: string }) => e.path)).toContain(path)
  })

  test('limit=100 is accepted', async () => {
    const me = await api.signUp()
    await createRoom(api, me)
    const { ids } = await mine(me, '?limit=100')
    expect(ids).toHaveLength(1)
  })
})

describe('GET /chat/sessions/public', () => {
  test('answers {sessions, total}; lists public rooms only, never invite_only, private or deleted ones', async () => {
    const owner = await api.signUp()
    const tag = unique()
    const open = await createRoom(api, owner, { title: `${tag} open`, session_type: 'public' })
    const invited = await createRoom(api, owner, { title: `${tag} invited`, session_type: 'invite_only' })
    const personal = await createRoom(api, owner, { title: `${tag} personal`, session_type: 'private' })
    const deleted = await createRoom(api, owner, { title: `${tag} deleted`, session_type: 'public' })
    expect((await api.delete(room(deleted.id), owner.token)).status).toBe(204)

    const { body, ids } = await listPublic(owner, { search: tag })
    expect(Object.keys(body).sort()).toEqual(['sessions', 'total'])
    expect(ids).toEqual([open.id])
    expect(body.total).toBe(1)
    expect(Object.keys(body.sessions[0]).sort()).toEqual(SESSION_KEYS)
    expect(body.sessions[0]).toMatchObject({ session_type: 'public', is_active: true, my_role: 'owner' })

    // Without a search, every page together: the public room is there, the others never are.
    const seen: number[] = []
    let total = Number.POSITIVE_INFINITY
    for (let skip = 0; skip < total; skip += 100) {
      const page = await listPublic(owner, { skip, limit: 100 })
      total = page.body.total
      for (const s of page.body.sessions) expect(s.session_type).toBe('public')
      seen.push(...page.ids)
    }
    expect(seen).toHaveLength(total)
    expect(seen).toContain(open.id)
    for (const hidden of [invited.id, personal.id, deleted.id]) expect(seen).not.toContain(hidden)
  })

  test('search matches the title or the description, in any case', async () => {
    const owner = await api.signUp()
    const tag = unique()
    const byTitle = await createRoom(api, owner, { title: `Planning ${tag}` })
    const byDescription = await createRoom(api, owner, {
      title: 'Elsewhere',
      description: `All about ${tag.toUpperCase()} here`,
    })
    await createRoom(api, owner, { title: 'Unrelated', description: 'nothing to see' })
    const upper = await listPublic(owner, { search: tag.toUpperCase() })
    expect(upper.ids.sort()).toEqual([byTitle.id, byDescription.id].sort())
    expect(upper.body.total).toBe(2)
    const mixed = await listPublic(owner, { search: `pLaNnInG ${tag}` })
    expect(mixed.ids).toEqual([byTitle.id])
  })

  test('% and _ in a search are literal characters, not wildcards', async () => {
    const owner = await api.signUp()
    const tag = unique()
    const underscore = await createRoom(api, owner, { title: `${tag}_x` })
    const letter = await createRoom(api, owner, { title: `${tag}ax` })
    const percent = await createRoom(api, owner, { title: `${tag}%x` })
    const longer = await createRoom(api, owner, { title: `${tag}zzx` })
    const backslash = await createRoom(api, owner, { title: `${tag}\\x` })

    expect((await listPublic(owner, { search: `${tag}_x` })).ids).toEqual([underscore.id])
    expect((await listPublic(owner, { search: `${tag}%x` })).ids).toEqual([percent.id])
    expect((await listPublic(owner, { search: `${tag}\\x` })).ids).toEqual([backslash.id])
    const all = await listPublic(owner, { search: tag })
    expect(all.ids.sort()).toEqual([underscore.id, letter.id, percent.id, longer.id, backslash.id].sort())

    const onlyPercent = await listPublic(owner, { search: '%', limit: 100 })
    expect(onlyPercent.ids).toContain(percent.id)
    expect(onlyPercent.ids).not.toContain(letter.id)
    for (const s of onlyPercent.body.sessions) expect(`${s.title} ${s.description ?? ''}`).toContain('%')
  })

  test('my_role is the caller’s role in rooms they are in, null elsewhere', async () => {
    const r = await roomWithRoles(api, 'public')
    const tag = unique()
    expect((await api.put(room(r.id), { title: `Roles ${tag}` }, r.owner.token)).status).toBe(200)
    for (const [user, role] of [
      [r.owner, 'owner'],
      [r.admin, 'admin'],
      [r.member, 'member'],
      [r.viewer, 'viewer'],
      [r.outsider, null],
    ] as const) {
      const { body } = await listPublic(user, { search: tag })
      expect(body.sessions).toHaveLength(1)
      expect(body.sessions[0]).toMatchObject({ id: r.id, my_role: role, participant_count: 4 })
    }
  })

  test('skip and limit page the result; total is the whole count, also past the end', async () => {
    const owner = await api.signUp()
    const tag = unique()
    for (let i = 0; i < 3; i++) await createRoom(api, owner, { title: `${tag} ${i}` })
    const all = await listPublic(owner, { search: tag })
    expect(all.ids).toHaveLength(3)
    const first = await listPublic(owner, { search: tag, limit: 2 })
    const second = await listPublic(owner, { search: tag, skip: 2, limit: 2 })
    expect([...first.ids, ...second.ids]).toEqual(all.ids)
    expect(first.ids).toHaveLength(2)
    expect(first.body.total).toBe(3)
    expect(second.body.total).toBe(3)
    const past = await listPublic(owner, { search: tag, skip: 5 })
    expect(past.body).toEqual({ sessions: [], total: 3 })
  })

  test('limit over 100 is 422', async () => {
    const me = await api.signUp()
    const res = await api.get(`${SESSIONS}/public?limit=101`, me.token)
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ code: 'invalid' })
  })
})

describe('GET /chat/sessions/{id}', () => {
  test('the Session with its participants, each with exactly the Participant fields', async () => {
    const r = await roomWithRoles(api, 'invite_only')
    const detail = await read(r.id, r.member)
    const { participants, ...session } = detail
    expect(Object.keys(session).sort()).toEqual(SESSION_KEYS)
    expect(session).toMatchObject({
      id: r.id,
      session_type: 'invite_only',
      owner_id: r.owner.id,
      owner_username: r.owner.username,
      participant_count: 4,
      my_role: 'member',
    })
    expect(participants).toHaveLength(4)
    for (const p of participants) {
      expect(Object.keys(p).sort()).toEqual(PARTICIPANT_FIELDS)
      expect(p.is_online).toBe(false)
      expect(new Date(p.joined_at).toISOString()).toBe(p.joined_at)
    }
    expect(participants.map((p: { user_id: number; role: string }) => [p.user_id, p.role])).toEqual([
      [r.owner.id, 'owner'],
      [r.admin.id, 'admin'],
      [r.member.id, 'member'],
      [r.viewer.id, 'viewer'],
    ])
    expect(participants[2]).toMatchObject({ username: r.member.username, first_name: null, last_name: null })
  })

  test('a public room is readable by anyone, with my_role null', async () => {
    const r = await roomWithRoles(api, 'public')
    const detail = await read(r.id, r.outsider)
    expect(detail).toMatchObject({ id: r.id, my_role: null, participant_count: 4 })
    expect(detail.participants).toHaveLength(4)
  })

  test.each(['invite_only', 'private'] as const)('an %s room is 404 to non-participants', async (type) => {
    const r = await roomWithRoles(api, type)
    const res = await api.get(room(r.id), r.outsider.token)
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'not_found' })
    expect((await read(r.id, r.owner)).my_role).toBe('owner')
  })

  test('an unknown id is 404, a malformed one 422', async () => {
    const me = await api.signUp()
    const missing = await api.get(room(2_000_000_000), me.token)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ code: 'not_found' })
    expect((await api.get(`${SESSIONS}/abc`, me.token)).status).toBe(422)
  })
})

describe('PUT /chat/sessions/{id}', () => {
  test('changes only the given fields and moves updated_at', async () => {
    const owner = await api.signUp()
    const created = await createRoom(api, owner, {
      title: 'Before',
      description: 'Kept',
      session_type: 'invite_only',
      max_participants: 7,
      ai_mode: 'off',
    })
    await clockPast(String(created.updated_at))
    const res = await api.put(room(created.id), { title: 'After' }, owner.token)
    expect(res.status).toBe(200)
    const updated = await res.json()
    expect(Object.keys(updated).sort()).toEqual(SESSION_KEYS)
    expect(updated).toEqual({ ...created, title: 'After', updated_at: updated.updated_at })
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(String(created.updated_at)))
    expect(await read(created.id, owner)).toMatchObject({
      ...created,
      title: 'After',
      updated_at: updated.updated_at,
    })

    const described = await api.put(room(created.id), { description: 'New words' }, owner.token)
    expect(await described.json()).toMatchObject({ title: 'After', description: 'New words', ai_mode: 'off' })
    const cleared = await api.put(room(created.id), { description: null }, owner.token)
    expect(await cleared.json()).toMatchObject({ title: 'After', description: null, max_participants: 7 })
    const typed = await api.put(room(created.id), { session_type: 'public' }, owner.token)
    expect(await typed.json()).toMatchObject({ session_type: 'public', ai_mode: 'off', title: 'After' })
  })

  test('ai_mode can be changed', async () => {
    const owner = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'public' })
    expect(created.ai_mode).toBe('mention')
    for (const mode of ['always', 'off', 'mention']) {
      const res = await api.put(room(created.id), { ai_mode: mode }, owner.token)
      expect(res.status).toBe(200)
      expect((await res.json()).ai_mode).toBe(mode)
      expect((await read(created.id, owner)).ai_mode).toBe(mode)
    }
  })

  test('max_participants under participant_count is 409; exactly participant_count is 200', async () => {
    const r = await roomWithRoles(api, 'public')
    const under = await api.put(room(r.id), { max_participants: 3 }, r.owner.token)
    expect(under.status).toBe(409)
    expect(await under.json()).toMatchObject({ code: 'conflict' })
    expect((await read(r.id, r.owner)).max_participants).toBe(api.config.MAX_CHAT_PARTICIPANTS)
    const exact = await api.put(room(r.id), { max_participants: 4 }, r.owner.token)
    expect(exact.status).toBe(200)
    expect(await exact.json()).toMatchObject({ max_participants: 4, participant_count: 4 })
  })

  test('a room with other participants cannot become private (409); one with only the owner can', async () => {
    const r = await roomWithRoles(api, 'invite_only')
    const crowded = await api.put(room(r.id), { session_type: 'private' }, r.owner.token)
    expect(crowded.status).toBe(409)
    expect(await crowded.json()).toMatchObject({ code: 'conflict' })
    expect((await read(r.id, r.owner)).session_type).toBe('invite_only')

    const owner = await api.signUp()
    const alone = await createRoom(api, owner, { session_type: 'public' })
    const res = await api.put(room(alone.id), { session_type: 'private' }, owner.token)
    expect(res.status).toBe(200)
    expect((await res.json()).session_type).toBe('private')
  })

  test.each([
    ['an empty title', { title: '' }, 'body.title'],
    ['a blank title', { title: '  ' }, 'body.title'],
    ['a title over 200 characters', { title: 't'.repeat(201) }, 'body.title'],
    ['a description over 1000 characters', { description: 'd'.repeat(1001) }, 'body.description'],
    ['session_type "Public"', { session_type: 'Public' }, 'body.session_type'],
    ['session_type "invite-only"', { session_type: 'invite-only' }, 'body.session_type'],
    ['max_participants 1', { max_participants: 1 }, 'body.max_participants'],
    ['max_participants over MAX_CHAT_PARTICIPANTS', { max_participants: 51 }, 'body.max_participants'],
    ['ai_mode "sometimes"', { ai_mode: 'sometimes' }, 'body.ai_mode'],
  ])('%s is 422 and changes nothing', async (_name, body, path) => {
    const owner = await api.signUp()
    const created = await createRoom(api, owner, { title: 'Same', description: 'Same' })
    const res = await api.put(room(created.id), body, owner.token)
    expect(res.status).toBe(422)
    const error = await res.json()
    expect(error.code).toBe('invalid')
    expect(error.errors.map((e: { path: string }) => e.path)).toContain(path)
    const { participants: _, ...after } = await read(created.id, owner)
    expect(after).toEqual(created)
  })

  test('an unknown room is 404', async () => {
    const me = await api.signUp()
    const res = await api.put(room(2_000_000_000), { title: 'x' }, me.token)
    expect(res.status).toBe(404)
  })
})

describe('DELETE /chat/sessions/{id}', () => {
  test('204, then the room is 404 everywhere and gone from every listing', async () => {
    const r = await roomWithRoles(api, 'public')
    const tag = unique()
    expect((await api.put(room(r.id), { title: `Doomed ${tag}` }, r.owner.token)).status).toBe(200)
    await send(api, r.id, r.member, 'last words')
    expect((await mine(r.member)).ids).toContain(r.id)
    expect((await listPublic(r.outsider, { search: tag })).ids).toEqual([r.id])

    const res = await api.delete(room(r.id), r.owner.token)
    expect(res.status).toBe(204)
    expect(await res.text()).toBe('')

    const afterwards = [
      await api.get(room(r.id), r.owner.token),
      await api.get(room(r.id), r.outsider.token),
      await api.put(room(r.id), { title: 'Back' }, r.owner.token),
      await api.get(`${room(r.id)}/messages`, r.member.token),
      await api.post(`${room(r.id)}/messages`, { content: 'hello?' }, r.member.token),
      await api.post(`${room(r.id)}/join`, undefined, r.outsider.token),
      await api.get(`${room(r.id)}/participants`, r.owner.token),
    ]
    for (const after of afterwards) {
      expect(after.status).toBe(404)
      expect(await after.json()).toMatchObject({ code: 'not_found' })
    }
    for (const user of [r.owner, r.admin, r.member, r.viewer]) {
      const { ids, total } = await mine(user)
      expect(ids).not.toContain(r.id)
      expect(total).toBe('0')
    }
    expect(await (await api.get(`${SESSIONS}/public?search=${tag}`, r.owner.token)).json()).toEqual({
      sessions: [],
      total: 0,
    })

    const again = await api.delete(room(r.id), r.owner.token)
    expect(again.status).toBe(404)
    expect(await again.json()).toMatchObject({ code: 'not_found' })
  })

  test('deleting one room leaves the owner’s other rooms alone', async () => {
    const owner = await api.signUp()
    const keep = await createRoom(api, owner)
    const drop = await createRoom(api, owner)
    expect((await api.delete(room(drop.id), owner.token)).status).toBe(204)
    const { ids, total } = await mine(owner)
    expect(ids).toEqual([keep.id])
    expect(total).toBe('1')
    expect((await read(keep.id, owner)).is_active).toBe(true)
  })
})
