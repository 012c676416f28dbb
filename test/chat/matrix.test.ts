// The permission matrix of DESIGN.md section 4 through the real HTTP API: every row, for every role and an
// outsider, in a public and an invite_only room (and an outsider of a private one); then the "change
// roles" footnote, the owner who cannot be removed, 401 without a token and 404 for rooms that are not there.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { SessionType } from '../../src/db/schema.js'
import { API, startTestApp, type TestApi, type TestResponse, type TestUser } from '../helpers/app.js'
import { invite, type RoomWithRoles, roomWithRoles, send } from '../helpers/chat.js'

/** Parsed JSON of a response: assertions read it without declaring every shape. */
type Json = Awaited<ReturnType<TestResponse['json']>>

type Who = 'owner' | 'admin' | 'member' | 'viewer' | 'outsider'
type Action =
  | 'view session'
  | 'view messages'
  | 'send messages'
  | 'update session'
  | 'delete session'
  | 'invite users'
  | 'remove participants'
  | 'change roles'

// DESIGN.md's table with the documented statuses in place of yes/no ("view session and messages" is two
// rows here; viewing the session also lists its participants). The four role columns hold in public
// and invite_only rooms alike. An outsider (signed up, not in the room) sees a public room, so what needs a
// role is 403 there; an invite_only or private room is 404 to them for everything, never 403.
// biome-ignore format: the table reads like the one in DESIGN.md
const MATRIX: [Action, number, number, number, number, number, number, number][] = [
  //                                                       outsider in a room that is
  // action                owner admin member viewer        public invite_only private
  ['view session',         200,  200,  200,   200,          200,   404,        404],
  ['view messages',        200,  200,  200,   200,          403,   404,        404],
  ['send messages',        201,  201,  201,   403,          403,   404,        404],
  ['update session',       200,  200,  403,   403,          403,   404,        404],
  ['delete session',       204,  403,  403,   403,          403,   404,        404],
  ['invite users',         201,  201,  403,   403,          403,   404,        404],
  ['remove participants',  200,  200,  403,   403,          403,   404,        404],
  ['change roles',         200,  200,  403,   403,          403,   404,        404],
]

/** [action, who, room type, expected status] */
type Case = [Action, Who, SessionType, number]

const CASES: Case[] = MATRIX.flatMap(
  ([action, owner, admin, member, viewer, outsiderPublic, outsiderInviteOnly, outsiderPrivate]) => [
    ...(['public', 'invite_only'] as const).flatMap((type): Case[] => [
      [action, 'owner', type, owner],
      [action, 'admin', type, admin],
      [action, 'member', type, member],
      [action, 'viewer', type, viewer],
    ]),
    [action, 'outsider', 'public', outsiderPublic],
    [action, 'outsider', 'invite_only', outsiderInviteOnly],
    [action, 'outsider', 'private', outsiderPrivate],
  ],
)

/** A room id no room has (the largest the schema accepts). */
const MISSING_ID = 2_147_483_647
const GREETING = 'Welcome, everyone'

let api: TestApi
/** One room per type, shared by every case that does not destroy it. */
let rooms: Record<SessionType, RoomWithRoles>

beforeAll(async () => {
  api = await startTestApp()
  const [pub, inviteOnly, priv] = await Promise.all([
    roomWithRoles(api, 'public'),
    roomWithRoles(api, 'invite_only'),
    roomWithRoles(api, 'private'),
  ])
  rooms = { public: pub, invite_only: inviteOnly, private: priv }
  for (const room of [pub, inviteOnly, priv]) await send(api, room.id, room.owner, GREETING)
})
afterAll(() => api?.close())

let counter = 0
const unique = (prefix: string) => `${prefix} ${++counter}`

const session = (id: number) => `${API}/chat/sessions/${id}`

/** Checks the status (the body is in the failure message) and the error shape; returns the JSON body. */
async function expectStatus(res: TestResponse, status: number): Promise<Json> {
  const text = await res.text()
  expect(res.status, `${res.status} ${text}`).toBe(status)
  const body = text === '' ? undefined : JSON.parse(text)
  if (status === 204) expect(text).toBe('')
  if (status === 403) expect(body).toMatchObject({ code: 'forbidden', detail: expect.stringMatching(/\S/) })
  if (status === 404) expect(body).toMatchObject({ code: 'not_found', detail: expect.stringMatching(/\S/) })
  return body
}

/** The room as its owner sees it: what a request did or did not change. */
async function ownerView(room: RoomWithRoles): Promise<Json> {
  return expectStatus(await api.get(session(room.id), room.owner.token), 200)
}

