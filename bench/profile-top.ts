// `tsx bench/profile-top.ts <file.cpuprofile> [n]`: the functions with the most self time in a V8 CPU
// profile (from a server child run with BENCH_CPU_PROF=<dir>), and self time by package.
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const [file, count = '25'] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: tsx bench/profile-top.ts <file.cpuprofile> [n]\n')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map<number, number>()
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
})
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)

/** Where a function lives: `node_modules/<package>`, `src/…`, `node:…`, or V8's own entries. */
function origin(url: string): string {
  if (!url) return '(v8/native)'
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (nm?.[1]) return nm[1]
  if (url.startsWith('node:')) return 'node:internal'
  const src = /\/(src|bench)\/(.*)$/.exec(url)
  return src ? `${src[1]}/${src[2]}` : url
}

const byFunction = new Map<string, number>()
const byOrigin = new Map<string, number>()
for (const [id, us] of selfUs) {
  const node = byId.get(id)
  if (!node) continue
  const { functionName, url, lineNumber } = node.callFrame
  const key = `${functionName || '(anonymous)'}  ${origin(url)}${url ? `:${lineNumber + 1}` : ''}`
  byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  const where = origin(url)
  byOrigin.set(where, (byOrigin.get(where) ?? 0) + us)
}

const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`
const top = (map: Map<string, number>, n: number) =>
  [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => `${pct(us)}  ${key}`)
    .join('\n')

process.stdout.write(`total ${(total / 1e6).toFixed(1)} s sampled\n\nself time by function:\n`)
process.stdout.write(
  `${top(byFunction, Number(count))}\n\nself time by package or file:\n${top(byOrigin, 15)}\n`,
)
