// Two instances of one deployment (one PostgreSQL, one Redis) act as one server: messages, typing, presence,
// removals and sign-outs cross between them, in seq order, once; a Redis restart loses no stored message.
// Only meaningful on PostgreSQL + Redis (PGlite lives inside one process); CI sets both.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { type RoomWithRoles, roomWithRoles, send } from '../helpers/chat.js'
import { type Frame, socketsClosedAfterEach, type TestSocket } from '../helpers/ws.js'

const onPostgresAndRedis = process.env.TEST_DB_KIND === 'postgres' && !!process.env.TEST_REDIS_URL

/** Generous: frames cross Redis and may wait for a gap to be read from the database. Only failures wait this long. */
const FRAME_WAIT_MS = 15_000
/** After the last expected frame: long enough for a duplicate or a frame that should not come to show up. */
const SETTLE_MS = 400
/** How long Redis stays down after the sends of the outage. */
const OUTAGE_MS = 1500

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const room = (id: number, rest = '') => `${API}/chat/sessions/${id}${rest}`

const sockets = socketsClosedAfterEach()
/** Opens a socket on `api` following the room (from after_seq when given); resolves once greeted. */
const follow = (api: TestApi, user: TestUser, roomId: number, afterSeq?: number) =>
  sockets.online(user, roomId, { api, afterSeq, timeoutMs: FRAME_WAIT_MS })

const chatFrames = (socket: TestSocket, roomId: number) =>
  socket.frames.filter((f) => f.type === 'chat_message' && f.session_id === roomId)
const seqsOf = (socket: TestSocket, roomId: number) => chatFrames(socket, roomId).map((f) => f.seq as number)

/** Waits until every socket has the room's message `seq`, then a little more, so late duplicates show up too. */
async function allReceived(sockets: TestSocket[], roomId: number, seq: number): Promise<void> {
  await Promise.all(
    sockets.map((socket) =>
      socket.next(
        (f) => f.type === 'chat_message' && f.session_id === roomId && f.seq === seq,
        FRAME_WAIT_MS,
      ),
    ),
  )
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
}

/** A chat_message frame is the stored Message at top level plus `timestamp`. */
function asStored(frame: Frame): Frame {
  const { type: _type, timestamp: _timestamp, ...message } = frame
  return message
}

async function history(api: TestApi, roomId: number, user: TestUser): Promise<Frame[]> {
  const res = await api.get(room(roomId, '/messages?limit=200&after_seq=0'), user.token)
  expect(res.status).toBe(200)
  return res.json()
}

async function participants(api: TestApi, roomId: number, user: TestUser): Promise<Frame[]> {
  const res = await api.get(room(roomId, '/participants'), user.token)
  expect(res.status).toBe(200)
  return res.json()
}

async function isOnline(api: TestApi, roomId: number, asker: TestUser, user: TestUser): Promise<boolean> {
  const row = (await participants(api, roomId, asker)).find((p) => p.user_id === user.id)
  expect(row).toBeDefined()
  return row?.is_online === true
}

/** Every socket got exactly the room's whole history, in seq order, each message once and as stored. */
async function expectWholeHistory(api: TestApi, sockets: TestSocket[], r: RoomWithRoles, last: number) {
  const stored = await history(api, r.id, r.owner)
  expect(stored.map((m) => m.seq)).toEqual(range(1, last))
  for (const socket of sockets) {
    expect(seqsOf(socket, r.id)).toEqual(range(1, last))
    expect(chatFrames(socket, r.id).map(asStored)).toEqual(stored)
  }
}