async function participantsOf(room: RoomWithRoles, as: TestUser = room.owner): Promise<Json[]> {
  return expectStatus(await api.get(`${session(room.id)}/participants`, as.token), 200)
}

/** A fresh user invited by the owner as a member: the target of removals and role changes. */
async function freshMember(room: RoomWithRoles): Promise<TestUser> {
  const user = await api.signUp()
  await invite(api, room.id, room.owner, user, 'member')
  return user
}

/** A user the case may act on: a fresh member, or the owner in a private room (which has nobody else). */
async function target(room: RoomWithRoles, type: SessionType): Promise<{ user: TestUser; role: string }> {
  if (type === 'private') return { user: room.owner, role: 'owner' }
  return { user: await freshMember(room), role: 'member' }
}

/** Each action: make the request, check the status, then check that it did (or did not) take effect. */
const ACTIONS: Record<Action, (type: SessionType, who: Who, status: number) => Promise<void>> = {
  async 'view session'(type, who, status) {
    const room = rooms[type]
    const by = room[who]
    const body = await expectStatus(await api.get(session(room.id), by.token), status)
    const listed = await expectStatus(await api.get(`${session(room.id)}/participants`, by.token), status)
    if (status !== 200) return
    expect(body).toMatchObject({
      id: room.id,
      session_type: type,
      owner_id: room.owner.id,
      owner_username: room.owner.username,
      my_role: who === 'outsider' ? null : who,
    })
    const mine = body.participants.find((p: Json) => p.user_id === by.id)
    if (who === 'outsider') expect(mine).toBeUndefined()
    else expect(mine).toMatchObject({ username: by.username, role: who })
    expect(listed).toEqual(body.participants)
  },

  async 'view messages'(type, who, status) {
    const room = rooms[type]
    const body = await expectStatus(await api.get(`${session(room.id)}/messages`, room[who].token), status)
    if (status === 200) expect(body.map((m: Json) => m.content)).toContain(GREETING)
  },

  async 'send messages'(type, who, status) {
    const room = rooms[type]
    const by = room[who]
    const content = unique(`hello from the ${who}`)
    const res = await api.post(`${session(room.id)}/messages`, { content }, by.token)
    const body = await expectStatus(res, status)
    if (status === 201) {
      expect(body).toMatchObject({
        session_id: room.id,
        user_id: by.id,
        username: by.username,
        role: 'user',
        content,
      })
    }
    const history = await expectStatus(
      await api.get(`${session(room.id)}/messages?limit=200`, room.owner.token),
      200,
    )
    expect(history.some((m: Json) => m.content === content)).toBe(status === 201)
  },

  async 'update session'(type, who, status) {
    const room = rooms[type]
    const title = unique(`Renamed by the ${who}`)
    const body = await expectStatus(await api.put(session(room.id), { title }, room[who].token), status)
    if (status === 200) expect(body).toMatchObject({ id: room.id, title, my_role: who })
    expect((await ownerView(room)).title === title).toBe(status === 200)
  },

  async 'delete session'(type, who, status) {
    const room = await roomWithRoles(api, type) // a room of its own: deleting it must not break other cases
    await expectStatus(await api.delete(session(room.id), room[who].token), status)
    const after = await api.get(session(room.id), room.owner.token)
    await expectStatus(after, status === 204 ? 404 : 200)
  },

  async 'invite users'(type, who, status) {
    const room = rooms[type]
    const guest = await api.signUp()
    const res = await api.post(`${session(room.id)}/invite`, { user_id: guest.id }, room[who].token)
    const body = await expectStatus(res, status)
    if (status === 201) {
      expect(body).toMatchObject({ user_id: guest.id, username: guest.username, role: 'member' })
    }
    const inRoom = (await participantsOf(room)).some((p) => p.user_id === guest.id)
    expect(inRoom).toBe(status === 201)
  },

  async 'remove participants'(type, who, status) {
    const room = rooms[type]
    const { user } = await target(room, type)
    const res = await api.delete(`${session(room.id)}/participants/${user.id}`, room[who].token)
    const body = await expectStatus(res, status)
    if (status === 200) expect(body).toEqual({ message: expect.stringMatching(/\S/) })
    const stillIn = (await participantsOf(room)).some((p) => p.user_id === user.id)
    expect(stillIn).toBe(status !== 200)
  },

  async 'change roles'(type, who, status) {
    const room = rooms[type]
    const { user, role } = await target(room, type)
    const res = await api.put(
      `${session(room.id)}/participants/${user.id}/role`,
      { role: 'viewer' },
      room[who].token,
    )
    const body = await expectStatus(res, status)
    if (status === 200)
      expect(body).toMatchObject({ user_id: user.id, username: user.username, role: 'viewer' })
    const now = (await participantsOf(room)).find((p) => p.user_id === user.id)
    expect(now?.role).toBe(status === 200 ? 'viewer' : role)
  },
}

