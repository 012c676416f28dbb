// Reconnect storm: N clients that were away come back at once, each resuming the room with after_seq
// (DESIGN section 6), while the room keeps talking. Measured: the time until every client is live
// (has every message up to the newest one sent), and that nothing was missed or repeated: each client
// must hold every seq after its own after_seq exactly once, in order. A server restart or a network
// blip does this to every client of an instance at the same moment.
import WebSocket from 'ws'
import { createDeployment, seedMessages, seedRooms, seedUsers } from '../bench-database.js'
import { type Child, startChild, withCpu } from '../children.js'
import { type Figures, medianFigures, round, type ScenarioOutcome } from '../report.js'
import type { ScenarioContext } from '../scenario.js'

const UNUSED_HASH = '$2b$04$abcdefghijklmnopqrstuuJ0e9JwKJ2pQ1d6k1n7Jm5cYb1YgkB2e'
/** Messages sent live per second while the clients come back. */
const LIVE_RATE = 20

interface Resumer {
  afterSeq: number
  /** Closed by the server after its greeting (dropped, e.g. as a reader its room outran). */
  dropped?: boolean
  /** Every seq received, in arrival order. */
  seqs: number[]
  socket?: WebSocket
}

function resume(url: string, client: Resumer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url}&after_seq=${client.afterSeq}`, { perMessageDeflate: false })
    client.socket = socket
    const timer = setTimeout(() => reject(new Error('no greeting')), timeoutMs)
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; seq?: number }
      if (frame.type === 'system_message') {
        clearTimeout(timer)
        resolve()
      } else if (frame.type === 'chat_message' && frame.seq !== undefined) client.seqs.push(frame.seq)
    })
    socket.on('error', () => {})
    socket.once('close', () => {
      clearTimeout(timer)
      client.dropped = true
      reject(new Error('closed before the greeting'))
    })
  })
}

/** Resolves when every client holds every seq up to `newest`, or after `maxMs`. */
async function allLive(clients: Resumer[], newest: () => number, maxMs: number): Promise<boolean> {
  const start = performance.now()
  for (;;) {
    const target = newest()
    if (clients.every((c) => c.seqs.length > 0 && (c.seqs.at(-1) as number) >= target)) return true
    if (performance.now() - start > maxMs) return false
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function storm(
  context: ScenarioContext,
  server: Child,
  url: string,
  tokens: string[],
  sender: { send(): void; newest(): number },
  missed: number,
): Promise<Figures> {
  const clients: Resumer[] = tokens.map(() => ({ afterSeq: sender.newest() - missed, seqs: [] }))
  const live = setInterval(() => sender.send(), 1000 / LIVE_RATE)
  let liveS = 0
  let reached = false
  const { serverCpu } = await withCpu([server.pid], async () => {
    const t0 = performance.now()
    await Promise.all(clients.map((c, i) => resume(`${url}&token=${tokens[i]}`, c, 60_000)))
    reached = await allLive(clients, sender.newest, 60_000)
    liveS = (performance.now() - t0) / 1000
  })
  clearInterval(live)
  // What every client must hold: each seq after its after_seq up to the newest sent, once, in order,
  // once the last acks are in and their deliveries have had time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 500))
  await allLive(clients, sender.newest, 10_000)
  const newest = sender.newest()
  let missing = 0
  let duplicates = 0
  let outOfOrder = 0
  let dropped = 0
  for (const client of clients) {
    const seen = new Set<number>()
    let previous = client.afterSeq
    for (const seq of client.seqs) {
      if (seen.has(seq)) duplicates += 1
      else if (seq < previous) outOfOrder += 1
      seen.add(seq)
      previous = Math.max(previous, seq)
    }
    for (let seq = client.afterSeq + 1; seq <= newest; seq++) {
      if (!seen.has(seq)) missing += 1
    }
    if (client.dropped) dropped += 1
    client.socket?.removeAllListeners('close')
    client.socket?.terminate()
  }
  context.log(
    `  ${clients.length} clients, ${missed} missed each: all live in ${round(liveS)} s (server cpu ${round(serverCpu)}); missing ${missing}, duplicates ${duplicates}, out of order ${outOfOrder}, dropped by the server ${dropped}`,
  )
  return {
    clients: clients.length,
    missed_each: missed,
    all_live_s: round(liveS),
    all_live: reached,
    server_cpu: round(serverCpu),
    missing,
    duplicates,
    out_of_order: outOfOrder,
    dropped,
  }
}

export async function reconnectStorm(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { settings, log } = context
  const { clients: count, history, missed } = settings.reconnectStorm
  const deployment = await createDeployment(settings)
  let server: Child | undefined
  try {
    const [senderId, ...ids] = await seedUsers(deployment.pool, count + 1, UNUSED_HASH)
    const [roomId] = (await seedRooms(deployment.pool, [
      { ownerId: senderId as number, memberIds: ids },
    ])) as [number]
    await seedMessages(deployment.pool, roomId, history, [senderId as number])
    await deployment.pool.query('analyze')
    server = await startChild('insurge', {
      core: settings.serverCore,
      env: deployment.env,
      cpuProfileDir: settings.cpuProfileDir,
    })
    const url = `ws://127.0.0.1:${server.ready.port}/ws?session_id=${roomId}`
    const tokens = await Promise.all(ids.map((id) => deployment.accessToken(id)))
    // The live sender: its acks say which seq each message took.
    const senderSocket = new WebSocket(`${url}&token=${await deployment.accessToken(senderId as number)}`)
    let newest = history
    senderSocket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; seq?: number }
      if (frame.type === 'ack' && frame.seq !== undefined) newest = Math.max(newest, frame.seq)
    })
    await new Promise((resolve, reject) => {
      senderSocket.once('open', resolve)
      senderSocket.once('error', reject)
    })
    const sender = {
      send: () => senderSocket.send(JSON.stringify({ type: 'chat_message', content: 'still talking' })),
      newest: () => newest,
    }
    const runs: Figures[] = []
    for (let i = 0; i < settings.runs; i++) {
      runs.push(await storm(context, server, url, tokens, sender, missed))
    }
    senderSocket.terminate()
    const figures = medianFigures(runs)
    const lost = runs.some((r) => r.missing !== 0 || r.duplicates !== 0 || r.out_of_order !== 0)
    if (lost) log('  a client missed, repeated or reordered a message: see runs')
    return {
      summary:
        `${count} clients resuming ${missed} messages each at once, ${LIVE_RATE} live sends/s: all live in ` +
        `${figures.all_live_s} s; ${lost ? 'MESSAGES MISSED OR REPEATED' : 'nothing missed, repeated or reordered'}`,
      figures,
      baseline: {},
      ratio: {},
      settings: { ...settings.reconnectStorm, live_sends_per_s: LIVE_RATE, runs: settings.runs },
      load_generator_bottleneck: false,
      notes: [
        'No bare baseline: the figure is the time until every client is live, and the check that each holds every message once, in order.',
        `One room of ${count + 1} members and ${history} stored messages; each run resumes every client from ${missed} messages back, while one member sends ${LIVE_RATE} messages/s over its socket.`,
      ],
      runs,
    }
  } finally {
    await server?.stop()
    await deployment.drop()
  }
}
