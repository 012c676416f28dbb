// Who is in a room: join, leave, invite, change role (and transfer ownership), remove, list (DESIGN.md section 4).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite, PARTICIPANT_FIELDS, roomWithRoles, send } from '../helpers/chat.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const room = (id: number) => `${API}/chat/sessions/${id}`

const join = (id: number, user: TestUser) => api.post(`${room(id)}/join`, undefined, user.token)
const leave = (id: number, user: TestUser) => api.post(`${room(id)}/leave`, undefined, user.token)
const setRole = (id: number, by: TestUser, userId: number, role: unknown) =>
  api.put(`${room(id)}/participants/${userId}/role`, { role }, by.token)
const remove = (id: number, by: TestUser, userId: number) =>
  api.delete(`${room(id)}/participants/${userId}`, by.token)

/** GET /chat/sessions/{id} as `user`; fails the test unless 200. */
async function read(id: number, user: TestUser) {
  const res = await api.get(room(id), user.token)
  expect(res.status).toBe(200)
  return res.json()
}

/** The participants as [user_id, role] pairs, in the order the server lists them. */
async function roster(id: number, user: TestUser): Promise<[number, string][]> {
  const res = await api.get(`${room(id)}/participants`, user.token)
  expect(res.status).toBe(200)
  const participants = await res.json()
  return participants.map((p: { user_id: number; role: string }) => [p.user_id, p.role])
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  expect(await res.json()).toMatchObject({ code })
}

describe('POST /chat/sessions/{id}/join', () => {
  test('joins a public room as a member: 200 {message, participant_id, participant}', async () => {
    const owner = await api.signUp()
    const joiner = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'public' })
    const res = await join(created.id, joiner)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(Object.keys(body).sort()).toEqual(['message', 'participant', 'participant_id'])
    expect(body.message).toBe('Successfully joined chat session')
    expect(Object.keys(body.participant).sort()).toEqual(PARTICIPANT_FIELDS)
    expect(body.participant).toMatchObject({
      user_id: joiner.id,
      username: joiner.username,
      role: 'member',
      is_online: false,
    })
    expect(body.participant_id).toBe(body.participant.id)
    expect((await read(created.id, joiner)).my_role).toBe('member')
    expect((await read(created.id, owner)).participant_count).toBe(2)
    expect(await roster(created.id, owner)).toEqual([
      [owner.id, 'owner'],
      [joiner.id, 'member'],
    ])
  })

  test('joining again is a no-op answering the same participant', async () => {
    const owner = await api.signUp()
    const joiner = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'public' })
    const first = await (await join(created.id, joiner)).json()
    const again = await join(created.id, joiner)
    expect(again.status).toBe(200)
    const second = await again.json()
    expect(second.participant_id).toBe(first.participant_id)
    expect(second.participant).toEqual(first.participant)
    expect((await read(created.id, owner)).participant_count).toBe(2)
    // The owner "joining" their own room changes nothing either.
    const byOwner = await join(created.id, owner)
    expect(byOwner.status).toBe(200)
    expect((await byOwner.json()).participant).toMatchObject({ user_id: owner.id, role: 'owner' })
    expect((await read(created.id, owner)).participant_count).toBe(2)
  })

  test.each(['invite_only', 'private'] as const)('an %s room the caller is not in is 404', async (type) => {
    const r = await roomWithRoles(api, type)
    await expectError(await join(r.id, r.outsider), 404, 'not_found')
    expect((await roster(r.id, r.owner)).map(([id]) => id)).not.toContain(r.outsider.id)
  })

  test('a full room is 409 and stays as it was', async () => {
    const owner = await api.signUp()
    const [first, second] = await Promise.all([api.signUp(), api.signUp()])
    const created = await createRoom(api, owner, { session_type: 'public', max_participants: 2 })
    expect((await join(created.id, first)).status).toBe(200)
    await expectError(await join(created.id, second), 409, 'conflict')
    expect((await read(created.id, owner)).participant_count).toBe(2)
    expect((await roster(created.id, owner)).map(([id]) => id)).toEqual([owner.id, first.id])
  })

  test('join and leave take no body, also when a client sends Content-Type: application/json with none', async () => {
    const owner = await api.signUp()
    const joiner = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'public' })
    const emptyJson = { token: joiner.token, headers: { 'content-type': 'application/json' }, raw: '' }
    const joined = await api.request('POST', `${room(created.id)}/join`, emptyJson)
    expect(joined.status).toBe(200)
    expect((await joined.json()).participant).toMatchObject({ user_id: joiner.id, role: 'member' })
    const left = await api.request('POST', `${room(created.id)}/leave`, emptyJson)
    expect(left.status).toBe(200)
    expect((await read(created.id, owner)).participant_count).toBe(1)
  })

  test('a deleted room, or one that never existed, is 404', async () => {
    const owner = await api.signUp()
    const joiner = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'public' })
    expect((await api.delete(room(created.id), owner.token)).status).toBe(204)
    await expectError(await join(created.id, joiner), 404, 'not_found')
    await expectError(await join(2_000_000_000, joiner), 404, 'not_found')
  })
})

