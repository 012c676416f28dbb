// Persisted sends: POST /api/v1/chat/sessions/:id/messages with autocannon across 1, 10 and 1,000 rooms
// on PostgreSQL, rate limits off. Baseline: the bare server (bench/servers/bare-chat.ts: node:http, pg
// named statements, Insurge's own send SQL, the same JWT checks, user read, JSON and Redis PUBLISH) at
// the same concurrency; also pgbench running the send statement alone.
import { createDeployment, seedRooms, seedUsers } from '../bench-database.js'
import { startChild } from '../children.js'
import { runHttpLoad, warmUp } from '../load/http-load.js'
import { runPgbench } from '../load/pgbench.js'
import {
  type Figures,
  fmt,
  medianFigures,
  pairedRatio,
  pairInTurn,
  ratioOf,
  round,
  type ScenarioOutcome,
} from '../report.js'
import type { ScenarioContext } from '../scenario.js'

const CONTENT = 'A message of about the length people type in a chat, stored and numbered.'

/** The app's ISO format; pgbench would read `:MI` and `:SS` as its variables, hence chr(58). */
const ISO = `'YYYY-MM-DD"T"HH24' || chr(58) || 'MI' || chr(58) || 'SS.MS"Z"'`

/** The send statement of src/chat/message-queries.ts (as it was when this was written), in pgbench's variables. */
const SEND_SQL = `\\set room :first + random(0, :rooms - 1)
with slot as (
  update chat_sessions
     set last_seq = last_seq + 1, message_count = message_count + 1, last_activity_at = now()
   where id = :room and deleted_at is null
     and exists (select 1 from chat_participants p where p.session_id = :room and p.user_id = :uid
                   and p.role in ('owner', 'admin', 'member'))
  returning id, last_seq)
insert into chat_messages as m (session_id, seq, user_id, role, content, client_msg_id, reply_to)
select slot.id, slot.last_seq, :uid::integer, 'user'::message_role, '${CONTENT}'::text, null::varchar, null::bigint
  from slot
returning m.id, m.session_id, m.seq, m.user_id, m.role, m.content, m.client_msg_id, m.reply_to,
  to_char(m.created_at at time zone 'UTC', ${ISO}) as created_at,
  to_char(m.edited_at at time zone 'UTC', ${ISO}) as edited_at,
  to_char(m.deleted_at at time zone 'UTC', ${ISO}) as deleted_at;
`