describe('the matrix, role by role and room type by room type', () => {
  test('has a case for every cell: 8 actions x (4 roles x 2 room types + 3 outsiders)', () => {
    expect(CASES).toHaveLength(8 * 11)
  })

  test.each(CASES)('%s: %s, %s room -> %i', (action, who, type, status) => ACTIONS[action](type, who, status))
})

describe('change roles: the footnote (not to or from owner)', () => {
  const rolePath = (room: RoomWithRoles, user: TestUser) => `${session(room.id)}/participants/${user.id}/role`

  test('an admin cannot grant owner: 403, and nothing changes', async () => {
    const room = await roomWithRoles(api, 'public')
    const res = await api.put(rolePath(room, room.member), { role: 'owner' }, room.admin.token)
    await expectStatus(res, 403)
    const view = await ownerView(room)
    expect(view.owner_id).toBe(room.owner.id)
    const roles = Object.fromEntries(view.participants.map((p: Json) => [p.user_id, p.role]))
    expect(roles).toEqual({
      [room.owner.id]: 'owner',
      [room.admin.id]: 'admin',
      [room.member.id]: 'member',
      [room.viewer.id]: 'viewer',
    })
  })

  test.each(['owner', 'admin', 'member', 'viewer'])(
    'an admin cannot change the owner’s role (to %s): 403, the owner stays owner',
    async (role) => {
      const room = await roomWithRoles(api, 'invite_only')
      await expectStatus(await api.put(rolePath(room, room.owner), { role }, room.admin.token), 403)
      const owners = (await participantsOf(room)).filter((p) => p.role === 'owner')
      expect(owners.map((p) => p.user_id)).toEqual([room.owner.id])
    },
  )

  test('an admin may make others admin, member or viewer, other admins included', async () => {
    const room = await roomWithRoles(api, 'public')
    const steps: [TestUser, string][] = [
      [room.member, 'admin'],
      [room.viewer, 'member'],
      [room.member, 'viewer'], // now an admin: admins may demote admins
      [room.viewer, 'admin'],
    ]
    for (const [user, role] of steps) {
      const body = await expectStatus(await api.put(rolePath(room, user), { role }, room.admin.token), 200)
      expect(body).toMatchObject({ user_id: user.id, role })
    }
    const roles = Object.fromEntries((await participantsOf(room)).map((p) => [p.user_id, p.role]))
    expect(roles).toEqual({
      [room.owner.id]: 'owner',
      [room.admin.id]: 'admin',
      [room.member.id]: 'viewer',
      [room.viewer.id]: 'admin',
    })
  })

  test('the owner granting owner transfers ownership: the old owner becomes admin, one owner', async () => {
    const room = await roomWithRoles(api, 'invite_only')
    const res = await api.put(rolePath(room, room.member), { role: 'owner' }, room.owner.token)
    const body = await expectStatus(res, 200)
    expect(body).toMatchObject({ user_id: room.member.id, username: room.member.username, role: 'owner' })

    const asOldOwner = await expectStatus(await api.get(session(room.id), room.owner.token), 200)
    expect(asOldOwner).toMatchObject({
      owner_id: room.member.id,
      owner_username: room.member.username,
      my_role: 'admin',
    })
    const asNewOwner = await expectStatus(await api.get(session(room.id), room.member.token), 200)
    expect(asNewOwner).toMatchObject({ owner_id: room.member.id, my_role: 'owner' })

    const participants = await participantsOf(room, room.member)
    expect(participants.filter((p) => p.role === 'owner').map((p) => p.user_id)).toEqual([room.member.id])
    expect(participants.find((p) => p.user_id === room.owner.id)?.role).toBe('admin')
    expect(participants).toHaveLength(4)

    // The matrix now follows the new roles: only the new owner may delete the room.
    await expectStatus(await api.delete(session(room.id), room.owner.token), 403)
    await expectStatus(await api.delete(session(room.id), room.member.token), 204)
  })

  // DESIGN.md: "there is always exactly one owner"; docs/api.md gives the status.
  test('the owner changing their own role otherwise is 409: a room always has its owner', async () => {
    const room = await roomWithRoles(api, 'public')
    const res = await api.put(rolePath(room, room.owner), { role: 'admin' }, room.owner.token)
    expect(await expectStatus(res, 409)).toMatchObject({ code: 'conflict' })
    const view = await ownerView(room)
    expect(view).toMatchObject({ owner_id: room.owner.id, my_role: 'owner' })
  })

  test('nobody is invited as owner (403), not even by the owner', async () => {
    const room = await roomWithRoles(api, 'public')
    for (const by of [room.owner, room.admin]) {
      const guest = await api.signUp()
      const res = await api.post(`${session(room.id)}/invite`, { user_id: guest.id, role: 'owner' }, by.token)
      await expectStatus(res, 403)
      expect((await participantsOf(room)).some((p) => p.user_id === guest.id)).toBe(false)
    }
  })
})

