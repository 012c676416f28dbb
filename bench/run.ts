// `npm run bench [-- <scenario>…]`: runs the scenarios one after another, prints one line each and
// writes bench/results/<scenario>.json. This process is the load generator: it pins itself to the load
// core, and every server it starts is pinned to the other.
import { execFileSync } from 'node:child_process'
import { machine, type ScenarioResult, writeResult } from './report.js'
import type { Scenario, ScenarioContext } from './scenario.js'
import { aiDeltas } from './scenarios/ai-deltas.js'
import { fanout } from './scenarios/fanout.js'
import { fanoutRooms } from './scenarios/fanout-rooms.js'
import { history } from './scenarios/history.js'
import { idleSockets } from './scenarios/idle-sockets.js'
import { logins } from './scenarios/logins.js'
import { persistedSends } from './scenarios/persisted-sends.js'
import { reconnectStorm } from './scenarios/reconnect-storm.js'
import { scaleOut } from './scenarios/scale-out.js'
import { sessionList } from './scenarios/session-list.js'
import { loadSettings } from './settings.js'

const scenarios: Record<string, Scenario> = {
  fanout,
  'persisted-sends': persistedSends,
  history,
  logins,
  'idle-sockets': idleSockets,
  'scale-out': scaleOut,
  'session-list': sessionList,
  'reconnect-storm': reconnectStorm,
  'ai-deltas': aiDeltas,
  'fanout-rooms': fanoutRooms,
}

/** A scenario that runs longer than this is stopped with the whole bench (its servers exit with it). */
const SCENARIO_BUDGET_MS = 10 * 60_000

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => a !== '--')
  const unknown = names.filter((n) => !(n in scenarios))
  if (unknown.length > 0) {
    process.stderr.write(
      `Unknown scenario ${unknown.join(', ')}; expected one of ${Object.keys(scenarios).join(', ')}\n`,
    )
    process.exit(2)
  }
  const settings = loadSettings()
  execFileSync('taskset', ['-a', '-p', '-c', String(settings.loadCore), String(process.pid)], {
    stdio: 'ignore',
  })
  const context: ScenarioContext = {
    settings,
    log: (message) => process.stderr.write(`  ${message}\n`),
  }
  if (settings.quick) process.stderr.write('BENCH_QUICK=1: small settings, results are not comparable\n')
  let failed = 0
  for (const name of names.length > 0 ? names : Object.keys(scenarios)) {
    process.stderr.write(`${name}…\n`)
    const started = performance.now()
    const budget = setTimeout(() => {
      process.stderr.write(`${name}: over its budget of ${SCENARIO_BUDGET_MS / 60_000} min, stopping\n`)
      process.exit(1)
    }, SCENARIO_BUDGET_MS)
    try {
      const outcome = await (scenarios[name] as Scenario)(context)
      const result: ScenarioResult = {
        scenario: name,
        date: new Date().toISOString(),
        machine: machine(),
        duration_s: Math.round((performance.now() - started) / 1000),
        ...outcome,
        settings: { quick: settings.quick, ...outcome.settings },
      }
      writeResult(settings.resultsDir, result)
      process.stdout.write(`${name}: ${outcome.summary}\n`)
    } catch (error) {
      failed += 1
      process.stdout.write(`${name}: FAILED ${String((error as Error)?.stack ?? error)}\n`)
    } finally {
      clearTimeout(budget)
    }
  }
  process.exit(failed > 0 ? 1 : 0)
}

await main()
