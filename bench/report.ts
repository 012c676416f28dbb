// What a scenario hands back, and how it becomes one printed line and bench/results/<scenario>.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'

/** Named figures, flat, so the JSON reads like the README table: `deliveries_per_s`, `p99_ms`. */
export type Figures = Record<string, number | string | boolean | null>

export interface ScenarioOutcome {
  /** The line printed for the scenario (without its name). */
  summary: string
  /** What the scenario measured of Insurge. */
  figures: Figures
  /** The same figures of the bare program that does only the one thing, measured in the same run. */
  baseline: Figures
  /** The headline ratio (Insurge / baseline) and any others, each named by what it divides. */
  ratio: Record<string, number | null>
  peer?: Figures
  /** Further reference figures (e.g. a hello route: the floor of any HTTP work). */
  hello?: Figures
  /** PostgreSQL alone running the same statement. */
  pgbench?: Figures
  settings: Record<string, unknown>
  /** True when the load generator's CPU was near a full core in any measured run. */
  load_generator_bottleneck: boolean
  notes: string[]
  /** Every run's raw figures, for whoever wants to see the spread behind the medians. */
  runs: unknown[]
}

export interface ScenarioResult extends ScenarioOutcome {
  scenario: string
  date: string
  machine: { cores: number; cpu: string; memory_gib: number; node: string; platform: string }
  duration_s: number
}

export function machine(): ScenarioResult['machine'] {
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  }
}

export function writeResult(directory: string, result: ScenarioResult): string {
  mkdirSync(directory, { recursive: true })
  const file = `${directory}/${result.scenario}.json`
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
  return file
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** The median of each numeric figure across runs (booleans: true if any run was true). */
export function medianFigures(runs: readonly Figures[]): Figures {
  const out: Figures = {}
  for (const key of Object.keys(runs[0] ?? {})) {
    const values = runs.map((r) => r[key])
    if (values.every((v) => typeof v === 'number')) out[key] = round(median(values as number[]))
    else if (values.every((v) => typeof v === 'boolean')) out[key] = values.some(Boolean)
    else out[key] = values[0] ?? null
  }
  return out
}

export function ratioOf(a: number | string | boolean | null | undefined, b: typeof a): number | null {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0 || !Number.isFinite(a / b)) return null
  return round(a / b, 3)
}

/**
 * Run `run` of a pair: `a` and `b` back to back, `a` first in even runs and `b` first in odd ones, so
 * that neither side always has the machine as the other left it. Results in the order [a, b].
 */
export async function pairInTurn<A, B>(
  run: number,
  a: () => Promise<A>,
  b: () => Promise<B>,
): Promise<[A, B]> {
  if (run % 2 === 0) {
    const first = await a()
    return [first, await b()]
  }
  const first = await b()
  return [await a(), first]
}

/**
 * The median of per-run ratios a[i] / b[i] of one figure: each pair ran back to back, so a machine whose
 * speed drifts between runs (a shared 2-core host) moves both sides of a pair alike.
 */
export function pairedRatio(a: readonly Figures[], b: readonly Figures[], key: string): number | null {
  const ratios = a.map((run, i) => ratioOf(run[key], b[i]?.[key])).filter((r): r is number => r !== null)
  return ratios.length === 0 ? null : round(median(ratios))
}

/** Milliseconds of the server's CPU per request: its core's busy share over the requests per second. */
export function cpuMsPerRequest(figures: Figures): number | null {
  const { server_cpu: cpu, rps } = figures
  return typeof cpu === 'number' && typeof rps === 'number' && rps > 0 ? round((cpu / rps) * 1000) : null
}

/** Three significant digits is all a noisy 2-core machine can tell apart. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value
  const magnitude = Math.floor(Math.log10(Math.abs(value)))
  const factor = 10 ** Math.max(0, digits - 1 - magnitude)
  return Math.round(value * factor) / factor
}

export const fmt = (value: number | string | boolean | null | undefined): string =>
  typeof value === 'number' ? value.toLocaleString('en-US', { maximumFractionDigits: 2 }) : String(value)