describe.runIf(onPostgresAndRedis)('two instances of one deployment', () => {
  let a: TestApi
  let b: TestApi
  beforeAll(async () => {
    a = await startTestApp({ env: { RATE_LIMITS: 'off' } })
    b = await startTestApp({ instanceOf: a, env: { RATE_LIMITS: 'off' } })
  })
  afterAll(async () => {
    // B shares A's database; A drops it, so B goes first.
    await b?.close()
    await a?.close()
  })

  test('/health on both instances reports the database and Redis ok', async () => {
    for (const api of [a, b]) {
      const res = await api.get('/health')
      expect(res.status).toBe(200)
      expect(await res.json()).toMatchObject({ status: 'healthy', database: 'ok', redis: 'ok' })
    }
  })

  test('messages sent through A (HTTP and WS) and through B reach sockets on both, once each, in seq order', async () => {
    const r = await roomWithRoles(a, 'public')
    const ownerOnA = await follow(a, r.owner, r.id)
    const memberOnA = await follow(a, r.member, r.id)
    const adminOnB = await follow(b, r.admin, r.id)
    const viewerOnB = await follow(b, r.viewer, r.id)
    const everyone = [ownerOnA, memberOnA, adminOnB, viewerOnB]

    expect((await send(a, r.id, r.owner, 'http through A')).seq).toBe(1)
    await allReceived(everyone, r.id, 1)
    memberOnA.send({ type: 'chat_message', session_id: r.id, content: 'ws through A', client_msg_id: 'ws-a' })
    expect(await memberOnA.nextOf('ack', r.id, FRAME_WAIT_MS)).toMatchObject({
      client_msg_id: 'ws-a',
      seq: 2,
    })
    await allReceived(everyone, r.id, 2)
    expect((await send(b, r.id, r.admin, 'http through B')).seq).toBe(3)
    adminOnB.send({ type: 'chat_message', session_id: r.id, content: 'ws through B', client_msg_id: 'ws-b' })
    expect(await adminOnB.nextOf('ack', r.id, FRAME_WAIT_MS)).toMatchObject({ client_msg_id: 'ws-b', seq: 4 })
    await allReceived(everyone, r.id, 4)

    await expectWholeHistory(a, everyone, r, 4)
    expect(chatFrames(viewerOnB, r.id).map((f) => f.content)).toEqual([
      'http through A',
      'ws through A',
      'http through B',
      'ws through B',
    ])
  })

  test('30 messages sent at once, half through A and half through B: every socket gets 1..30 in order, once', async () => {
    const r = await roomWithRoles(a, 'public')
    const sockets = [
      await follow(a, r.owner, r.id),
      await follow(a, r.viewer, r.id),
      await follow(b, r.admin, r.id),
      await follow(b, r.viewer, r.id),
      // One user on both instances.
      await follow(a, r.member, r.id),
      await follow(b, r.member, r.id),
    ]
    const senders = [r.owner, r.admin, r.member]
    const sent = await Promise.all(
      range(1, 30).map((n) => send(n % 2 ? a : b, r.id, senders[n % 3] as TestUser, `burst ${n}`)),
    )
    expect(sent.map((m) => m.seq).sort((x, y) => x - y)).toEqual(range(1, 30))
    await allReceived(sockets, r.id, 30)
    await expectWholeHistory(b, sockets, r, 30)
  })

  test('a client that drops on A and comes back on B with after_seq gets exactly what it missed, then live', async () => {
    const r = await roomWithRoles(a, 'public')
    const onA = await follow(a, r.member, r.id)
    await send(a, r.id, r.owner, 'one')
    await send(b, r.id, r.admin, 'two')
    await allReceived([onA], r.id, 2)
    await onA.close()
    for (let n = 3; n <= 6; n++) await send(n % 2 ? a : b, r.id, r.owner, `missed ${n}`)
    const onB = await follow(b, r.member, r.id, Math.max(...seqsOf(onA, r.id)))
    await allReceived([onB], r.id, 6)
    expect(seqsOf(onB, r.id)).toEqual([3, 4, 5, 6])
    await send(a, r.id, r.owner, 'live 7')
    await allReceived([onB], r.id, 7)
    expect(seqsOf(onB, r.id)).toEqual([3, 4, 5, 6, 7])
    expect(chatFrames(onB, r.id).map(asStored)).toEqual((await history(a, r.id, r.owner)).slice(2))
  })

  test("typing from a socket on A reaches the others' sockets on B and A, not the typist's own", async () => {
    const r = await roomWithRoles(a, 'public')
    const typistOnA = await follow(a, r.member, r.id)
    const typistOnB = await follow(b, r.member, r.id)
    const ownerOnB = await follow(b, r.owner, r.id)
    const adminOnA = await follow(a, r.admin, r.id)
    typistOnA.send({ type: 'typing', session_id: r.id, is_typing: true })
    const expected = {
      type: 'typing',
      session_id: r.id,
      user_id: r.member.id,
      username: r.member.username,
      is_typing: true,
    }
    expect(await ownerOnB.nextOf('typing', r.id, FRAME_WAIT_MS)).toEqual(expected)
    expect(await adminOnA.nextOf('typing', r.id, FRAME_WAIT_MS)).toEqual(expected)
    typistOnA.send({ type: 'typing', session_id: r.id, is_typing: false })
    expect(await ownerOnB.nextOf('typing', r.id, FRAME_WAIT_MS)).toEqual({ ...expected, is_typing: false })
    await ownerOnB.quietFor(SETTLE_MS)
    expect(typistOnA.frames.filter((f) => f.type === 'typing')).toEqual([])
    expect(typistOnB.frames.filter((f) => f.type === 'typing')).toEqual([])
  })

  test('presence spans instances: online on A shows on B; a user on both is offline only when both close', async () => {
    const r = await roomWithRoles(a, 'public')
    const watcherOnB = await follow(b, r.owner, r.id)
    const isMemberPresence = (status: string) => (f: Frame) =>
      f.type === 'presence' && f.user_id === r.member.id && f.status === status
    expect(await isOnline(b, r.id, r.owner, r.member)).toBe(false)

    const memberOnA = await follow(a, r.member, r.id)
    expect(await watcherOnB.next(isMemberPresence('online'), FRAME_WAIT_MS)).toMatchObject({
      session_id: r.id,
      username: r.member.username,
    })
    expect(await isOnline(b, r.id, r.owner, r.member)).toBe(true)
    expect(await isOnline(b, r.id, r.owner, r.admin)).toBe(false)

    const memberOnB = await follow(b, r.member, r.id)
    await memberOnA.close()
    // Still connected through B: no offline frame, and both instances still say online.
    const meanwhile = await watcherOnB.quietFor(SETTLE_MS * 2)
    expect(meanwhile.filter((f) => f.type === 'presence' && f.user_id === r.member.id)).toEqual([])
    expect(await isOnline(b, r.id, r.owner, r.member)).toBe(true)
    expect(await isOnline(a, r.id, r.owner, r.member)).toBe(true)

    await memberOnB.close()
    await watcherOnB.next(isMemberPresence('offline'), FRAME_WAIT_MS)
    expect(await isOnline(a, r.id, r.owner, r.member)).toBe(false)
    expect(await isOnline(b, r.id, r.owner, r.member)).toBe(false)
    // One online and one offline for the member, whatever the number of sockets.
    expect(watcherOnB.frames.filter((f) => f.type === 'presence' && f.user_id === r.member.id)).toHaveLength(
      2,
    )
  })

  test('a removal through A stops delivery to the removed user on B at once; the others keep receiving', async () => {
    const r = await roomWithRoles(a, 'public')
    const removedOnB = await follow(b, r.member, r.id)
    const adminOnB = await follow(b, r.admin, r.id)
    const ownerOnA = await follow(a, r.owner, r.id)
    await send(a, r.id, r.owner, 'before')
    await allReceived([removedOnB, adminOnB, ownerOnA], r.id, 1)

    const removed = await a.delete(room(r.id, `/participants/${r.member.id}`), r.owner.token)
    expect(removed.status).toBe(200)
    const notice = await removedOnB.nextOf('participant_removed', r.id, FRAME_WAIT_MS)
    expect(notice).toMatchObject({ session_id: r.id, user_id: r.member.id })
    // Sent right after the removal answered, through both instances.
    await send(b, r.id, r.admin, 'after, through B')
    await send(a, r.id, r.owner, 'after, through A')
    await allReceived([adminOnB, ownerOnA], r.id, 3)
    expect(seqsOf(adminOnB, r.id)).toEqual([1, 2, 3])
    expect(seqsOf(ownerOnA, r.id)).toEqual([1, 2, 3])
    expect(seqsOf(removedOnB, r.id)).toEqual([1])
    const removedIndex = removedOnB.frames.indexOf(notice)
    expect(removedOnB.frames.slice(removedIndex + 1).filter((f) => f.session_id === r.id)).toEqual([])
    // The socket itself stays open: only the room is gone from it.
    removedOnB.send({ type: 'ping' })
    expect(await removedOnB.nextOf('pong', undefined, FRAME_WAIT_MS)).toMatchObject({ content: 'pong' })
  })

  test("deactivating an account through A closes that user's sockets on B (and A) with 1008", async () => {
    const r = await roomWithRoles(a, 'public')
    const leavingOnB = await follow(b, r.member, r.id)
    const leavingOnA = await follow(a, r.member, r.id)
    const stayingOnB = await follow(b, r.owner, r.id)
    const res = await a.delete(`${API}/users/me`, r.member.token)
    expect(res.status).toBe(204)
    expect(await withTimeout(leavingOnB.closed, 'the socket on B to close')).toMatchObject({ code: 1008 })
    expect(await withTimeout(leavingOnA.closed, 'the socket on A to close')).toMatchObject({ code: 1008 })
    stayingOnB.send({ type: 'ping' })
    expect(await stayingOnB.nextOf('pong', undefined, FRAME_WAIT_MS)).toMatchObject({ content: 'pong' })
    expect(stayingOnB.ws.readyState).toBe(stayingOnB.ws.OPEN)
  })
})