describe('POST /chat/sessions/{id}/leave', () => {
  test('200 {message}; the count goes down and the room leaves the caller’s list', async () => {
    const r = await roomWithRoles(api, 'public')
    const res = await leave(r.id, r.member)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ message: 'Successfully left chat session' })
    expect((await read(r.id, r.owner)).participant_count).toBe(3)
    expect((await roster(r.id, r.owner)).map(([id]) => id)).not.toContain(r.member.id)
    const mine = await api.get(`${API}/chat/sessions`, r.member.token)
    expect(await mine.json()).toEqual([])
    expect((await read(r.id, r.member)).my_role).toBe(null)
  })

  test('the owner cannot leave (409) and stays the owner', async () => {
    const r = await roomWithRoles(api, 'public')
    await expectError(await leave(r.id, r.owner), 409, 'conflict')
    const detail = await read(r.id, r.owner)
    expect(detail).toMatchObject({ my_role: 'owner', participant_count: 4, owner_id: r.owner.id })
  })

  test('a non-participant gets 404', async () => {
    const open = await roomWithRoles(api, 'public')
    await expectError(await leave(open.id, open.outsider), 404, 'not_found')
    expect((await read(open.id, open.owner)).participant_count).toBe(4)
    const closed = await roomWithRoles(api, 'invite_only')
    await expectError(await leave(closed.id, closed.outsider), 404, 'not_found')
  })

  test('after leaving a public room, joining again works (as a member, whatever the role was)', async () => {
    const r = await roomWithRoles(api, 'public')
    expect((await leave(r.id, r.admin)).status).toBe(200)
    const res = await join(r.id, r.admin)
    expect(res.status).toBe(200)
    expect((await res.json()).participant).toMatchObject({ user_id: r.admin.id, role: 'member' })
    expect((await read(r.id, r.owner)).participant_count).toBe(4)
  })

  test('after leaving an invite_only room, the room is 404 to the leaver', async () => {
    const r = await roomWithRoles(api, 'invite_only')
    expect((await leave(r.id, r.viewer)).status).toBe(200)
    await expectError(await api.get(room(r.id), r.viewer.token), 404, 'not_found')
    await expectError(await join(r.id, r.viewer), 404, 'not_found')
    expect((await read(r.id, r.owner)).participant_count).toBe(3)
  })
})

