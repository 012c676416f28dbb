// Idle sockets: RSS and heap per authenticated, subscribed, idle WebSocket at 10,000 sockets, after a full
// GC (the server child runs with --expose-gc). Baseline: a bare `ws` server holding the same number.
import { execFileSync } from 'node:child_process'
import { createDeployment, seedRooms, seedUsers } from '../bench-database.js'
import { type Child, startChild } from '../children.js'
import { connectReceivers } from '../load/fanout-load.js'
import { type Figures, fmt, medianFigures, ratioOf, round, type ScenarioOutcome } from '../report.js'
import type { ScenarioContext } from '../scenario.js'

interface Memory {
  rss: number
  heapUsed: number
}

/** Holds `urls.length` sockets on a fresh child and reports the memory they added, per socket. */
async function holdSockets(
  context: ScenarioContext,
  start: () => Promise<Child>,
  urlsFor: (port: unknown) => string[],
  protocol: 'insurge' | 'ws',
): Promise<Figures> {
  const child = await start()
  try {
    const urls = urlsFor(child.ready.port)
    const before = await child.request<Memory>('gc')
    const t0 = performance.now()
    const receivers = await connectReceivers(urls, protocol, 100)
    const connectS = (performance.now() - t0) / 1000
    await receivers.settle(1000, 60_000)
    const after = await child.request<Memory>('gc')
    const held = (await child.request<{ count: number }>('sockets')).count
    receivers.close()
    const n = urls.length
    const figures: Figures = {
      sockets: held,
      rss_per_socket_kb: round((after.rss - before.rss) / n / 1024),
      heap_per_socket_kb: round((after.heapUsed - before.heapUsed) / n / 1024),
      rss_total_mb: round(after.rss / 2 ** 20),
      heap_total_mb: round(after.heapUsed / 2 ** 20),
      connects_per_s: round(n / connectS),
    }
    context.log(
      `${protocol === 'insurge' ? 'insurge' : 'bare ws'}: ${held} sockets, ${figures.rss_per_socket_kb} KB RSS and ${figures.heap_per_socket_kb} KB heap per socket, ${figures.connects_per_s} connects/s`,
    )
    return figures
  } finally {
    await child.stop()
  }
}

function openFileLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
  } catch {
    return 1024
  }
}

export async function idleSockets(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { settings } = context
  const notes: string[] = []
  let sockets = settings.idleSockets.sockets
  const limit = openFileLimit()
  if (limit < sockets + 1000) {
    sockets = Math.max(100, Math.floor((limit - 1000) / 100) * 100)
    notes.push(
      `ulimit -n is ${limit}: measured at ${sockets} sockets instead of ${settings.idleSockets.sockets}.`,
    )
  }
  const perRoom = settings.idleSockets.usersPerRoom
  const deployment = await createDeployment(settings)
  try {
    const users = await seedUsers(deployment.pool, sockets, 'unused')
    const groups = Array.from({ length: Math.ceil(sockets / perRoom) }, (_, i) =>
      users.slice(i * perRoom, (i + 1) * perRoom),
    )
    const roomIds = await seedRooms(
      deployment.pool,
      groups.map(([owner, ...members]) => ({ ownerId: owner as number, memberIds: members })),
    )
    const tokens = await Promise.all(users.map((id) => deployment.accessToken(id)))
    const app: Figures[] = []
    const base: Figures[] = []
    for (let run = 0; run < settings.runs; run++) {
      app.push(
        await holdSockets(
          context,
          () =>
            startChild('insurge', {
              core: settings.serverCore,
              nodeFlags: ['--expose-gc'],
              // Each run counts presence afresh.
              env: { ...deployment.env, REDIS_KEY_PREFIX: `${deployment.env.REDIS_KEY_PREFIX}-r${run}` },
            }),
          (port) =>
            tokens.map(
              (token, i) =>
                `ws://127.0.0.1:${port}/ws?token=${token}&session_id=${roomIds[Math.floor(i / perRoom)]}`,
            ),
          'insurge',
        ),
      )
      base.push(
        await holdSockets(
          context,
          () => startChild('bare-ws', { core: settings.serverCore, nodeFlags: ['--expose-gc'] }),
          (port) => Array.from({ length: sockets }, () => `ws://127.0.0.1:${port}/`),
          'ws',
        ),
      )
    }
    const figures = medianFigures(app)
    const baseline = medianFigures(base)
    const ratio = {
      rss_per_socket: ratioOf(figures.rss_per_socket_kb, baseline.rss_per_socket_kb),
      heap_per_socket: ratioOf(figures.heap_per_socket_kb, baseline.heap_per_socket_kb),
    }
    return {
      summary:
        `${sockets} sockets: insurge ${fmt(figures.rss_per_socket_kb)} KB RSS / ${fmt(figures.heap_per_socket_kb)} KB heap per socket ` +
        `vs bare ws ${fmt(baseline.rss_per_socket_kb)} / ${fmt(baseline.heap_per_socket_kb)} KB ` +
        `(ratio ${fmt(ratio.rss_per_socket)} RSS, ${fmt(ratio.heap_per_socket)} heap)`,
      figures,
      baseline,
      ratio,
      settings: { sockets, users_per_room: perRoom, runs: settings.runs },
      load_generator_bottleneck: false,
      notes: [
        ...notes,
        `Each Insurge socket is a distinct user, authenticated by access token and subscribed to a room of ${perRoom} (so the server also holds one Redis user channel per socket and one room channel per ${perRoom}).`,
        'Memory is read after three full GCs (--expose-gc), before the first socket and after the last one settled; each run starts a fresh server process.',
      ],
      runs: app.map((a, i) => ({ insurge: a, bare_ws: base[i] })),
    }
  } finally {
    await deployment.drop()
  }
}