describe.runIf(onPostgresAndRedis)('a Redis restart under two instances', () => {
  let redis: RedisServer
  let a: TestApi | undefined
  let b: TestApi | undefined
  beforeAll(async () => {
    redis = redisServer(await freePort())
    await redis.start()
    const env = { RATE_LIMITS: 'off', REDIS_URL: redis.url }
    a = await startTestApp({ env })
    b = await startTestApp({ instanceOf: a, env })
  })
  afterAll(async () => {
    try {
      // The apps close cleanly only with their Redis up.
      if (redis && !redis.running()) await redis.start()
      await b?.close()
      await a?.close()
    } finally {
      await redis?.kill()
    }
  })

  /** A room with sockets on both instances that has seen `before` messages live; then Redis is killed. */
  async function roomThenRedisDown(A: TestApi, B: TestApi, before: number) {
    const r = await roomWithRoles(A, 'public')
    const sockets = [
      await follow(A, r.owner, r.id),
      await follow(A, r.viewer, r.id),
      await follow(B, r.admin, r.id),
      await follow(B, r.member, r.id),
    ]
    for (let n = 1; n <= before; n++) await send(n % 2 ? A : B, r.id, r.owner, `before ${n}`)
    await allReceived(sockets, r.id, before)
    await redis.kill()
    return { r, sockets }
  }

  /**
   * Redis is not the truth: with it down, sends through A still answer 201 and are stored. The outage then
   * lasts a while (as real ones do: long enough for ioredis to give up on the publishes it queued), and no
   * socket has seen those messages.
   */
  async function sendWhileDown(A: TestApi, r: RoomWithRoles, sockets: TestSocket[], seqs: number[]) {
    const seenBefore = sockets.map((socket) => seqsOf(socket, r.id))
    for (const seq of seqs) {
      const res = await A.post(room(r.id, '/messages'), { content: `while down ${seq}` }, r.owner.token)
      expect(res.status).toBe(201)
      expect((await res.json()).seq).toBe(seq)
    }
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS))
    expect(sockets.map((socket) => seqsOf(socket, r.id))).toEqual(seenBefore)
  }

  /** Redis back: /health on both says so, and both instances follow the room's channel again. */
  async function redisBack(apis: TestApi[], r: RoomWithRoles) {
    await redis.start()
    await untilRedisHealthy(apis)
    await untilSubscribed(redis.url, `${apis[0]?.config.REDIS_KEY_PREFIX}:room:${r.id}`, apis.length)
  }

  test('messages stored while Redis is down reach every socket once, in order, when the next one comes', async () => {
    if (!a || !b) throw new Error('instances did not start')
    const [A, B] = [a, b]
    const { r, sockets } = await roomThenRedisDown(A, B, 3)
    await sendWhileDown(A, r, sockets, [4, 5, 6, 7, 8])
    for (const api of [A, B]) {
      expect((await history(api, r.id, r.viewer)).map((m) => m.seq)).toEqual(range(1, 8))
      expect(await (await api.get('/health')).json()).toMatchObject({ database: 'ok', redis: 'unavailable' })
    }

    await redisBack([A, B], r)
    await send(A, r.id, r.owner, 'after 9')
    // Seeing 9 reveals the gap 4..8, which each instance reads from the database.
    await allReceived(sockets, r.id, 9)
    await expectWholeHistory(A, sockets, r, 9)

    // A client that reconnects with after_seq recovers everything, on either instance.
    const resumedOnB = await follow(B, r.member, r.id, 3)
    const resumedOnA = await follow(A, r.viewer, r.id, 0)
    await allReceived([resumedOnB, resumedOnA], r.id, 9)
    expect(seqsOf(resumedOnB, r.id)).toEqual(range(4, 9))
    expect(seqsOf(resumedOnA, r.id)).toEqual(range(1, 9))
    await send(B, r.id, r.admin, 'live 10')
    await allReceived([...sockets, resumedOnA, resumedOnB], r.id, 10)
    await expectWholeHistory(B, [...sockets, resumedOnA], r, 10)
    expect(seqsOf(resumedOnB, r.id)).toEqual(range(4, 10))
  })

  // DESIGN 5: a stored message reaches every subscribed connection on every instance. In a quiet room no
  // next message may ever come to reveal the gap, so an instance that gets its bus back must catch up by
  // itself. (This is also what makes a message sent just after Redis returns safe: one instance may
  // publish it before the other has resubscribed.)
  test('messages stored while Redis is down reach every socket once Redis is back, without waiting for another', async () => {
    if (!a || !b) throw new Error('instances did not start')
    const [A, B] = [a, b]
    const { r, sockets } = await roomThenRedisDown(A, B, 2)
    await sendWhileDown(A, r, sockets, [3, 4, 5])
    await redisBack([A, B], r)
    await allReceived(sockets, r.id, 5)
    await expectWholeHistory(B, sockets, r, 5)
  })
})