describe('nobody removes the owner', () => {
  test.each(['admin', 'owner', 'member', 'viewer'] as const)(
    'the %s removing the owner: 403, the owner stays',
    async (who) => {
      const room = await roomWithRoles(api, 'public')
      const res = await api.delete(`${session(room.id)}/participants/${room.owner.id}`, room[who].token)
      await expectStatus(res, 403)
      const owner = (await participantsOf(room)).find((p) => p.user_id === room.owner.id)
      expect(owner?.role).toBe('owner')
    },
  )
})

// Every chat route, by method and OpenAPI path; {id} and {user_id} are filled in per test.
interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH'
  path: string
  body?: (ids: { userId: number }) => unknown
}
// biome-ignore format: one route a line
const ROUTES: Route[] = [
  { method: 'POST',   path: '/chat/sessions', body: () => ({ title: 'Room', session_type: 'public' }) },
  { method: 'GET',    path: '/chat/sessions' },
  { method: 'GET',    path: '/chat/sessions/public' },
  { method: 'GET',    path: '/chat/sessions/{id}' },
  { method: 'PUT',    path: '/chat/sessions/{id}', body: () => ({ title: 'Renamed' }) },
  { method: 'DELETE', path: '/chat/sessions/{id}' },
  { method: 'POST',   path: '/chat/sessions/{id}/join' },
  { method: 'POST',   path: '/chat/sessions/{id}/leave' },
  { method: 'POST',   path: '/chat/sessions/{id}/invite', body: ({ userId }) => ({ user_id: userId }) },
  { method: 'GET',    path: '/chat/sessions/{id}/participants' },
  { method: 'PUT',    path: '/chat/sessions/{id}/participants/{user_id}/role', body: () => ({ role: 'viewer' }) },
  { method: 'DELETE', path: '/chat/sessions/{id}/participants/{user_id}' },
  { method: 'POST',   path: '/chat/sessions/{id}/messages', body: () => ({ content: 'hello' }) },
  { method: 'GET',    path: '/chat/sessions/{id}/messages' },
  { method: 'PATCH',  path: '/chat/sessions/{id}/messages/{message_id}', body: () => ({ content: 'edited' }) },
  { method: 'DELETE', path: '/chat/sessions/{id}/messages/{message_id}' },
  { method: 'PUT',    path: '/chat/sessions/{id}/messages/{message_id}/reactions/{emoji}' },
  { method: 'DELETE', path: '/chat/sessions/{id}/messages/{message_id}/reactions/{emoji}' },
  { method: 'POST',   path: '/chat/sessions/{id}/read', body: () => ({ seq: 0 }) },
  { method: 'GET',    path: '/chat/search?q=hello' },
  { method: 'GET',    path: '/chat/sessions/{id}/assistant' },
  { method: 'PUT',    path: '/chat/sessions/{id}/assistant', body: () => ({ instructions: 'Be brief.' }) },
  { method: 'GET',    path: '/chat/sessions/{id}/assistant/usage' },
  { method: 'GET',    path: '/chat/sessions/{id}/assistant/replies' },
  { method: 'POST',   path: '/chat/sessions/{id}/catch-up', body: () => ({}) },
]
const ROOM_ROUTES = ROUTES.filter((r) => r.path.includes('{id}'))

const routeName = (r: Route) => `${r.method} ${r.path}`

function call(route: Route, ids: { id: number; userId: number }, token?: string, withBody = true) {
  const path = route.path
    .replace('{id}', String(ids.id))
    .replace('{user_id}', String(ids.userId))
    .replace('{message_id}', '1')
    .replace('{emoji}', '%F0%9F%91%8D')
  const body = withBody && route.method !== 'GET' ? (route.body?.(ids) ?? {}) : undefined
  return api.request(route.method, API + path, { body, token })
}

