// Fan-out: one room of N sockets, messages sent over the WebSocket at fixed rates; deliveries/s and
// send->deliver latency. Baseline: a bare `ws` server sending one Buffer to the same sockets. Peer:
// Socket.IO with the Redis adapter. Insurge runs as in production: PostgreSQL stores each message
// before it goes out, Redis carries it to the sockets.
import { type Figures, fmt, ratioOf, type ScenarioOutcome } from '../report.js'
import type { ScenarioContext } from '../scenario.js'
import {
  type FanoutMeasurement,
  type FanoutTarget,
  measureFanout,
  startBareWs,
  startInsurgeRoom,
  startSocketIo,
} from './fanout-targets.js'

async function measure(
  context: ScenarioContext,
  start: () => Promise<FanoutTarget>,
): Promise<FanoutMeasurement> {
  const target = await start()
  try {
    return await measureFanout(context, target)
  } finally {
    await target.close()
  }
}

/** Figures flattened per rate: `deliveries_per_s@20`, `p99_ms@20`, … */
export function byRateFigures(measurement: FanoutMeasurement): Figures {
  const out: Figures = { connect_s: Math.round(measurement.connectS * 10) / 10 }
  for (const [rate, figures] of Object.entries(measurement.byRate)) {
    for (const [key, value] of Object.entries(figures)) {
      if (key !== 'sends_per_s') out[`${key}@${rate}`] = value
    }
  }
  return out
}

export async function fanout(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { sockets, rates } = context.settings.fanout
  const bare = await measure(context, () => startBareWs(context, sockets))
  const insurge = await measure(context, () => startInsurgeRoom(context, sockets, 1))
  const peer = await measure(context, () => startSocketIo(context, sockets))
  const figures = byRateFigures(insurge)
  const baseline = byRateFigures(bare)
  const peerFigures = byRateFigures(peer)
  const low = rates[0] as number
  const high = rates[rates.length - 1] as number
  const ratio: Record<string, number | null> = {
    // Capacity: bare ws CPU per delivery over Insurge's (1 = as cheap as the bare server).
    [`capacity@${high}`]: ratioOf(
      baseline[`server_us_per_delivery@${high}`],
      figures[`server_us_per_delivery@${high}`],
    ),
    [`peer_capacity@${high}`]: ratioOf(
      baseline[`server_us_per_delivery@${high}`],
      peerFigures[`server_us_per_delivery@${high}`],
    ),
  }
  for (const rate of rates) {
    ratio[`deliveries_per_s@${rate}`] = ratioOf(
      figures[`deliveries_per_s@${rate}`],
      baseline[`deliveries_per_s@${rate}`],
    )
    ratio[`p50_ms@${rate}`] = ratioOf(figures[`p50_ms@${rate}`], baseline[`p50_ms@${rate}`])
    ratio[`p99_ms@${rate}`] = ratioOf(figures[`p99_ms@${rate}`], baseline[`p99_ms@${rate}`])
    ratio[`peer_deliveries_per_s@${rate}`] = ratioOf(
      peerFigures[`deliveries_per_s@${rate}`],
      baseline[`deliveries_per_s@${rate}`],
    )
    ratio[`peer_p99_ms@${rate}`] = ratioOf(peerFigures[`p99_ms@${rate}`], baseline[`p99_ms@${rate}`])
  }
  const bottleneck = [figures, baseline, peerFigures].some((f) =>
    rates.some((rate) => f[`load_bottleneck@${rate}`] === true),
  )
  const summary =
    `${sockets} sockets; at ${high} sends/s insurge ${fmt(figures[`deliveries_per_s@${high}`])} deliveries/s ` +
    `(${fmt(figures[`server_us_per_delivery@${high}`])} µs server CPU each) vs bare ws ` +
    `${fmt(baseline[`deliveries_per_s@${high}`])} (${fmt(baseline[`server_us_per_delivery@${high}`])} µs): ` +
    `capacity ratio ${fmt(ratio[`capacity@${high}`])}; socket.io ${fmt(peerFigures[`deliveries_per_s@${high}`])} ` +
    `(${fmt(peerFigures[`server_us_per_delivery@${high}`])} µs); at ${low}/s p50/p99 insurge ` +
    `${fmt(figures[`p50_ms@${low}`])}/${fmt(figures[`p99_ms@${low}`])} ms, bare ` +
    `${fmt(baseline[`p50_ms@${low}`])}/${fmt(baseline[`p99_ms@${low}`])} ms, socket.io ` +
    `${fmt(peerFigures[`p50_ms@${low}`])}/${fmt(peerFigures[`p99_ms@${low}`])} ms` +
    (bottleneck ? ' [load generator near 100% CPU: it limited some windows]' : '')
  return {
    summary,
    figures,
    baseline,
    peer: { name: 'socket.io 4 + @socket.io/redis-adapter', ...peerFigures },
    ratio,
    settings: { ...context.settings.fanout, runs: context.settings.runs, warmup_s: context.settings.warmupS },
    load_generator_bottleneck: bottleneck,
    notes: [
      'Insurge: each message is sent as a chat_message WebSocket frame, stored in PostgreSQL (seq allocation), published on Redis and fanned out; the bare ws server and Socket.IO only relay the frame.',
      'The sender is one extra socket in the room; it is not counted among the receivers.',
      "capacity = bare ws server CPU per delivery / Insurge's (or the peer's): the share of the bare server's fan-out rate that one core gives it. Used because one load-generator core cannot saturate a bare ws server: a client costs about as much per delivery as the server.",
      `Server pinned to core ${context.settings.serverCore}, load generator to core ${context.settings.loadCore}; PostgreSQL and Redis are not pinned.`,
    ],
    runs: [...bare.runs, ...insurge.runs, ...peer.runs],
  }
}