/** Polls Redis until `count` connections (one per instance) are subscribed to the channel again. */
async function untilSubscribed(url: string, channel: string, count: number): Promise<void> {
  const probe = new Redis(url, { maxRetriesPerRequest: 1 })
  try {
    const deadline = Date.now() + 20_000
    for (;;) {
      const [, subscribers] = (await probe.pubsub('NUMSUB', channel)) as [string, number]
      if (subscribers >= count) return
      if (Date.now() > deadline) throw new Error(`${channel} has ${subscribers} subscribers, not ${count}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  } finally {
    probe.disconnect()
  }
}

/** Polls /health on each instance until it reports Redis ok (ioredis reconnects with a growing delay). */
async function untilRedisHealthy(apis: TestApi[]): Promise<void> {
  const deadline = Date.now() + 20_000
  for (const api of apis) {
    for (;;) {
      const body = await (await api.get('/health')).json()
      if (body.redis === 'ok') break
      if (Date.now() > deadline)
        throw new Error(`Redis is back but /health still says ${JSON.stringify(body)}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), FRAME_WAIT_MS)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

interface RedisServer {
  url: string
  running(): boolean
  /** Starts redis-server on the port (again, after a kill) and resolves once it answers PING. */
  start(): Promise<void>
  /** SIGKILL, as a crash: no shutdown, nothing saved. */
  kill(): Promise<void>
}

/** A redis-server of this test's own, on loopback, keeping nothing on disk. */
function redisServer(port: number): RedisServer {
  const binary = findRedisServer()
  let child: ChildProcess | undefined
  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null
  return {
    url: `redis://127.0.0.1:${port}`,
    running,
    async start() {
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
      const started = spawn(binary, args, { stdio: 'ignore' })
      child = started
      const deadline = Date.now() + 10_000
      while (!(await answersPing(port))) {
        if (started.exitCode !== null)
          throw new Error(`redis-server exited with ${started.exitCode} on port ${port}`)
        if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    async kill() {
      const current = child
      if (!current || !running()) return
      const exited = once(current, 'exit')
      current.kill('SIGKILL')
      await exited
    },
  }
}

function findRedisServer(): string {
  try {
    return execFileSync('which', ['redis-server'], { encoding: 'utf8' }).trim()
  } catch {
    throw new Error(
      'redis-server is not installed: the Redis restart test starts its own (apt-get install redis-server, or bash scripts/test-services.sh)',
    )
  }
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}
