// Logins: POST /api/v1/auth/login at concurrency 2-8 with BCRYPT_ROUNDS=12, and the server's event-loop
// delay over the same window (monitorEventLoopDelay inside the Insurge child), which shows whether
// bcrypt blocks the loop. Baseline: raw bcrypt.compare at the same cost and concurrency, in a child
// pinned to the same core (bcrypt's libuv threads follow the pinning).
import bcrypt from 'bcrypt'
import { BENCH_PASSWORD, createDeployment, seedUsers } from '../bench-database.js'
import { type Child, startChild } from '../children.js'
import { type HttpLoad, runHttpLoad, warmUp } from '../load/http-load.js'
import { type Figures, fmt, medianFigures, ratioOf, round, type ScenarioOutcome } from '../report.js'
import type { ScenarioContext } from '../scenario.js'

export async function logins(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { settings, log } = context
  const { concurrency, windowS, rounds } = settings.logins
  const deployment = await createDeployment(settings, { BCRYPT_ROUNDS: String(rounds) })
  let insurge: Child | undefined
  let compare: Child | undefined
  try {
    const hash = await bcrypt.hash(BENCH_PASSWORD, rounds)
    const [userId] = (await seedUsers(deployment.pool, 1, hash, 'login')) as [number]
    const email = `login_1@bench.local`
    insurge = await startChild('insurge', {
      core: settings.serverCore,
      env: deployment.env,
      cpuProfileDir: settings.cpuProfileDir,
    })
    compare = await startChild('bcrypt-compare', { core: settings.serverCore })
    const figures: Figures = {}
    const baseline: Figures = {}
    const runs: unknown[] = []
    let bottleneck = false
    for (const c of concurrency) {
      // A fixed number of logins (about windowS seconds' worth at ~4/s), a multiple of c: every worker
      // does the same share, and none is cut off at the end of a window.
      const amount = Math.ceil((windowS * 4) / c) * c
      const load: HttpLoad = {
        url: `http://127.0.0.1:${insurge.ready.port}/api/v1/auth/login`,
        connections: c,
        durationS: windowS,
        amount,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: BENCH_PASSWORD }),
        timeoutS: 60,
      }
      await warmUp(load, settings.warmupS)
      const app: Figures[] = []
      const base: Figures[] = []
      for (let i = 0; i < settings.runs; i++) {
        await insurge.request('lagReset')
        const a = await runHttpLoad(load, [insurge.pid])
        const lag = await insurge.request<Figures>('lagRead')
        await compare.request('lagReset')
        const raw = await compare.request<{ compares: number; seconds: number }>(
          'run',
          { password: BENCH_PASSWORD, hash, concurrency: c, amount },
          (windowS + 120) * 1000,
        )
        const rawLag = await compare.request<Figures>('lagRead')
        const b: Figures = { logins_per_s: raw.compares / raw.seconds, ...rawLag }
        const x: Figures = {
          logins_per_s: a.rps ?? null,
          p99_ms: a.p99_ms ?? null,
          non2xx: a.non2xx ?? null,
          load_cpu: a.load_cpu ?? null,
          ...lag,
        }
        log(
          `c=${c}: insurge ${round(x.logins_per_s as number)} logins/s, loop delay p99 ${x.lag_p99_ms} ms max ${x.lag_max_ms} ms; bcrypt.compare ${round(b.logins_per_s as number)}/s, loop delay p99 ${b.lag_p99_ms} ms max ${b.lag_max_ms} ms`,
        )
        bottleneck ||= a.load_bottleneck === true
        app.push(x)
        base.push(b)
        runs.push({ concurrency: c, insurge: x, bcrypt: b })
      }
      for (const [key, value] of Object.entries(medianFigures(app))) figures[`${key}@${c}`] = value
      for (const [key, value] of Object.entries(medianFigures(base))) baseline[`${key}@${c}`] = value
    }
    const ratio: Record<string, number | null> = {}
    for (const c of concurrency) {
      ratio[`logins_per_s@${c}`] = ratioOf(figures[`logins_per_s@${c}`], baseline[`logins_per_s@${c}`])
    }
    const parts = concurrency.map(
      (c) =>
        `c=${c} ${fmt(figures[`logins_per_s@${c}`])}/s vs ${fmt(baseline[`logins_per_s@${c}`])}/s (ratio ${fmt(ratio[`logins_per_s@${c}`])}), loop delay p99/max ${fmt(figures[`lag_p99_ms@${c}`])}/${fmt(figures[`lag_max_ms@${c}`])} ms (bare ${fmt(baseline[`lag_p99_ms@${c}`])}/${fmt(baseline[`lag_max_ms@${c}`])})`,
    )
    return {
      summary: `bcrypt cost ${rounds}, logins/s vs raw bcrypt.compare: ${parts.join('; ')}`,
      figures,
      baseline,
      ratio,
      settings: {
        ...settings.logins,
        logins_per_window: 'windowS x 4, rounded up to a multiple of c',
        runs: settings.runs,
        warmup_s: settings.warmupS,
        user_id: userId,
      },
      load_generator_bottleneck: bottleneck,
      notes: [
        `Insurge and the bcrypt baseline are pinned to core ${settings.serverCore} (the libuv pool of 4 threads shares it); autocannon runs on core ${settings.loadCore}.`,
        'Event-loop delay: perf_hooks.monitorEventLoopDelay (10 ms resolution) in the server process, reset before each window and read after it.',
      ],
      runs,
    }
  } finally {
    await insurge?.stop()
    await compare?.stop()
    await deployment.drop()
  }
}
