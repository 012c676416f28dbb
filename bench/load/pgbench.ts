// pgbench with a custom script, pinned to the load core: transactions per second, and latency
// percentiles from its per-transaction log.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { median } from '../report.js'

const run = promisify(execFile)

export interface PgbenchRun {
  databaseUrl: string
  script: string
  clients: number
  durationS: number
  variables: Record<string, number>
  core: number
}

export async function runPgbench(
  options: PgbenchRun,
): Promise<{ tps: number; p50_ms: number; p99_ms: number; failed: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'insurge-pgbench-'))
  try {
    const scriptFile = path.join(dir, 'script.sql')
    writeFileSync(scriptFile, options.script)
    const args = [
      '-c',
      String(options.core),
      'pgbench',
      '-n',
      '-M',
      'prepared',
      '-c',
      String(options.clients),
      '-j',
      '1',
      '-T',
      String(options.durationS),
      '-f',
      scriptFile,
      '-l',
      `--log-prefix=${path.join(dir, 'tx')}`,
      ...Object.entries(options.variables).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
      options.databaseUrl,
    ]
    const { stdout } = await run('taskset', args, { timeout: (options.durationS + 60) * 1000, cwd: dir })
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN)
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0)
    const latencies: number[] = []
    for (const file of readdirSync(dir).filter((f) => f.startsWith('tx'))) {
      for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
        const us = line.split(' ')[2]
        if (us) latencies.push(Number(us))
      }
    }
    latencies.sort((a, b) => a - b)
    const at = (q: number) =>
      (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) / 1000
    return { tps, p50_ms: median(latencies) / 1000, p99_ms: at(0.99), failed }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