describe('POST /chat/sessions/{id}/invite', () => {
  test('by user_id: 201 Participant, role member by default; the count goes up', async () => {
    const owner = await api.signUp()
    const guest = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'invite_only' })
    const res = await api.post(`${room(created.id)}/invite`, { user_id: guest.id }, owner.token)
    expect(res.status).toBe(201)
    const participant = await res.json()
    expect(Object.keys(participant).sort()).toEqual(PARTICIPANT_FIELDS)
    expect(participant).toMatchObject({
      user_id: guest.id,
      username: guest.username,
      first_name: null,
      last_name: null,
      role: 'member',
      is_online: false,
    })
    expect(new Date(participant.joined_at).toISOString()).toBe(participant.joined_at)
    expect((await read(created.id, owner)).participant_count).toBe(2)
    expect(await roster(created.id, owner)).toEqual([
      [owner.id, 'owner'],
      [guest.id, 'member'],
    ])
  })

  test('by username in any case, with the given role', async () => {
    const owner = await api.signUp()
    const guest = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'invite_only' })
    const res = await api.post(
      `${room(created.id)}/invite`,
      { username: guest.username.toUpperCase(), role: 'viewer' },
      owner.token,
    )
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ user_id: guest.id, username: guest.username, role: 'viewer' })
  })

  test('by email in any case', async () => {
    const owner = await api.signUp()
    const tag = Math.random().toString(36).slice(2, 10)
    const mixed = await api.signUp({ email: `Mixed.${tag}@Example.COM` })
    const lower = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'public' })
    const a = await api.post(`${room(created.id)}/invite`, { email: mixed.email.toLowerCase() }, owner.token)
    expect(a.status).toBe(201)
    expect(await a.json()).toMatchObject({ user_id: mixed.id, role: 'member' })
    const b = await api.post(
      `${room(created.id)}/invite`,
      { email: lower.email.toUpperCase(), role: 'admin' },
      owner.token,
    )
    expect(b.status).toBe(201)
    expect(await b.json()).toMatchObject({ user_id: lower.id, role: 'admin' })
    expect((await read(created.id, owner)).participant_count).toBe(3)
  })

  test('the invitee can then read the room and its messages', async () => {
    const owner = await api.signUp()
    const guest = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'invite_only' })
    await send(api, created.id, owner, 'welcome')
    await expectError(await api.get(room(created.id), guest.token), 404, 'not_found')
    await invite(api, created.id, owner, guest)
    expect((await read(created.id, guest)).my_role).toBe('member')
    const messages = await api.get(`${room(created.id)}/messages`, guest.token)
    expect(messages.status).toBe(200)
    expect((await messages.json()).map((m: { content: string }) => m.content)).toEqual(['welcome'])
    const mine = await api.get(`${API}/chat/sessions`, guest.token)
    expect((await mine.json()).map((s: { id: number }) => s.id)).toEqual([created.id])
  })

  test('role owner is 403 and adds nobody', async () => {
    const owner = await api.signUp()
    const guest = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'invite_only' })
    const res = await api.post(
      `${room(created.id)}/invite`,
      { user_id: guest.id, role: 'owner' },
      owner.token,
    )
    await expectError(res, 403, 'forbidden')
    expect(await roster(created.id, owner)).toEqual([[owner.id, 'owner']])
  })

  test('into a private room is 403', async () => {
    const owner = await api.signUp()
    const guest = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'private' })
    const res = await api.post(`${room(created.id)}/invite`, { user_id: guest.id }, owner.token)
    await expectError(res, 403, 'forbidden')
    expect((await read(created.id, owner)).participant_count).toBe(1)
    await expectError(await api.get(room(created.id), guest.token), 404, 'not_found')
  })

  test.each([
    ['user_id', { user_id: 2_000_000_000 }],
    ['username', { username: 'nobody_at_all_here' }],
    ['email', { email: 'nobody-at-all@example.invalid' }],
  ])('an unknown user (by %s) is 404', async (_by, body) => {
    const owner = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'public' })
    await expectError(await api.post(`${room(created.id)}/invite`, body, owner.token), 404, 'not_found')
    expect((await read(created.id, owner)).participant_count).toBe(1)
  })

  test('a deactivated user is 404, however they are named', async () => {
    const owner = await api.signUp()
    const gone = await api.signUp()
    expect((await api.delete(`${API}/users/me`, gone.token)).status).toBe(204)
    const created = await createRoom(api, owner, { session_type: 'public' })
    for (const body of [{ user_id: gone.id }, { username: gone.username }, { email: gone.email }]) {
      await expectError(await api.post(`${room(created.id)}/invite`, body, owner.token), 404, 'not_found')
    }
    expect((await read(created.id, owner)).participant_count).toBe(1)
  })

  test('someone already in is 409, the owner included', async () => {
    const r = await roomWithRoles(api, 'invite_only')
    const again = await api.post(
      `${room(r.id)}/invite`,
      { user_id: r.member.id, role: 'admin' },
      r.owner.token,
    )
    await expectError(again, 409, 'conflict')
    const self = await api.post(`${room(r.id)}/invite`, { username: r.owner.username }, r.owner.token)
    await expectError(self, 409, 'conflict')
    expect((await read(r.id, r.owner)).participant_count).toBe(4)
    expect((await read(r.id, r.member)).my_role).toBe('member')
  })

  test('a full room is 409', async () => {
    const owner = await api.signUp()
    const [first, second] = await Promise.all([api.signUp(), api.signUp()])
    const created = await createRoom(api, owner, { session_type: 'invite_only', max_participants: 2 })
    await invite(api, created.id, owner, first)
    const res = await api.post(`${room(created.id)}/invite`, { user_id: second.id }, owner.token)
    await expectError(res, 409, 'conflict')
    expect((await read(created.id, owner)).participant_count).toBe(2)
  })

  test.each([
    ['none of user_id, username, email', (_u: TestUser) => ({ role: 'member' })],
    ['user_id and username', (u: TestUser) => ({ user_id: u.id, username: u.username })],
    ['username and email', (u: TestUser) => ({ username: u.username, email: u.email })],
    ['all three', (u: TestUser) => ({ user_id: u.id, username: u.username, email: u.email })],
  ])('%s is 422 and adds nobody', async (_name, body) => {
    const owner = await api.signUp()
    const guest = await api.signUp()
    const created = await createRoom(api, owner, { session_type: 'public' })
    const res = await api.post(`${room(created.id)}/invite`, body(guest), owner.token)
    await expectError(res, 422, 'invalid')
    expect((await read(created.id, owner)).participant_count).toBe(1)
  })
})

