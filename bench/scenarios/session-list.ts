// Session list (DESIGN section 7): GET /api/v1/chat/sessions?limit=100 for a user in 100 rooms, with 10
// messages per room (the baseline) and with 10,000 per room, both in the same database. Unread counts
// must not grow with history, so the ratio should be near 1. The messages are seeded directly in
// PostgreSQL, one INSERT … SELECT generate_series per room.
import { createDeployment, seedMessages, seedRooms, seedUsers } from '../bench-database.js'
import { type Child, startChild } from '../children.js'
import { type HttpLoad, runHttpLoad, warmUp } from '../load/http-load.js'
import { type Figures, fmt, medianFigures, ratioOf, type ScenarioOutcome } from '../report.js'
import type { ScenarioContext } from '../scenario.js'

/** Unread messages per room in the main case: a reader who keeps up. */
const UNREAD = 10

export async function sessionList(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { settings, log } = context
  const { rooms, small, large, windowS } = settings.sessionList
  const deployment = await createDeployment(settings)
  let server: Child | undefined
  try {
    const [smallReader, largeReader, ...authors] = (await seedUsers(deployment.pool, 6, 'unused')) as number[]
    const seedFor = async (reader: number, perRoom: number) => {
      const ids = await seedRooms(
        deployment.pool,
        Array.from({ length: rooms }, () => ({
          ownerId: authors[0] as number,
          memberIds: [reader, ...authors.slice(1)],
        })),
      )
      // Every fifth message is the reader's own and every hundredth a tombstone: both are subtracted.
      for (const id of ids) await seedMessages(deployment.pool, id, perRoom, [reader, ...authors], 100)
      return ids
    }
    const t0 = performance.now()
    await seedFor(smallReader as number, small)
    await seedFor(largeReader as number, large)
    await deployment.pool.query('vacuum analyze')
    log(`seeded ${rooms * (small + large)} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const markReadUpTo = (behind: number | null) =>
      deployment.pool.query(
        `update chat_participants p set last_read_seq = ${behind === null ? '0' : `greatest(s.last_seq - ${behind}, 0)`}
           from chat_sessions s where s.id = p.session_id and p.user_id = any($1::int[])`,
        [[smallReader, largeReader]],
      )
    server = await startChild('insurge', {
      core: settings.serverCore,
      env: deployment.env,
      cpuProfileDir: settings.cpuProfileDir,
    })
    const url = `http://127.0.0.1:${server.ready.port}/api/v1/chat/sessions?limit=${rooms}`
    const listFor = async (reader: number): Promise<HttpLoad> => ({
      url,
      connections: 1,
      durationS: windowS,
      headers: { authorization: `Bearer ${await deployment.accessToken(reader)}` },
    })
    const smallLoad = await listFor(smallReader as number)
    const largeLoad = await listFor(largeReader as number)
    const measure = async (label: string) => {
      await warmUp(smallLoad, settings.warmupS)
      await warmUp(largeLoad, settings.warmupS)
      const a: Figures[] = []
      const b: Figures[] = []
      for (let i = 0; i < settings.runs; i++) {
        const l = await runHttpLoad(largeLoad, [(server as Child).pid])
        const s = await runHttpLoad(smallLoad, [(server as Child).pid])
        log(
          `${label}: ${large}/room p50 ${l.p50_ms} ms p99 ${l.p99_ms} ms; ${small}/room p50 ${s.p50_ms} ms p99 ${s.p99_ms} ms`,
        )
        if (l.non2xx || s.non2xx)
          throw new Error(`the session list answered non-2xx: ${l.non2xx} / ${s.non2xx}`)
        a.push(l)
        b.push(s)
      }
      return {
        large: medianFigures(a),
        small: medianFigures(b),
        runs: a.map((l, i) => ({ label, large: l, small: b[i] })),
      }
    }
    await markReadUpTo(UNREAD)
    const main = await measure(`${UNREAD} unread per room`)
    await markReadUpTo(null)
    const neverRead = await measure('nothing read')
    const ratio = {
      p50_ms: ratioOf(main.large.p50_ms, main.small.p50_ms),
      p99_ms: ratioOf(main.large.p99_ms, main.small.p99_ms),
      never_read_p50_ms: ratioOf(neverRead.large.p50_ms, neverRead.small.p50_ms),
      never_read_p99_ms: ratioOf(neverRead.large.p99_ms, neverRead.small.p99_ms),
    }
    const prefixed = (prefix: string, f: Figures): Figures =>
      Object.fromEntries(Object.entries(f).map(([k, v]) => [`${prefix}${k}`, v]))
    return {
      summary:
        `${rooms} rooms, ${UNREAD} unread each: ${large} messages/room p50 ${fmt(main.large.p50_ms)} ms p99 ${fmt(main.large.p99_ms)} ms ` +
        `vs ${small}/room p50 ${fmt(main.small.p50_ms)} ms p99 ${fmt(main.small.p99_ms)} ms (ratio ${fmt(ratio.p50_ms)} p50, ${fmt(ratio.p99_ms)} p99); ` +
        `nothing read: ratio ${fmt(ratio.never_read_p50_ms)} p50`,
      figures: { messages_per_room: large, ...main.large, ...prefixed('never_read_', neverRead.large) },
      baseline: { messages_per_room: small, ...main.small, ...prefixed('never_read_', neverRead.small) },
      ratio,
      settings: { ...settings.sessionList, unread_per_room: UNREAD, connections: 1, runs: settings.runs },
      load_generator_bottleneck: false,
      notes: [
        `Main figures: the reader's marker ${UNREAD} messages behind the newest in every room. never_read_*: the marker at 0, so every message of the room is after it (unread = the whole history).`,
        'Messages: every fifth by the reader (own messages are not unread), every hundredth a tombstone (deleted ones are not unread).',
        'One connection (latency, not throughput); Insurge pinned to the server core; PostgreSQL is not pinned.',
      ],
      runs: [...main.runs, ...neverRead.runs],
    }
  } finally {
    await server?.stop()
    await deployment.drop()
  }
}
