// History reads: GET /api/v1/chat/sessions/:id/messages?before_seq=…&limit=50 at random pages of a room,
// with autocannon. Baseline: the bare server (bench/servers/bare-chat.ts: node:http, pg named statements,
// the same SQL, JWT checks and JSON) on the same pinned core, same connections; also a bare Fastify hello
// route, the floor of any HTTP work.
import { createDeployment, seedMessages, seedRooms, seedUsers } from '../bench-database.js'
import { type Child, startChild } from '../children.js'
import { type HttpLoad, runHttpLoad, warmUp } from '../load/http-load.js'
import {
  cpuMsPerRequest,
  type Figures,
  fmt,
  medianFigures,
  pairedRatio,
  pairInTurn,
  ratioOf,
  type ScenarioOutcome,
} from '../report.js'
import type { ScenarioContext } from '../scenario.js'

const PAGE = 50

const withCpuPerPage = (figures: Figures): Figures => ({
  ...figures,
  cpu_ms_per_page: cpuMsPerRequest(figures),
})

export async function history(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { settings, log } = context
  const { messages, connections, windowS } = settings.history
  const deployment = await createDeployment(settings)
  let insurge: Child | undefined
  let hello: Child | undefined
  let bareChat: Child | undefined
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
    bareChat = await startChild('bare-chat', {
      core: settings.serverCore,
      env: deployment.env,
      cpuProfileDir: settings.cpuProfileDir,
    })
    const pagesOf = (port: unknown): HttpLoad => ({
      url: `http://127.0.0.1:${port}`,
      connections,
      durationS: windowS,
      headers: { authorization: `Bearer ${token}` },
      path: () =>
        `/api/v1/chat/sessions/${roomId}/messages?limit=${PAGE}&before_seq=${PAGE + 1 + Math.floor(Math.random() * (messages - PAGE))}`,
    })
    const pages = pagesOf(insurge.ready.port)
    const barePages = pagesOf(bareChat.ready.port)
    const bare: HttpLoad = {
      url: `http://127.0.0.1:${hello.ready.port}/hello`,
      connections,
      durationS: windowS,
    }
    await warmUp(pages, settings.warmupS)
    await warmUp(bare, settings.warmupS)
    await warmUp(barePages, settings.warmupS)
    const app: Figures[] = []
    const base: Figures[] = []
    const helloRuns: Figures[] = []
    const [insurgePid, barePid] = [insurge.pid, bareChat.pid]
    for (let i = 0; i < settings.runs; i++) {
      // Each run is a pair, Insurge and the bare server back to back, in turn first and second.
      const pair = await pairInTurn(
        i,
        () => runHttpLoad(pages, [insurgePid]),
        () => runHttpLoad(barePages, [barePid]),
      )
      const [a, c] = pair.map(withCpuPerPage) as [Figures, Figures]
      const b = await runHttpLoad(bare, [hello.pid])
      log(
        `pages: ${Math.round(a.rps as number)} req/s p99 ${a.p99_ms} ms (server cpu ${a.server_cpu}, ${a.cpu_ms_per_page} ms per page, load cpu ${a.load_cpu}); bare server: ${Math.round(c.rps as number)} req/s p99 ${c.p99_ms} ms (server cpu ${c.server_cpu}, ${c.cpu_ms_per_page} ms per page): ratio ${ratioOf(a.rps, c.rps)}; hello: ${Math.round(b.rps as number)} req/s (load cpu ${b.load_cpu})`,
      )
      app.push(a)
      base.push(c)
      helloRuns.push(b)
    }
    const figures = medianFigures(app)
    const baseline = medianFigures(base)
    const helloFigures = medianFigures(helloRuns)
    const ratio = {
      // The issue's ratio: the median of the runs' ratios (each run a pair, back to back).
      rps: pairedRatio(app, base, 'rps'),
      rps_of_medians: ratioOf(figures.rps, baseline.rps),
      p99_ms: pairedRatio(app, base, 'p99_ms'),
      cpu_per_page: pairedRatio(app, base, 'cpu_ms_per_page'),
      rps_to_hello: ratioOf(figures.rps, helloFigures.rps),
    }
    const bottleneck = figures.load_bottleneck === true || baseline.load_bottleneck === true
    return {
      summary:
        `pages of ${PAGE} by before_seq: ${fmt(figures.rps)} req/s p99 ${fmt(figures.p99_ms)} ms vs the bare server ` +
        `${fmt(baseline.rps)} req/s p99 ${fmt(baseline.p99_ms)} ms (ratio ${fmt(ratio.rps)}, median of the runs' ratios; ` +
        `CPU per page ${fmt(figures.cpu_ms_per_page)} vs ${fmt(baseline.cpu_ms_per_page)} ms); Fastify hello ${fmt(helloFigures.rps)} req/s` +
        (figures.load_bottleneck ? ' [autocannon near 100% CPU against Insurge]' : ''),
      figures,
      baseline,
      hello: helloFigures,
      ratio,
      settings: { ...settings.history, page: PAGE, runs: settings.runs, warmup_s: settings.warmupS },
      load_generator_bottleneck: bottleneck,
      notes: [
        `One room of ${messages} messages (every 100th a tombstone), pages at random before_seq; each request authenticates (JWT + user row), checks membership, reads the page and its reactions.`,
        "Each run is a pair, Insurge and the bare server back to back (alternately first); ratio.rps is the median of the pairs' ratios, ratio.rps_of_medians the ratio of the medians.",
        `Both servers pinned to core ${settings.serverCore}, autocannon to core ${settings.loadCore}; PostgreSQL is not pinned.`,
      ],
      runs: app.map((a, i) => ({ insurge: a, bare: base[i], hello: helloRuns[i] })),
    }
  } finally {
    await insurge?.stop()
    await hello?.stop()
    await bareChat?.stop()
    await deployment.drop()
  }
}
