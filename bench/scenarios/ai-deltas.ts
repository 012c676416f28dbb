// The assistant's streamed replies fanned out: one room of N sockets with ai_mode "always", several
// members asking at once, a fake OpenAI-compatible model (a real HTTP server in this process) streaming
// each reply in small pieces as fast as it is read. Insurge coalesces each reply to at most one
// ai_delta frame per 50 ms and sends every frame to every socket. Measured: ai_delta frames delivered
// per second, server CPU per delivered frame, frames per reply, and that every socket got the same
// number of frames.
import WebSocket from 'ws'
import { startFakeOpenAI } from '../../test/helpers/fake-openai.js'
import { createDeployment, seedRooms, seedUsers } from '../bench-database.js'
import { type Child, startChild, withCpu } from '../children.js'
import { type Figures, medianFigures, round, type ScenarioOutcome } from '../report.js'
import type { ScenarioContext } from '../scenario.js'

const UNUSED_HASH = '$2b$04$abcdefghijklmnopqrstuuJ0e9JwKJ2pQ1d6k1n7Jm5cYb1YgkB2e'
const DELTA = Buffer.from('"type":"ai_delta"')
const STORED = Buffer.from('"role":"assistant"')
/** Members who ask at once, one question each: replies streamed concurrently. */
const ASKERS = 8
/** Each reply: this many characters, streamed 2 at a time with 1 ms between pieces (~3 s). */
const REPLY_CHARS = 3_000

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    socket.once('message', () => resolve(socket))
    socket.once('error', reject)
  })
}

export async function aiDeltas(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { settings, log } = context
  const { sockets: count } = settings.aiDeltas
  const fake = await startFakeOpenAI()
  fake.mode = { kind: 'answer', reply: 'x'.repeat(REPLY_CHARS), chunkSize: 2, delayMs: 1 }
  const deployment = await createDeployment(settings, {
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'bench',
    AI_CONCURRENCY: String(ASKERS),
    AI_REPLIES_PER_MINUTE: '10000',
    AI_MAX_REPLY_CHARS: String(REPLY_CHARS * 2),
  })
  let server: Child | undefined
  const all: WebSocket[] = []
  try {
    const [ownerId, ...ids] = await seedUsers(deployment.pool, count, UNUSED_HASH)
    const [roomId] = (await seedRooms(deployment.pool, [{ ownerId: ownerId as number, memberIds: ids }])) as [
      number,
    ]
    await deployment.pool.query(`update chat_sessions set ai_mode = 'always' where id = $1`, [roomId])
    server = await startChild('insurge', {
      core: settings.serverCore,
      env: deployment.env,
      cpuProfileDir: settings.cpuProfileDir,
    })
    const url = (id: number) =>
      deployment
        .accessToken(id)
        .then((t) => `ws://127.0.0.1:${server?.ready.port}/ws?token=${t}&session_id=${roomId}`)
    const userIds = [ownerId as number, ...ids]
    const counts = new Array<number>(userIds.length).fill(0)
    let stored = 0
    for (let i = 0; i < userIds.length; i += 50) {
      const batch = await Promise.all(userIds.slice(i, i + 50).map(async (id) => open(await url(id))))
      batch.forEach((socket, k) => {
        const index = i + k
        socket.on('message', (data: Buffer) => {
          if (data.indexOf(DELTA) >= 0) counts[index] = (counts[index] as number) + 1
          else if (index === 0 && data.indexOf(STORED) >= 0) stored += 1
        })
        socket.on('error', () => {})
        all.push(socket)
      })
    }
    const runs: Figures[] = []
    for (let run = 0; run < settings.runs; run++) {
      counts.fill(0)
      stored = 0
      const { serverCpu, wallS } = await withCpu([server.pid], async () => {
        for (let a = 0; a < ASKERS; a++)
          all[a]?.send(JSON.stringify({ type: 'chat_message', content: `question ${run}.${a}` }))
        const start = performance.now()
        while (stored < ASKERS && performance.now() - start < 60_000)
          await new Promise((resolve) => setTimeout(resolve, 20))
      })
      const delivered = counts.reduce((sum, n) => sum + n, 0)
      const perSocket = counts[0] as number
      const figures: Figures = {
        replies: stored,
        delta_frames_per_reply: round(perSocket / ASKERS),
        delta_deliveries_per_s: round(delivered / wallS),
        server_cpu: round(serverCpu),
        server_us_per_delta_delivery: round(delivered === 0 ? 0 : (serverCpu * wallS * 1e6) / delivered),
        sockets_with_every_frame: counts.filter((n) => n === perSocket).length,
        wall_s: round(wallS),
      }
      log(
        `  ${stored} replies, ${figures.delta_frames_per_reply} frames each, ${figures.delta_deliveries_per_s} deliveries/s, ${figures.server_us_per_delta_delivery} µs CPU each; ${figures.sockets_with_every_frame}/${count} sockets got every frame`,
      )
      runs.push(figures)
    }
    const figures = medianFigures(runs)
    return {
      summary:
        `${ASKERS} replies streamed at once to ${count} sockets: ${figures.delta_deliveries_per_s} ai_delta deliveries/s, ` +
        `${figures.server_us_per_delta_delivery} µs server CPU each, ${figures.delta_frames_per_reply} frames per reply`,
      figures,
      baseline: {},
      ratio: {},
      settings: { sockets: count, askers: ASKERS, reply_chars: REPLY_CHARS, runs: settings.runs },
      load_generator_bottleneck: false,
      notes: [
        'No bare baseline in this run: compare server_us_per_delta_delivery with fanout.json (bare ws: CPU per delivery of a same-size frame).',
        `The fake model streams ${REPLY_CHARS} characters per reply, 2 at a time, 1 ms apart; Insurge sends at most one ai_delta per 50 ms per reply.`,
      ],
      runs,
    }
  } finally {
    for (const socket of all) socket.terminate()
    await server?.stop()
    await deployment.drop()
    await fake.close()
  }
}