describe('401 without a valid token, on every chat route', () => {
  let room: RoomWithRoles
  /** The bad credentials, by label; an undefined token sends no Authorization header. */
  const tokens: Record<string, string | undefined> = {
    'no token': undefined,
    'a token that is not a JWT': 'not-a-jwt',
  }
  beforeAll(async () => {
    room = await roomWithRoles(api, 'public')
    // A refresh token is never an access token; a deactivated user's tokens stop working.
    const gone = await api.signUp()
    await invite(api, room.id, room.owner, gone, 'admin')
    await expectStatus(await api.delete(`${API}/users/me`, gone.token), 204)
    tokens['a refresh token'] = room.admin.refreshToken
    tokens['the token of a deactivated admin'] = gone.token
  })

  test('the table lists every chat route of /openapi.json', async () => {
    const spec = await expectStatus(await api.get('/openapi.json'), 200)
    const documented = Object.entries(spec.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith(`${API}/chat`))
      .flatMap(([path, item]) =>
        Object.keys(item)
          .filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m))
          .map((m) => `${m.toUpperCase()} ${path.slice(API.length)}`),
      )
    expect(documented.sort()).toEqual(
      ROUTES.map((r) => routeName({ ...r, path: r.path.split('?')[0] ?? '' })).sort(),
    )
  })

  const LABELS = [
    'no token',
    'a token that is not a JWT',
    'a refresh token',
    'the token of a deactivated admin',
  ]
  const cases = ROUTES.flatMap((route) =>
    (route.method === 'GET' ? [false] : [true, false]).flatMap((withBody) =>
      LABELS.map((label) => [routeName(route), withBody ? 'with' : 'without', label, route] as const),
    ),
  )

  test.each(cases)('%s %s a body, %s -> 401', async (_, body, label, route) => {
    const res = await call(route, { id: room.id, userId: room.member.id }, tokens[label], body === 'with')
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(await expectStatus(res, 401)).toMatchObject({ code: 'unauthenticated' })
  })

  test('none of them changed anything', async () => {
    const view = await ownerView(room)
    expect(view).toMatchObject({ title: 'Room', participant_count: 5, message_count: 0 })
    const roles = view.participants.map((p: Json) => p.role).sort()
    expect(roles).toEqual(['admin', 'admin', 'member', 'owner', 'viewer'])
  })

  test('the token is checked before the path: a bad or missing room id without a token is 401', async () => {
    for (const path of [`/chat/sessions/not-a-number`, `/chat/sessions/${MISSING_ID}`]) {
      await expectStatus(await api.get(API + path), 401)
    }
  })
})

describe('404 for a room that is not there', () => {
  let someone: TestUser
  beforeAll(async () => {
    someone = await api.signUp()
  })

  test.each(ROOM_ROUTES.map((route) => [routeName(route), route] as const))(
    '%s on a room id nobody has -> 404',
    async (_, route) => {
      await expectStatus(await call(route, { id: MISSING_ID, userId: someone.id }, someone.token), 404)
    },
  )

  test.each(ROOM_ROUTES.map((route) => [routeName(route), route] as const))(
    '%s: an outsider of an invite_only room gets exactly the answer for a missing room',
    async (_, route) => {
      const room = await roomWithRoles(api, 'invite_only')
      const ids = { userId: room.member.id }
      const missing = await call(route, { id: MISSING_ID, ...ids }, room.outsider.token)
      const hidden = await call(route, { id: room.id, ...ids }, room.outsider.token)
      const missingBody = await expectStatus(missing, 404)
      expect(await expectStatus(hidden, 404)).toEqual(missingBody)
      // And nothing happened to the room.
      const view = await ownerView(room)
      expect(view).toMatchObject({ title: 'Room', participant_count: 4, message_count: 0 })
    },
  )

  describe('a deleted room', () => {
    let room: RoomWithRoles
    let missingBody: Json
    beforeAll(async () => {
      room = await roomWithRoles(api, 'public')
      await send(api, room.id, room.member, 'before the end')
      const res = await api.delete(session(room.id), room.owner.token)
      if (res.status !== 204) throw new Error(`delete failed: ${res.status} ${await res.text()}`)
      missingBody = await (await api.get(session(MISSING_ID), room.owner.token)).json()
    })

    const cases = ROOM_ROUTES.flatMap((route) =>
      (['owner', 'admin', 'member', 'viewer', 'outsider'] as const).map(
        (who) => [routeName(route), who, route] as const,
      ),
    )

    test.each(cases)('%s by the deleted room’s %s -> 404, as for a missing room', async (_, who, route) => {
      const res = await call(route, { id: room.id, userId: room.viewer.id }, room[who].token)
      expect(await expectStatus(res, 404)).toEqual(missingBody)
    })
  })
})
