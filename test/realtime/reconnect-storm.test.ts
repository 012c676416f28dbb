// A reconnect storm: many sockets resuming with after_seq at the same moment (an instance restart, a
// network blip). Their database work takes turns (src/realtime/setups.ts), so the pool is never
// flooded: every socket gets its greeting and exactly the messages it missed, and /metrics shows that
// no more set-ups than the bound ran at once.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { createRoom, invite } from '../helpers/chat.js'
import { metric } from '../helpers/metrics.js'
import { socketsClosedAfterEach } from '../helpers/ws.js'

const SLOTS = 2
let api: TestApi
const sockets = socketsClosedAfterEach(() => api)
beforeAll(async () => {
  // Two at once, so that 60 sockets surely contend for them.
  api = await startTestApp({ env: { RATE_LIMITS: 'off' }, realtimeLimits: { setUpsAtOnce: SLOTS } })
})
afterAll(() => api.close())

test('60 sockets resuming at once each get every missed message once, in order; set-ups take turns', async () => {
  const users = await Promise.all(Array.from({ length: 4 }, () => api.signUp()))
  const [owner, ...others] = users as [TestUser, ...TestUser[]]
  const room = await createRoom(api, owner)
  for (const user of others) await invite(api, room.id, owner, user)
  for (let i = 1; i <= 30; i++) {
    const res = await api.post(`${API}/chat/sessions/${room.id}/messages`, { content: `m${i}` }, owner.token)
    expect(res.status).toBe(201)
  }

  const resumed = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      sockets.online(users[i % users.length] as TestUser, room.id, { afterSeq: 10, timeoutMs: 20_000 }),
    ),
  )
  for (const socket of resumed) {
    const missed = await Promise.all(
      Array.from({ length: 20 }, () => socket.nextOf('chat_message', room.id, 10_000)),
    )
    expect(missed.map((frame) => frame.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11))
  }
  // On PostgreSQL the bound was reached and never passed. PGlite answers within the same turn of the
  // event loop, so there set-ups never overlap (the unit test in setups.test.ts covers the bound).
  const peak = await metric(api, 'insurge_ws_setups_peak')
  if (process.env.TEST_DB_KIND === 'postgres') expect(peak).toBe(SLOTS)
  else expect(peak).toBeLessThanOrEqual(SLOTS)
  expect(await metric(api, 'insurge_ws_setups_waiting')).toBe(0)
})