describe('PUT /chat/sessions/{id}/participants/{user_id}/role', () => {
  test('200 Participant with the new role, seen by everyone', async () => {
    const r = await roomWithRoles(api, 'invite_only')
    const res = await setRole(r.id, r.owner, r.member.id, 'admin')
    expect(res.status).toBe(200)
    const participant = await res.json()
    expect(Object.keys(participant).sort()).toEqual(PARTICIPANT_FIELDS)
    expect(participant).toMatchObject({ user_id: r.member.id, username: r.member.username, role: 'admin' })
    expect((await read(r.id, r.member)).my_role).toBe('admin')
    const demoted = await setRole(r.id, r.owner, r.admin.id, 'viewer')
    expect(await demoted.json()).toMatchObject({ user_id: r.admin.id, role: 'viewer' })
    expect(await roster(r.id, r.viewer)).toEqual([
      [r.owner.id, 'owner'],
      [r.admin.id, 'viewer'],
      [r.member.id, 'admin'],
      [r.viewer.id, 'viewer'],
    ])
  })

  test('someone who is not a participant is 404', async () => {
    const r = await roomWithRoles(api, 'public')
    await expectError(await setRole(r.id, r.owner, r.outsider.id, 'member'), 404, 'not_found')
    await expectError(await setRole(r.id, r.owner, 2_000_000_000, 'member'), 404, 'not_found')
    expect((await roster(r.id, r.owner)).map(([id]) => id)).not.toContain(r.outsider.id)
  })

  test.each(['superuser', 'Admin', '', null])('role %j is 422', async (role) => {
    const r = await roomWithRoles(api, 'public')
    await expectError(await setRole(r.id, r.owner, r.member.id, role), 422, 'invalid')
    expect((await read(r.id, r.member)).my_role).toBe('member')
  })

  test('setting the role someone already has is 200 and changes nothing', async () => {
    const r = await roomWithRoles(api, 'public')
    const before = await roster(r.id, r.owner)
    const res = await setRole(r.id, r.owner, r.member.id, 'member')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ user_id: r.member.id, role: 'member' })
    expect(await roster(r.id, r.owner)).toEqual(before)
  })

  test('the owner giving themselves another role is 409: there is always one owner', async () => {
    const r = await roomWithRoles(api, 'public')
    await expectError(await setRole(r.id, r.owner, r.owner.id, 'admin'), 409, 'conflict')
    const detail = await read(r.id, r.owner)
    expect(detail).toMatchObject({ my_role: 'owner', owner_id: r.owner.id })
    expect(detail.participants.filter((p: { role: string }) => p.role === 'owner')).toHaveLength(1)
  })

  test('the owner granting owner transfers ownership; only the new owner may then delete the room', async () => {
    const r = await roomWithRoles(api, 'public')
    const res = await setRole(r.id, r.owner, r.member.id, 'owner')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ user_id: r.member.id, role: 'owner' })

    const detail = await read(r.id, r.viewer)
    expect(detail).toMatchObject({ owner_id: r.member.id, owner_username: r.member.username })
    const roles = detail.participants.map((p: { user_id: number; role: string }) => [p.user_id, p.role])
    expect(roles).toContainEqual([r.owner.id, 'admin'])
    expect(roles).toContainEqual([r.member.id, 'owner'])
    expect(roles.filter(([, role]: [number, string]) => role === 'owner')).toHaveLength(1)
    expect((await read(r.id, r.owner)).my_role).toBe('admin')
    expect((await read(r.id, r.member)).my_role).toBe('owner')

    await expectError(await api.delete(room(r.id), r.owner.token), 403, 'forbidden')
    expect((await api.delete(room(r.id), r.member.token)).status).toBe(204)
    await expectError(await api.get(room(r.id), r.member.token), 404, 'not_found')
  })
})

