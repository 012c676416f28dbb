// Slow and dead sockets are dropped without slowing the room (small limits make it quick to see).
import type { Socket } from 'node:net'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { API, startTestApp, type TestApi } from '../helpers/app.js'
import { roomWithRoles } from '../helpers/chat.js'
import { connect, type TestSocket } from '../helpers/ws.js'

// Two deployments, so that each test sees one mechanism alone: fast heartbeats with roomy buffers,
// and tight buffers with heartbeats too slow to matter.
let pingy: TestApi
let tight: TestApi
beforeAll(async () => {
  ;[pingy, tight] = await Promise.all([
    startTestApp({ realtimeLimits: { heartbeatMs: 250 } }),
    startTestApp({ realtimeLimits: { heartbeatMs: 60_000, maxBufferedBytes: 64 * 1024 } }),
  ])
})
afterAll(() => Promise.all([pingy.close(), tight.close()]))

/** Stops reading from the socket, as a frozen or vanished client would: no pongs, and the server's data piles up. */
function freeze(socket: TestSocket): void {
  ;(socket.ws as unknown as { _socket: Socket })._socket.pause()
}

test('a socket that stops answering pings is dropped (its user goes offline)', async () => {
  const api = pingy
  const room = await roomWithRoles(api, 'public')
  const watcher = await connect(api, { token: room.owner.token, sessionId: room.id })
  const frozen = await connect(api, { token: room.member.token, sessionId: room.id })
  await watcher.next((f) => f.type === 'presence' && f.user_id === room.member.id && f.status === 'online')
  freeze(frozen)
  const offline = await watcher.next(
    (f) => f.type === 'presence' && f.user_id === room.member.id && f.status === 'offline',
    5000,
  )
  expect(offline.session_id).toBe(room.id)
  // The owner's socket, which answers pings, stays.
  watcher.send({ type: 'ping' })
  expect((await watcher.nextOf('pong')).content).toBe('pong')
  await watcher.close()
  frozen.ws.terminate()
})

test('a reader too slow for the room is dropped while the others get every message', async () => {
  const api = tight
  const room = await roomWithRoles(api, 'public')
  const healthy = await connect(api, { token: room.owner.token, sessionId: room.id })
  const slow = await connect(api, { token: room.viewer.token, sessionId: room.id })
  await healthy.next((f) => f.type === 'presence' && f.user_id === room.viewer.id && f.status === 'online')
  freeze(slow)
  const content = 'x'.repeat(10_000)
  // ~15 MB: more than loopback's socket buffers absorb (several MB each side), so the server's buffer grows.
  const total = 1500
  for (let i = 0; i < total; i += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, total - i) }, () =>
        api.post(`${API}/chat/sessions/${room.id}/messages`, { content }, room.member.token),
      ),
    )
  }
  await healthy.next((f) => f.type === 'chat_message' && f.seq === total, 20_000)
  await healthy.next(
    (f) => f.type === 'presence' && f.user_id === room.viewer.id && f.status === 'offline',
    5_000,
  )
  const seqs = healthy.frames.filter((f) => f.type === 'chat_message').map((f) => f.seq)
  expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1))
  await healthy.close()
  slow.ws.terminate()
  // 1,500 sends of 10 KB: about 10 s alone on PGlite, past 30 s under CI's full parallel load.
}, 120_000)
