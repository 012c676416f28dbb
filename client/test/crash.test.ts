// Exactly once when the server itself goes: a server process killed with SIGKILL mid-conversation and
// started again (PostgreSQL keeps the data), and two instances on one Redis with clients on each while
// their sockets are cut and moved between instances. Clients reach the servers through a TCP proxy,
// which is how "the same address" survives a restart on a new port.
// Needs PostgreSQL (PGlite lives inside one process); the second test needs Redis too.
import type { Room } from '@insurge/client'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { startTestApp, type TestApi } from '../../test/helpers/app.js'
import { createRoom, invite } from '../../test/helpers/chat.js'
import { type Instance, spawnInstance } from '../../test/helpers/instances.js'
import { startTcpProxy, type TcpProxy } from '../../test/helpers/tcp-proxy.js'
import { clientFor, closeClients, contents, expectContiguous, until } from './helpers.js'

const onPostgres = process.env.TEST_DB_KIND === 'postgres'
const onPostgresAndRedis = onPostgres && !!process.env.TEST_REDIS_URL
const PER_CLIENT = 20

let primary: TestApi
const instances: Instance[] = []
const proxies: TcpProxy[] = []

async function proxyTo(url: string): Promise<TcpProxy> {
  const proxy = await startTcpProxy(url)
  proxies.push(proxy)
  return proxy
}
async function instance(): Promise<Instance> {
  const started = await spawnInstance(primary)
  instances.push(started)
  return started
}

/** Ada and Bob in a new room, each with a client of their own address. */
async function pairVia(urlA: string, urlB: string) {
  const [ada, bob] = await Promise.all([primary.signUp(), primary.signUp()])
  const room = await createRoom(primary, ada, { session_type: 'invite_only', ai_mode: 'off' })
  await invite(primary, room.id, ada, bob)
  const [a, b] = await Promise.all([clientFor(urlA, ada), clientFor(urlB, bob)])
  const [ra, rb] = [a.room(room.id), b.room(room.id)]
  await Promise.all([ra.ready, rb.ready])
  await until(() => a.connection.state === 'open' && b.connection.state === 'open', 'both sockets are open')
  return { roomId: room.id, ra, rb }
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
    const resolved = await talk(ra, rb, 25, async (i) => {
      if (i !== PER_CLIENT / 2) return
      await first.kill()
      proxy.cut()
      // Sends keep being made while no server is up; they wait and go once one is.
      const second = await instance()
      proxy.target = second.url
    })
    await expectEveryMessageOnceInBoth(ra, rb, resolved)
  }, 120_000)

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
