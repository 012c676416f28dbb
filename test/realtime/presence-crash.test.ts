// Presence survives a crash: an instance killed with SIGKILL cannot say that its users left, so each
// instance's presence in Redis lasts a TTL unless that instance renews it (45 s, renewed every 15 s; here
// 1.5 s, renewed every 0.3 s). The killed instance is a real server process of its own
// (test/helpers/instance-process.ts). Only meaningful on PostgreSQL + Redis (PGlite lives inside one process).
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { roomWithRoles } from '../helpers/chat.js'
import { type Instance, spawnInstance } from '../helpers/instances.js'
import { type Frame, socketsClosedAfterEach } from '../helpers/ws.js'

const onPostgresAndRedis = process.env.TEST_DB_KIND === 'postgres' && !!process.env.TEST_REDIS_URL

const PRESENCE = { presenceTtlMs: 1500, presenceRefreshMs: 300 }
const TTL_MS = PRESENCE.presenceTtlMs
/** Timers, a poll interval and a loaded machine: how late past the TTL a check may still pass. */
const SLACK_MS = 1000
/** Only failures wait this long. */
const FRAME_WAIT_MS = 15_000

const sockets = socketsClosedAfterEach()
const follow = (target: { url: string }, user: TestUser, roomId: number) =>
  sockets.online(user, roomId, { api: target, timeoutMs: FRAME_WAIT_MS })

async function isOnline(api: TestApi, roomId: number, asker: TestUser, user: TestUser): Promise<boolean> {
  const res = await api.get(`${API}/chat/sessions/${roomId}/participants`, asker.token)
  expect(res.status).toBe(200)
  const row = ((await res.json()) as Frame[]).find((p) => p.user_id === user.id)
  expect(row).toBeDefined()
  return row?.is_online === true
}

const presenceOf = (user: TestUser, status: 'online' | 'offline') => (f: Frame) =>
  f.type === 'presence' && f.user_id === user.id && f.status === status

describe.runIf(onPostgresAndRedis)('presence when an instance crashes', () => {
  let survivor: TestApi
  let doomed: Instance | undefined
  beforeAll(async () => {
    survivor = await startTestApp({ realtimeLimits: PRESENCE })
    doomed = await spawnInstance(survivor, { limits: PRESENCE })
  })
  afterAll(async () => {
    await doomed?.kill()
    await survivor?.close()
  })

  test('a user only on the killed instance is offline within the TTL, announced once; users on the live one stay online', async () => {
    if (!doomed) throw new Error('the second instance did not start')
    const r = await roomWithRoles(survivor, 'public')
    const watcher = await follow(survivor, r.owner, r.id)
    await follow(doomed, r.member, r.id)
    // One user on both instances: the live one keeps them online.
    await follow(doomed, r.viewer, r.id)
    await follow(survivor, r.viewer, r.id)
    await watcher.next(presenceOf(r.member, 'online'), FRAME_WAIT_MS)
    await watcher.next(presenceOf(r.viewer, 'online'), FRAME_WAIT_MS)
    expect(await isOnline(survivor, r.id, r.owner, r.member)).toBe(true)

    await doomed.kill()
    const killedAt = Date.now()
    // No leave came from the killed process: only the TTL can clear the member.
    expect(await isOnline(survivor, r.id, r.owner, r.member)).toBe(true)
    while (await isOnline(survivor, r.id, r.owner, r.member)) {
      expect(Date.now() - killedAt).toBeLessThan(TTL_MS + SLACK_MS)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(Date.now() - killedAt).toBeLessThan(TTL_MS + SLACK_MS)
    // The survivor tells the room, as it would have heard from a leave.
    expect(await watcher.next(presenceOf(r.member, 'offline'), FRAME_WAIT_MS)).toEqual({
      type: 'presence',
      session_id: r.id,
      user_id: r.member.id,
      username: r.member.username,
      status: 'offline',
    })

    // Several TTLs later, whoever is on the live instance is still online, and nobody else went offline.
    await new Promise((resolve) => setTimeout(resolve, 3 * TTL_MS))
    expect(await isOnline(survivor, r.id, r.owner, r.owner)).toBe(true)
    expect(await isOnline(survivor, r.id, r.owner, r.viewer)).toBe(true)
    expect(await isOnline(survivor, r.id, r.owner, r.member)).toBe(false)
    const offline = watcher.frames.filter((f) => f.type === 'presence' && f.status === 'offline')
    expect(offline.map((f) => f.user_id)).toEqual([r.member.id])
  })
})
