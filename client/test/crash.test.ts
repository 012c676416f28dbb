// Exactly once when the server itself goes: a server process killed with SIGKILL mid-conversation and
// started again (PostgreSQL keeps the data), and two instances on one Redis with clients on each while
// their sockets are cut and moved between instances. Clients reach the servers through a TCP proxy,
// which is how "the same address" survives a restart on a new port.
// Needs PostgreSQL (PGlite lives inside one process); the second test needs Redis too.
import type { Room } from '@insurge/client'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { connectDatabase } from '../../src/db/connect.js'
import { startTestApp, type TestApi } from '../../test/helpers/app.js'
import { createRoom, invite } from '../../test/helpers/chat.js'
import { startFakeOpenAI } from '../../test/helpers/fake-openai.js'
import { type Instance, spawnInstance } from '../../test/helpers/instances.js'
import { startTcpProxy, type TcpProxy } from '../../test/helpers/tcp-proxy.js'
import { clientFor, closeClients, contents, expectContiguous, until } from './helpers.js'

const onPostgres = process.env.TEST_DB_KIND === 'postgres'
const onPostgresAndRedis = onPostgres && !!process.env.TEST_REDIS_URL
const PER_CLIENT = 20

let primary: TestApi
const instances: Instance[] = []
const proxies: TcpProxy[] = []

async function proxyTo(url: string, options?: { raw?: boolean }): Promise<TcpProxy> {
  const proxy = await startTcpProxy(url, options)
  proxies.push(proxy)
  return proxy
}
async function instance(env?: Record<string, string>): Promise<Instance> {
  const started = await spawnInstance(primary, { env })
  instances.push(started)
  return started
}

/** Ada and Bob in a new room, each with a client of their own address. */
async function pairVia(urlA: string, urlB: string, aiMode: 'off' | 'always' = 'off', options = {}) {
  const [ada, bob] = await Promise.all([primary.signUp(), primary.signUp()])
  const room = await createRoom(primary, ada, { session_type: 'invite_only', ai_mode: aiMode })
  await invite(primary, room.id, ada, bob)
  const [a, b] = await Promise.all([clientFor(urlA, ada, options), clientFor(urlB, bob, options)])
  const [ra, rb] = [a.room(room.id), b.room(room.id)]
  await Promise.all([ra.ready, rb.ready])
  await until(() => a.connection.state === 'open' && b.connection.state === 'open', 'both sockets are open')
  return { roomId: room.id, ada, a, b, ra, rb }
}

/** Both send PER_CLIENT messages, one every `gapMs`; `during(i)` runs before the i-th pair. */
async function talk(ra: Room, rb: Room, gapMs: number, during: (i: number) => Promise<void> | void) {
  const resolved = new Map<string, number>()
  const count = (content: string) => resolved.set(content, (resolved.get(content) ?? 0) + 1)
  const sends: Promise<unknown>[] = []
  for (let i = 0; i < PER_CLIENT; i++) {
    await during(i)
    sends.push(ra.send(`ada ${i}`).then((m) => count(m.content)))
    sends.push(rb.send(`bob ${i}`).then((m) => count(m.content)))
    await new Promise((resolve) => setTimeout(resolve, gapMs))
  }
  await Promise.all(sends)
  return resolved
}

/** Every send resolved exactly once, and both rooms hold every message once, in seq order. */
async function expectEveryMessageOnceInBoth(ra: Room, rb: Room, resolved: Map<string, number>) {
  const expected = Array.from({ length: PER_CLIENT }, (_, i) => [`ada ${i}`, `bob ${i}`]).flat()
  expect([...resolved.keys()].sort()).toEqual([...expected].sort())
  expect([...resolved.values()].every((n) => n === 1)).toBe(true)
  const total = 2 * PER_CLIENT
  await until(() => ra.messages.length === total && rb.messages.length === total, 'both hold every message')
  for (const room of [ra, rb]) {
    expectContiguous(room.messages)
    expect([...contents(room.messages)].sort()).toEqual([...expected].sort())
  }
  expect(ra.messages.map((m) => m.id)).toEqual(rb.messages.map((m) => m.id))
}

