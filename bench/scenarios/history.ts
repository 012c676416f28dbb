// History reads: GET /api/v1/chat/sessions/:id/messages?before_seq=…&limit=50 at random pages of a room,
// with autocannon. Baseline: a bare Fastify hello route on the same pinned core, same connections.
import { createDeployment, seedMessages, seedRooms, seedUsers } from '../bench-database.js'
import { type Child, startChild } from '../children.js'
import { type HttpLoad, runHttpLoad, warmUp } from '../load/http-load.js'
import { type Figures, fmt, medianFigures, ratioOf, type ScenarioOutcome } from '../report.js'
import type { ScenarioContext } from '../scenario.js'

const PAGE = 50

export async function history(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { settings, log } = context
  const { messages, connections, windowS } = settings.history
  const deployment = await createDeployment(settings)
  let insurge: Child | undefined
  let hello: Child | undefined
  try {
    const users = await seedUsers(deployment.pool, 5, 'unused')
    const [reader, ...others] = users as [number, ...number[]]
    const [roomId] = (await seedRooms(deployment.pool, [{ ownerId: reader, memberIds: others }])) as [number]
    await seedMessages(deployment.pool, roomId, messages, users, 100)
    await deployment.pool.query('analyze')
    const token = await deployment.accessToken(reader)
    insurge = await startChild('insurge', {
      core: settings.serverCore,
      env: deployment.env,
      cpuProfileDir: settings.cpuProfileDir,
    })
    hello = await startChild('hello', { core: settings.serverCore, cpuProfileDir: settings.cpuProfileDir })
    const pages: HttpLoad = {
      url: `http://127.0.0.1:${insurge.ready.port}`,
      connections,
      durationS: windowS,
      headers: { authorization: `Bearer ${token}` },
      path: () =>
        `/api/v1/chat/sessions/${roomId}/messages?limit=${PAGE}&before_seq=${PAGE + 1 + Math.floor(Math.random() * (messages - PAGE))}`,
    }
    const bare: HttpLoad = {
      url: `http://127.0.0.1:${hello.ready.port}/hello`,
      connections,
      durationS: windowS,
    }
    await warmUp(pages, settings.warmupS)
    await warmUp(bare, settings.warmupS)
    const app: Figures[] = []
    const base: Figures[] = []
    for (let i = 0; i < settings.runs; i++) {
      const a = await runHttpLoad(pages, [insurge.pid])
      const b = await runHttpLoad(bare, [hello.pid])
      log(
        `pages: ${Math.round(a.rps as number)} req/s p99 ${a.p99_ms} ms (server cpu ${a.server_cpu}, load cpu ${a.load_cpu}); hello: ${Math.round(b.rps as number)} req/s p99 ${b.p99_ms} ms (load cpu ${b.load_cpu})`,
      )
      app.push(a)
      base.push(b)
    }
    const figures = medianFigures(app)
    const baseline = medianFigures(base)
    const ratio = {
      rps: ratioOf(figures.rps, baseline.rps),
      p99_ms: ratioOf(figures.p99_ms, baseline.p99_ms),
    }
    const bottleneck = figures.load_bottleneck === true || baseline.load_bottleneck === true
    return {
      summary:
        `pages of ${PAGE} by before_seq: ${fmt(figures.rps)} req/s p99 ${fmt(figures.p99_ms)} ms vs Fastify hello ` +
        `${fmt(baseline.rps)} req/s p99 ${fmt(baseline.p99_ms)} ms (ratio ${fmt(ratio.rps)})` +
        (baseline.load_bottleneck
          ? ' [autocannon near 100% CPU against hello: the baseline is a floor]'
          : '') +
        (figures.load_bottleneck ? ' [autocannon near 100% CPU against Insurge]' : ''),
      figures,
      baseline,
      ratio,
      settings: { ...settings.history, page: PAGE, runs: settings.runs, warmup_s: settings.warmupS },
      load_generator_bottleneck: bottleneck,
      notes: [
        `One room of ${messages} messages (every 100th a tombstone), pages at random before_seq; each request authenticates (JWT + user row), checks membership, reads the page and its reactions.`,
        `Both servers pinned to core ${settings.serverCore}, autocannon to core ${settings.loadCore}; PostgreSQL is not pinned.`,
      ],
      runs: app.map((a, i) => ({ insurge: a, hello: base[i] })),
    }
  } finally {
    await insurge?.stop()
    await hello?.stop()
    await deployment.drop()
  }
}
