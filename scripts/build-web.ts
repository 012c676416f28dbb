// Builds the web app (web/ -> web/dist) with Vite when its sources are newer than the build, so that
// `npm start` on a fresh clone serves /app/ with no other step, and a restart does not rebuild.
// `--force` builds whatever the dates say.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'vite'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const WEB = join(ROOT, 'web')
const BUILT = join(WEB, 'dist', 'index.html')
const SOURCES = [
  join(WEB, 'src'),
  join(WEB, 'index.html'),
  join(WEB, 'vite.config.ts'),
  join(ROOT, 'client', 'src'),
]

/** The newest modification time under `path` (0 if it does not exist). */
function newest(path: string): number {
  let stat: ReturnType<typeof statSync>
  try {
    stat = statSync(path)
  } catch {
    return 0
  }
  if (!stat.isDirectory()) return stat.mtimeMs
  let latest = stat.mtimeMs
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)))
  return latest
}

export function webBuildIsStale(): boolean {
  const built = newest(BUILT)
  return built === 0 || SOURCES.some((source) => newest(source) > built)
}

export async function buildWeb({ force = false } = {}): Promise<boolean> {
  if (!force && !webBuildIsStale()) return false
  await build({ root: WEB, configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn' })
  return true
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now()
  if (await buildWeb({ force: process.argv.includes('--force') })) {
    process.stdout.write(`built the web app into web/dist in ${Date.now() - started} ms\n`)
  }
}