describe.runIf(onPostgres)('servers that go away', () => {
  beforeAll(async () => {
    primary = await startTestApp()
  })
  afterEach(() => closeClients())
  afterAll(async () => {
    for (const proxy of proxies) await proxy.close()
    for (const started of instances) await started.kill()
    await primary?.close()
  })

  test('the server is killed with SIGKILL mid-conversation and started again: every message once in both clients, every send resolved once', async () => {
    const first = await instance()
    const proxy = await proxyTo(first.url)
    const { ra, rb } = await pairVia(proxy.url, proxy.url)
    let down = false
    let sentWhileDown = 0
    let restarted: Promise<void> | undefined
    const resolved = await talk(ra, rb, 25, async (i) => {
      if (i === PER_CLIENT / 2) {
        await first.kill()
        proxy.cut()
        down = true
        // Sends keep being made while no server is up; they wait and go once one is.
        restarted = instance().then((second) => {
          proxy.target = second.url
          down = false
        })
      }
      if (down) sentWhileDown += 2
    })
    await restarted
    expect(sentWhileDown).toBeGreaterThan(0)
    await expectEveryMessageOnceInBoth(ra, rb, resolved)
  }, 120_000)

  test('the server is killed while the assistant writes: the question stays, and both clients give the reply up', async () => {
    const fake = await startFakeOpenAI()
    try {
      // A reply that would take 20 s: 200 pieces, one every 100 ms.
      fake.mode = { kind: 'answer', reply: 'word '.repeat(200), chunkSize: 5, delayMs: 100 }
      const env = { OPENAI_BASE_URL: fake.baseUrl }
      const first = await instance(env)
      const proxy = await proxyTo(first.url)
      const { a, b, ra, rb } = await pairVia(proxy.url, proxy.url, 'always', {
        room: { assistantIdleMs: 1_500 },
      })
      const errors: number[] = []
      for (const room of [ra, rb]) room.on('assistantError', ({ replyTo }) => errors.push(replyTo))
      const question = await ra.send('a long answer, please')
      const writing = (room: Room) => (room.assistantReplies[0]?.text.length ?? 0) >= 10
      await until(() => writing(ra) && writing(rb), 'both show the reply being written', 15_000)

      await first.kill()
      proxy.cut()
      const second = await instance(env)
      proxy.target = second.url
      // Nothing ends the reply now: each client gives it up once nothing more is heard of it (a
      // new subscription may announce it again from what the dead instance left, and it goes again).
      const settled = () =>
        a.connection.state === 'open' &&
        b.connection.state === 'open' &&
        [ra, rb].every((room) => room.assistantReplies.length === 0) &&
        errors.filter((id) => id === question.id).length >= 2
      await until(settled, 'both clients gave the reply up', 20_000)
      await new Promise((resolve) => setTimeout(resolve, 3_000))
      expect(ra.assistantReplies).toEqual([])
      expect(rb.assistantReplies).toEqual([])
      for (const room of [ra, rb]) {
        expect(room.messages.map((m) => m.id)).toContain(question.id)
        expect(room.messages.some((m) => m.role === 'assistant')).toBe(false)
        expectContiguous(room.messages)
      }
    } finally {
      await fake.close()
    }
  }, 120_000)

  test('the database goes away while a message is sent: the send is retried and stored once when it is back', async () => {
    // An instance whose every connection to PostgreSQL goes through a proxy the test can cut.
    const database = new URL(primary.config.DATABASE_URL)
    const toDatabase = await proxyTo(`http://${database.hostname}:${database.port || 5432}`, { raw: true })
    const proxied = new URL(database)
    proxied.port = new URL(toDatabase.url).port
    const fragile = await startTestApp({
      instanceOf: primary,
      resources: async (config) => ({ config, database: await connectDatabase(proxied.toString()) }),
    })
    try {
      // Both on this instance: it has no Redis of its own (the resources given are only the database),
      // so it shares no live frames with the primary.
      const { roomId, ada, ra, rb } = await pairVia(fragile.url, fragile.url)
      // Ada on a second device, logged in before the database goes, opens the room while it is away.
      const second = await clientFor(fragile.url, ada)
      const reachable = toDatabase.target
      toDatabase.target = 'http://127.0.0.1:9'
      toDatabase.cut()
      const errors: string[] = []
      ra.on('error', (error) => errors.push(error.code))
      const sent = ra.send('while the database is down')
      const opened = second.room(roomId)
      // Refused for now ('unavailable', naming the send): the SDK waits and sends it again.
      await new Promise((resolve) => setTimeout(resolve, 4_000))
      toDatabase.target = reachable
      const message = await sent
      expect(message.content).toBe('while the database is down')
      await until(() => rb.messages.length === 1, 'the other client holds it')
      // The room's first read was answered 503 and read again: the room opens once the database is back.
      await opened.ready
      await until(() => opened.messages.length === 1, 'the second device holds it')
      for (const room of [ra, rb, opened])
        expect(contents(room.messages)).toEqual(['while the database is down'])
      expect(errors).toEqual([])
    } finally {
      await fragile.close()
    }
  }, 60_000)

  test.runIf(onPostgresAndRedis)(
    'two instances on one Redis: clients on different instances, sockets cut and moved between them',
    async () => {
      const other = await instance()
      const [toA, toB] = await Promise.all([proxyTo(primary.url), proxyTo(other.url)])
      const { ra, rb } = await pairVia(toA.url, toB.url)
      const resolved = await talk(ra, rb, 20, (i) => {
        if (i % 4 === 1) toA.cut()
        if (i % 4 === 3) toB.cut()
        if (i === PER_CLIENT / 2) {
          // Each client's next socket lands on the other instance.
          ;[toA.target, toB.target] = [toB.target, toA.target]
          toA.cut()
          toB.cut()
        }
      })
      await expectEveryMessageOnceInBoth(ra, rb, resolved)
    },
    120_000,
  )
})