describe('DELETE /chat/sessions/{id}/participants/{user_id}', () => {
  test('200 {message}; the count goes down and the user is gone from the list', async () => {
    const r = await roomWithRoles(api, 'public')
    const res = await remove(r.id, r.owner, r.viewer.id)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ message: 'Participant removed' })
    expect((await read(r.id, r.owner)).participant_count).toBe(3)
    expect((await roster(r.id, r.owner)).map(([id]) => id)).toEqual([r.owner.id, r.admin.id, r.member.id])
  })

  test('a user removed from an invite_only room can no longer read it (404)', async () => {
    const r = await roomWithRoles(api, 'invite_only')
    await send(api, r.id, r.owner, 'before')
    expect((await api.get(`${room(r.id)}/messages`, r.member.token)).status).toBe(200)
    expect((await remove(r.id, r.admin, r.member.id)).status).toBe(200)
    await expectError(await api.get(`${room(r.id)}/messages`, r.member.token), 404, 'not_found')
    await expectError(await api.get(room(r.id), r.member.token), 404, 'not_found')
    await expectError(await join(r.id, r.member), 404, 'not_found')
  })

  test('a user removed from a public room cannot read its messages (403) until they join again', async () => {
    const r = await roomWithRoles(api, 'public')
    await send(api, r.id, r.owner, 'hello')
    expect((await remove(r.id, r.owner, r.member.id)).status).toBe(200)
    await expectError(await api.get(`${room(r.id)}/messages`, r.member.token), 403, 'forbidden')
    expect((await read(r.id, r.member)).my_role).toBe(null)
    const again = await join(r.id, r.member)
    expect(again.status).toBe(200)
    expect((await again.json()).participant).toMatchObject({ user_id: r.member.id, role: 'member' })
    const messages = await api.get(`${room(r.id)}/messages`, r.member.token)
    expect(messages.status).toBe(200)
    expect((await messages.json()).map((m: { content: string }) => m.content)).toEqual(['hello'])
  })

  test('someone who is not a participant is 404', async () => {
    const r = await roomWithRoles(api, 'public')
    await expectError(await remove(r.id, r.owner, r.outsider.id), 404, 'not_found')
    await expectError(await remove(r.id, r.owner, 2_000_000_000), 404, 'not_found')
    expect((await read(r.id, r.owner)).participant_count).toBe(4)
  })
})

describe('GET /chat/sessions/{id}/participants', () => {
  test('Participants in joining order, the creator first', async () => {
    const r = await roomWithRoles(api, 'public')
    expect((await join(r.id, r.outsider)).status).toBe(200)
    const res = await api.get(`${room(r.id)}/participants`, r.viewer.token)
    expect(res.status).toBe(200)
    const participants = await res.json()
    for (const p of participants) expect(Object.keys(p).sort()).toEqual(PARTICIPANT_FIELDS)
    expect(participants.map((p: { user_id: number; role: string }) => [p.user_id, p.role])).toEqual([
      [r.owner.id, 'owner'],
      [r.admin.id, 'admin'],
      [r.member.id, 'member'],
      [r.viewer.id, 'viewer'],
      [r.outsider.id, 'member'],
    ])
    const joined = participants.map((p: { joined_at: string }) => Date.parse(p.joined_at))
    expect(joined).toEqual([...joined].sort((a, b) => a - b))
  })

  test('a public room’s participants are readable by a non-participant', async () => {
    const r = await roomWithRoles(api, 'public')
    expect(await roster(r.id, r.outsider)).toEqual(await roster(r.id, r.owner))
    expect(await roster(r.id, r.outsider)).toHaveLength(4)
  })

  test.each(['invite_only', 'private'] as const)('an %s room is 404 to non-participants', async (type) => {
    const r = await roomWithRoles(api, type)
    await expectError(await api.get(`${room(r.id)}/participants`, r.outsider.token), 404, 'not_found')
    expect((await roster(r.id, r.owner))[0]).toEqual([r.owner.id, 'owner'])
  })
})

describe('invite with unused identifiers sent as null (as Python clients do)', () => {
  test('null fields are treated as absent', async () => {
    const [owner, guest] = await Promise.all([api.signUp(), api.signUp()])
    const { id } = await createRoom(api, owner, { session_type: 'invite_only' })
    const res = await api.post(
      `${room(id)}/invite`,
      { user_id: null, username: guest.username, email: null, role: 'member' },
      owner.token,
    )
    expect(res.status).toBe(201)
    expect((await res.json()).user_id).toBe(guest.id)
  })

  test('all three null is 422', async () => {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'invite_only' })
    const res = await api.post(
      `${room(id)}/invite`,
      { user_id: null, username: null, email: null },
      owner.token,
    )
    expect(res.status).toBe(422)
  })
})
