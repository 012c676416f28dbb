// Bans (DESIGN.md section 7): DELETE …/participants/{user_id}?ban=true removes and bans; a banned user cannot
// join the public room again (403) until an owner or admin invites them; a plain removal does not ban.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite, type RoomWithRoles, roomWithRoles, send } from '../helpers/chat.js'
import { socketsClosedAfterEach } from '../helpers/ws.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(() => api.close())

const { online } = socketsClosedAfterEach(() => api)

const QUIET_MS = 300
const roomPath = (roomId: number) => `${API}/chat/sessions/${roomId}`
const removePath = (roomId: number, userId: number, query = '') =>
  `${roomPath(roomId)}/participants/${userId}${query}`
const ban = (roomId: number, by: TestUser, userId: number) =>
  api.delete(removePath(roomId, userId, '?ban=true'), by.token)
const removeOnly = (roomId: number, by: TestUser, userId: number, query = '') =>
  api.delete(removePath(roomId, userId, query), by.token)
const join = (roomId: number, user: TestUser) => api.post(`${roomPath(roomId)}/join`, undefined, user.token)
const leave = (roomId: number, user: TestUser) => api.post(`${roomPath(roomId)}/leave`, undefined, user.token)

async function participantIds(roomId: number, user: TestUser): Promise<number[]> {
  const res = await api.get(`${roomPath(roomId)}/participants`, user.token)
  expect(res.status).toBe(200)
  return (await res.json()).map((p: { user_id: number }) => p.user_id)
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status)
  const body = await res.json()
  expect(body).toMatchObject({ code, detail: expect.any(String) })
  return body as { detail: string; code: string }
}

/** A public room and a fresh user who joined it on their own. */
async function roomWithJoiner(): Promise<RoomWithRoles & { joiner: TestUser }> {
  const room = await roomWithRoles(api, 'public')
  const joiner = await api.signUp()
  expect((await join(room.id, joiner)).status).toBe(200)
  return { ...room, joiner }
}

