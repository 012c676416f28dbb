// Scale-out: the fan-out scenario on two Insurge instances sharing one PostgreSQL and one Redis (sockets
// split evenly, the sender on the first), as a ratio to one instance holding every socket. Both
// instances are pinned to the server core: the ratio is the cost of the cross-instance path, not a
// gain from more CPU, which this two-core machine cannot give.
import { fmt, ratioOf, type ScenarioOutcome } from '../report.js'
import type { ScenarioContext } from '../scenario.js'
import { byRateFigures } from './fanout.js'
import { measureFanout, startInsurgeRoom } from './fanout-targets.js'

export async function scaleOut(context: ScenarioContext): Promise<ScenarioOutcome> {
  const { sockets, rates } = context.settings.fanout
  const measureInstances = async (instances: number) => {
    const target = await startInsurgeRoom(context, sockets, instances)
    try {
      return await measureFanout(context, target)
    } finally {
      await target.close()
    }
  }
  const one = await measureInstances(1)
  const two = await measureInstances(2)
  const figures = byRateFigures(two)
  const baseline = byRateFigures(one)
  const ratio: Record<string, number | null> = {}
  for (const rate of rates) {
    for (const key of ['deliveries_per_s', 'p50_ms', 'p99_ms', 'server_us_per_delivery']) {
      ratio[`${key}@${rate}`] = ratioOf(figures[`${key}@${rate}`], baseline[`${key}@${rate}`])
    }
  }
  const low = rates[0] as number
  const high = rates[rates.length - 1] as number
  const bottleneck = [figures, baseline].some((f) =>
    rates.some((rate) => f[`load_bottleneck@${rate}`] === true),
  )
  return {
    summary:
      `${sockets} sockets; at ${high} sends/s two instances ${fmt(figures[`deliveries_per_s@${high}`])} deliveries/s ` +
      `vs one ${fmt(baseline[`deliveries_per_s@${high}`])} (ratio ${fmt(ratio[`deliveries_per_s@${high}`])}), ` +
      `server CPU per delivery ${fmt(figures[`server_us_per_delivery@${high}`])} vs ` +
      `${fmt(baseline[`server_us_per_delivery@${high}`])} µs (ratio ${fmt(ratio[`server_us_per_delivery@${high}`])}); ` +
      `at ${low}/s p99 ${fmt(figures[`p99_ms@${low}`])} vs ${fmt(baseline[`p99_ms@${low}`])} ms ` +
      `(ratio ${fmt(ratio[`p99_ms@${low}`])})` +
      (bottleneck ? ' [load generator near 100% CPU: it limited some windows]' : ''),
    figures,
    baseline,
    ratio,
    settings: {
      ...context.settings.fanout,
      instances: 2,
      runs: context.settings.runs,
      warmup_s: context.settings.warmupS,
    },
    load_generator_bottleneck: bottleneck,
    notes: [
      'figures: two instances on one Redis and one PostgreSQL; baseline: one instance (also on Redis) with every socket.',
      `Both instances share core ${context.settings.serverCore} (server_cpu is their sum): a two-core machine has no third core to give the second instance, so this measures what the Redis hop and the split cost, not added capacity.`,
    ],
    runs: [...one.runs, ...two.runs],
  }
}
