// Fan-out over many rooms: 5,000 sockets in 50 rooms of 100 (the issue's "5,000 sockets in 50 rooms"),
// one sender per room, messages sent round-robin over the rooms at fixed total rates. Each message is
// stored, published on its room's Redis channel and written to that room's 100 sockets. Measured like
// `fanout`: deliveries/s, send->deliver latency, server CPU per delivery (compare with fanout.json's
// bare `ws` figure, which has no rooms to route).
import { type BenchDeployment, createDeployment, seedRooms, seedUsers } from '../bench-database.js'
import { type Child, startChild } from '../children.js'
import { connectReceivers, connectSender, runFanoutWindow, type Sender } from '../load/fanout-load.js'
import { type Figures, medianFigures, type ScenarioOutcome } from '../report.js'
import type { ScenarioContext } from '../scenario.js'

const UNUSED_HASH = '$2b$04$abcdefghijklmnopqrstuuJ0e9JwKJ2pQ1d6k1n7Jm5cYb1YgkB2e'

export async function fanoutRooms(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { settings, log } = context
  const { rooms, perRoom, rates, windowS } = settings.fanoutRooms
  const deployment: BenchDeployment = await createDeployment(settings)
  let server: Child | undefined
  const senders: Sender[] = []
  let closeReceivers = () => {}
  try {
    const users = await seedUsers(deployment.pool, rooms * (perRoom + 1), UNUSED_HASH)
    const groups = Array.from({ length: rooms }, (_, r) =>
      users.slice(r * (perRoom + 1), (r + 1) * (perRoom + 1)),
    )
    const roomIds = await seedRooms(
      deployment.pool,
      groups.map(([owner, ...members]) => ({ ownerId: owner as number, memberIds: members })),
    )
    server = await startChild('insurge', {
      core: settings.serverCore,
      env: deployment.env,
      cpuProfileDir: settings.cpuProfileDir,
    })
    const url = async (userId: number, roomId: number) =>
      `ws://127.0.0.1:${server?.ready.port}/ws?token=${await deployment.accessToken(userId)}&session_id=${roomId}`
    const receiverUrls: string[] = []
    for (const [r, [, ...members]] of groups.entries())
      for (const member of members) receiverUrls.push(await url(member, roomIds[r] as number))
    const t0 = performance.now()
    const receivers = await connectReceivers(receiverUrls, 'insurge')
    closeReceivers = () => receivers.close()
    for (const [r, [owner]] of groups.entries())
      senders.push(
        await connectSender(
          await url(owner as number, roomIds[r] as number),
          'insurge',
          roomIds[r] as number,
        ),
      )
    const connectS = (performance.now() - t0) / 1000
    await receivers.settle(1000, 120_000)
    log(`  ${receivers.sockets.length} sockets in ${rooms} rooms connected in ${connectS.toFixed(1)} s`)
    let next = 0
    const roundRobin: Sender = {
      send: (run, us) => (senders[next++ % senders.length] as Sender).send(run, us),
      close: () => {},
    }
    let run = 1_000
    await runFanoutWindow(
      receivers,
      roundRobin,
      { rate: rates[0] ?? 20, durationS: settings.warmupS, run: run++, perMessage: perRoom },
      [server.pid],
    )
    const figures: Figures = { connect_s: Math.round(connectS * 10) / 10 }
    const runs: Figures[] = []
    for (const rate of rates) {
      const windows: Figures[] = []
      for (let i = 0; i < settings.runs; i++) {
        const w = await runFanoutWindow(
          receivers,
          roundRobin,
          { rate, durationS: windowS, run: run++, perMessage: perRoom },
          [server.pid],
        )
        log(
          `  @${rate}/s: ${w.deliveries_per_s} deliveries/s, p50 ${w.p50_ms} ms, p99 ${w.p99_ms} ms, ${w.server_us_per_delivery} µs CPU each, share ${w.delivered_share}`,
        )
        windows.push(w)
        runs.push({ rate, ...w })
      }
      for (const [key, value] of Object.entries(medianFigures(windows)))
        if (key !== 'sends_per_s') figures[`${key}@${rate}`] = value
    }
    const high = rates[rates.length - 1] as number
    return {
      summary:
        `${rooms * perRoom} sockets in ${rooms} rooms, ${high} sends/s: ${figures[`deliveries_per_s@${high}`]} deliveries/s ` +
        `(share ${figures[`delivered_share@${high}`]}), p99 ${figures[`p99_ms@${high}`]} ms, ${figures[`server_us_per_delivery@${high}`]} µs CPU per delivery`,
      figures,
      baseline: {},
      ratio: {},
      settings: { ...settings.fanoutRooms, runs: settings.runs, warmup_s: settings.warmupS },
      load_generator_bottleneck: runs.some((r) => r.load_bottleneck === true),
      notes: [
        'No bare baseline in this run: compare server_us_per_delivery with fanout.json (bare ws, one room).',
        `One sender per room; sends go round-robin over the rooms, so every room gets rate/${rooms} messages per second.`,
      ],
      runs,
    }
  } finally {
    for (const sender of senders) sender.close()
    closeReceivers()
    await server?.stop()
    await deployment.drop()
  }
}