describe('DELETE /chat/sessions/{id}/participants/{user_id}?ban=true', () => {
  test.each(['owner', 'admin'] as const)(
    'the %s bans: 200, the user is out and cannot join again (403 with a detail)',
    async (role) => {
      const room = await roomWithJoiner()
      const res = await ban(room.id, room[role], room.joiner.id)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ message: expect.any(String) })
      expect(await participantIds(room.id, room.owner)).not.toContain(room.joiner.id)
      const refused = await expectError(await join(room.id, room.joiner), 403, 'forbidden')
      expect(refused.detail).toMatch(/ban/i)
      // Still refused on a second try, and nothing changed meanwhile.
      await expectError(await join(room.id, room.joiner), 403, 'forbidden')
      expect(await participantIds(room.id, room.owner)).not.toContain(room.joiner.id)
      const session = await (await api.get(roomPath(room.id), room.owner.token)).json()
      expect(session.participant_count).toBe(4)
    },
  )

  test('a banned user can no longer read or send: they are not a participant', async () => {
    const room = await roomWithJoiner()
    await send(api, room.id, room.joiner, 'before the ban')
    expect((await ban(room.id, room.owner, room.joiner.id)).status).toBe(200)
    await expectError(
      await api.post(`${roomPath(room.id)}/messages`, { content: 'still here?' }, room.joiner.token),
      403,
      'forbidden',
    )
    await expectError(await api.get(`${roomPath(room.id)}/messages`, room.joiner.token), 403, 'forbidden')
  })

  test('the participant_removed frame says banned: true; the banned user’s socket stops receiving the room', async () => {
    const room = await roomWithJoiner()
    const [watcher, banned] = await Promise.all([online(room.member, room.id), online(room.joiner, room.id)])
    expect((await ban(room.id, room.admin, room.joiner.id)).status).toBe(200)
    for (const socket of [watcher, banned]) {
      expect(await socket.nextOf('participant_removed', room.id)).toMatchObject({
        type: 'participant_removed',
        session_id: room.id,
        user_id: room.joiner.id,
        username: room.joiner.username,
        banned: true,
      })
    }
    await send(api, room.id, room.owner, 'after the ban')
    await watcher.next((f) => f.type === 'chat_message' && f.content === 'after the ban')
    await banned.quietFor(QUIET_MS)
    expect(banned.frames.filter((f) => f.type === 'chat_message')).toEqual([])
  })

  test('a plain removal does not ban: the frame says banned: false and the user may join again', async () => {
    for (const query of ['', '?ban=false']) {
      const room = await roomWithJoiner()
      const watcher = await online(room.member, room.id)
      const res = await removeOnly(room.id, room.owner, room.joiner.id, query)
      expect(res.status).toBe(200)
      expect(await watcher.nextOf('participant_removed', room.id)).toMatchObject({
        user_id: room.joiner.id,
        banned: false,
      })
      expect(await participantIds(room.id, room.owner)).not.toContain(room.joiner.id)
      const rejoined = await join(room.id, room.joiner)
      expect(rejoined.status).toBe(200)
      expect((await rejoined.json()).participant).toMatchObject({ user_id: room.joiner.id, role: 'member' })
      expect(await participantIds(room.id, room.owner)).toContain(room.joiner.id)
    }
  })

  test.each(['owner', 'admin'] as const)(
    'an invitation by the %s lifts the ban: 201, and after leaving the user may join again',
    async (role) => {
      const room = await roomWithJoiner()
      expect((await ban(room.id, room.owner, room.joiner.id)).status).toBe(200)
      await expectError(await join(room.id, room.joiner), 403, 'forbidden')
      const invited = await api.post(
        `${roomPath(room.id)}/invite`,
        { user_id: room.joiner.id },
        room[role].token,
      )
      expect(invited.status).toBe(201)
      expect(await invited.json()).toMatchObject({ user_id: room.joiner.id, role: 'member' })
      expect((await leave(room.id, room.joiner)).status).toBe(200)
      expect(await participantIds(room.id, room.owner)).not.toContain(room.joiner.id)
      expect((await join(room.id, room.joiner)).status).toBe(200)
      expect(await participantIds(room.id, room.owner)).toContain(room.joiner.id)
    },
  )

  test('a member or a viewer cannot ban (403); the target stays and may still come back', async () => {
    const room = await roomWithJoiner()
    for (const by of [room.member, room.viewer]) {
      await expectError(await ban(room.id, by, room.joiner.id), 403, 'forbidden')
    }
    expect(await participantIds(room.id, room.owner)).toContain(room.joiner.id)
    expect((await leave(room.id, room.joiner)).status).toBe(200)
    expect((await join(room.id, room.joiner)).status).toBe(200)
  })

  test('banning the owner is 403, whoever asks; the owner stays', async () => {
    const room = await roomWithJoiner()
    await expectError(await ban(room.id, room.admin, room.owner.id), 403, 'forbidden')
    await expectError(await ban(room.id, room.owner, room.owner.id), 403, 'forbidden')
    const session = await (await api.get(roomPath(room.id), room.member.token)).json()
    expect(session.owner_id).toBe(room.owner.id)
    expect(await participantIds(room.id, room.member)).toContain(room.owner.id)
  })

  test('a ban is for one room only', async () => {
    const room = await roomWithJoiner()
    const other = await createRoom(api, room.owner, { title: 'Other', session_type: 'public' })
    expect((await ban(room.id, room.owner, room.joiner.id)).status).toBe(200)
    expect((await join(other.id, room.joiner)).status).toBe(200)
    // Another user is not banned by it either.
    expect((await join(room.id, room.outsider)).status).toBe(200)
  })

  test('banning someone who is not a participant is 404; a ban value that is not a boolean is 422', async () => {
    const room = await roomWithJoiner()
    await expectError(await ban(room.id, room.owner, room.outsider.id), 404, 'not_found')
    expect((await join(room.id, room.outsider)).status).toBe(200)
    await expectError(await removeOnly(room.id, room.owner, room.joiner.id, '?ban=maybe'), 422, 'invalid')
    expect(await participantIds(room.id, room.owner)).toContain(room.joiner.id)
  })

  test('a ban in an invite_only room: the user is out, and an invitation brings them back', async () => {
    const room = await roomWithRoles(api, 'invite_only')
    expect((await ban(room.id, room.owner, room.member.id)).status).toBe(200)
    // They cannot see the room any more, so joining is 404 as for any room they cannot see.
    await expectError(await join(room.id, room.member), 404, 'not_found')
    await invite(api, room.id, room.admin, room.member, 'member')
    expect(await participantIds(room.id, room.owner)).toContain(room.member.id)
  })
})