export async function persistedSends(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { settings, log } = context
  const { rooms: roomCounts, connections, windowS } = settings.persistedSends
  const deployment = await createDeployment(settings)
  try {
    const [userId] = (await seedUsers(deployment.pool, 1, 'unused')) as [number]
    const maxRooms = Math.max(...roomCounts)
    const roomIds = await seedRooms(
      deployment.pool,
      Array.from({ length: maxRooms }, () => ({ ownerId: userId, memberIds: [] })),
    )
    const first = roomIds[0] as number
    if (roomIds.some((id, i) => id !== first + i)) throw new Error('room ids are not consecutive')
    const token = await deployment.accessToken(userId)
    const server = await startChild('insurge', {
      core: settings.serverCore,
      env: deployment.env,
      cpuProfileDir: settings.cpuProfileDir,
    })
    const bare = await startChild('bare-chat', { core: settings.serverCore, env: deployment.env })
    const figures: Figures = {}
    const baseline: Figures = {}
    const pgbenchFigures: Figures = {}
    const runs: unknown[] = []
    const pairRatios: Record<string, number | null> = {}
    let bottleneck = false
    try {
      for (const rooms of roomCounts) {
        const loadOf = (port: unknown) => ({
          url: `http://127.0.0.1:${port}`,
          connections,
          durationS: windowS,
          method: 'POST' as const,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ content: CONTENT }),
          path: () => `/api/v1/chat/sessions/${first + Math.floor(Math.random() * rooms)}/messages`,
        })
        const load = loadOf(server.ready.port)
        const bareLoad = loadOf(bare.ready.port)
        await warmUp(load, settings.warmupS)
        await warmUp(bareLoad, settings.warmupS)
        const app: Figures[] = []
        const bench: Figures[] = []
        const bareRuns: Figures[] = []
        for (let i = 0; i < settings.runs; i++) {
          // Each run is a pair, Insurge and the bare server back to back, in turn first and second.
          const [a, c] = await pairInTurn(
            i,
            () => runHttpLoad(load, [server.pid]),
            () => runHttpLoad(bareLoad, [bare.pid]),
          )
          const b = await runPgbench({
            databaseUrl: deployment.env.DATABASE_URL as string,
            script: SEND_SQL,
            clients: connections,
            durationS: windowS,
            variables: { first, rooms, uid: userId },
            core: settings.loadCore,
          })
          log(
            `${rooms} rooms: insurge ${round(a.rps as number)} msg/s p99 ${a.p99_ms} ms (server cpu ${round(a.server_cpu as number)}, load cpu ${round(a.load_cpu as number)}); bare server ${round(c.rps as number)} msg/s p99 ${c.p99_ms} ms (server cpu ${round(c.server_cpu as number)}); pgbench ${round(b.tps)} tps p99 ${round(b.p99_ms)} ms`,
          )
          if (a.non2xx || a.errors) log(`  insurge answered ${a.non2xx} non-2xx and ${a.errors} errors`)
          app.push(a)
          bench.push(b)
          bareRuns.push(c)
          runs.push({ rooms, insurge: a, bare: c, pgbench: b })
        }
        const a = medianFigures(app)
        const b = medianFigures(bench)
        const c = medianFigures(bareRuns)
        pairRatios[`messages_per_s@${rooms}`] = pairedRatio(app, bareRuns, 'rps')
        bottleneck ||= a.load_bottleneck === true
        Object.assign(figures, {
          [`messages_per_s@${rooms}`]: round(a.rps as number),
          [`p50_ms@${rooms}`]: a.p50_ms,
          [`p99_ms@${rooms}`]: a.p99_ms,
          [`server_cpu@${rooms}`]: a.server_cpu,
          [`load_cpu@${rooms}`]: a.load_cpu,
          [`non2xx@${rooms}`]: a.non2xx,
        })
        Object.assign(baseline, {
          [`messages_per_s@${rooms}`]: round(c.rps as number),
          [`p50_ms@${rooms}`]: c.p50_ms,
          [`p99_ms@${rooms}`]: c.p99_ms,
          [`server_cpu@${rooms}`]: c.server_cpu,
        })
        Object.assign(pgbenchFigures, {
          [`messages_per_s@${rooms}`]: round(b.tps as number),
          [`p50_ms@${rooms}`]: round(b.p50_ms as number),
          [`p99_ms@${rooms}`]: round(b.p99_ms as number),
          [`failed@${rooms}`]: b.failed,
        })
      }
    } finally {
      await server.stop()
      await bare.stop()
    }
    const ratio: Record<string, number | null> = {}
    for (const rooms of roomCounts) {
      // The issue's ratio: the median of the runs' ratios (each run a pair, back to back).
      ratio[`messages_per_s@${rooms}`] = pairRatios[`messages_per_s@${rooms}`] ?? null
      ratio[`messages_per_s_of_medians@${rooms}`] = ratioOf(
        figures[`messages_per_s@${rooms}`],
        baseline[`messages_per_s@${rooms}`],
      )
      ratio[`p99_ms@${rooms}`] = ratioOf(figures[`p99_ms@${rooms}`], baseline[`p99_ms@${rooms}`])
      ratio[`messages_per_s_to_pgbench@${rooms}`] = ratioOf(
        figures[`messages_per_s@${rooms}`],
        pgbenchFigures[`messages_per_s@${rooms}`],
      )
    }
    const parts = roomCounts.map(
      (rooms) =>
        `${rooms} room${rooms === 1 ? '' : 's'} ${fmt(figures[`messages_per_s@${rooms}`])} msg/s p99 ${fmt(figures[`p99_ms@${rooms}`])} ms vs the bare server ${fmt(baseline[`messages_per_s@${rooms}`])} (ratio ${fmt(ratio[`messages_per_s@${rooms}`])}), pgbench ${fmt(pgbenchFigures[`messages_per_s@${rooms}`])}`,
    )
    return {
      summary: `${connections} connections; ${parts.join('; ')}${bottleneck ? ' [load generator near 100% CPU]' : ''}`,
      figures,
      baseline,
      pgbench: pgbenchFigures,
      ratio,
      settings: { ...settings.persistedSends, runs: settings.runs, warmup_s: settings.warmupS },
      load_generator_bottleneck: bottleneck,
      notes: [
        `autocannon and pgbench use ${connections} connections; Insurge's pool has 20 PostgreSQL connections, pgbench one per client.`,
        "Each run is a pair, Insurge and the bare server back to back (alternately first); ratio.messages_per_s@N is the median of the pairs' ratios, messages_per_s_of_medians@N the ratio of the medians.",
        `Insurge pinned to core ${settings.serverCore}; autocannon and pgbench to core ${settings.loadCore}; PostgreSQL is not pinned and competes with both.`,
      ],
      runs,
    }
  } finally {
    await deployment.drop()
  }
}
