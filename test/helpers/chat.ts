// Rooms for tests: made through the real API, with one user per role and an outsider.
import { randomBytes } from 'node:crypto'
import type { SessionType } from '../../src/db/schema.js'
import { API, type TestApi, type TestUser } from './app.js'

export interface RoomWithRoles {
  id: number
  owner: TestUser
  admin: TestUser
  member: TestUser
  viewer: TestUser
  /** Signed up, not in the room. */
  outsider: TestUser
}

export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const

/** The fields of a Message (DESIGN sections 4 and 7), sorted. */
export const MESSAGE_FIELDS = [
  'ai_usage',
  'client_msg_id',
  'content',
  'created_at',
  'deleted_at',
  'edited_at',
  'id',
  'reactions',
  'reply_to',
  'role',
  'seq',
  'session_id',
  'user_id',
  'username',
]

/** The fields of a Participant, sorted. */
export const PARTICIPANT_FIELDS = [
  'first_name',
  'id',
  'is_online',
  'joined_at',
  'last_name',
  'role',
  'user_id',
  'username',
]

/** Creates a room owned by a fresh user. */
export async function createRoom(
  api: TestApi,
  owner: TestUser,
  body: Record<string, unknown> = {},
): Promise<{ id: number } & Record<string, unknown>> {
  const res = await api.post(
    `${API}/chat/sessions`,
    { title: 'Room', session_type: 'public', ...body },
    owner.token,
  )
  if (res.status !== 201) throw new Error(`create room failed: ${res.status} ${await res.text()}`)
  return res.json()
}

/** Adds `user` to the room with `role`, by invitation from `by`. */
export async function invite(api: TestApi, roomId: number, by: TestUser, user: TestUser, role = 'member') {
  const res = await api.post(`${API}/chat/sessions/${roomId}/invite`, { user_id: user.id, role }, by.token)
  if (res.status !== 201) throw new Error(`invite failed: ${res.status} ${await res.text()}`)
  return res.json()
}

/**
 * A room with an owner, an admin, a member and a viewer, plus an outsider. A private room cannot have
 * other participants, so for 'private' only the owner is in it (the others are outsiders too).
 */
export async function roomWithRoles(
  api: TestApi,
  sessionType: SessionType = 'public',
): Promise<RoomWithRoles> {
  const [owner, admin, member, viewer, outsider] = await Promise.all([
    api.signUp(),
    api.signUp(),
    api.signUp(),
    api.signUp(),
    api.signUp(),
  ])
  const room = await createRoom(api, owner, { session_type: sessionType })
  if (sessionType !== 'private') {
    await invite(api, room.id, owner, admin, 'admin')
    await invite(api, room.id, owner, member, 'member')
    await invite(api, room.id, owner, viewer, 'viewer')
  }
  return { id: room.id, owner, admin, member, viewer, outsider }
}

/** A roomWithRoles with a title no other room has: the assistant's default system prompt names the room. */
export async function titledRoom(api: TestApi, sessionType: SessionType = 'public') {
  const room = await roomWithRoles(api, sessionType)
  const title = `Room ${randomBytes(4).toString('hex')}`
  const res = await api.put(`${API}/chat/sessions/${room.id}`, { title }, room.owner.token)
  if (res.status !== 200) throw new Error(`rename room failed: ${res.status} ${await res.text()}`)
  return { ...room, title }
}

/** Sends a message and returns its JSON (throws unless 201). */
export async function send(api: TestApi, roomId: number, user: TestUser, content: string) {
  const res = await api.post(`${API}/chat/sessions/${roomId}/messages`, { content }, user.token)
  if (res.status !== 201) throw new Error(`send failed: ${res.status} ${await res.text()}`)
  return res.json()
}
