// Liveness plus the state of each dependency, without calling the AI model on every probe.
import { isFullyMigrated } from '../db/migrate.js'
import type { Deps } from '../deps.js'

const PROBE_TIMEOUT_MS = 2000

export type DependencyState = 'ok' | 'unavailable' | 'disabled'

export interface HealthReport {
  status: 'healthy' | 'degraded' | 'unhealthy'
  environment: string
  version: string
  database: DependencyState
  redis: DependencyState
  ai: 'configured' | 'disabled'
}

export async function checkHealth(
  deps: Pick<Deps, 'config' | 'database' | 'redis' | 'version'>,
): Promise<HealthReport> {
  const [database, redis] = await Promise.all([probeDatabase(deps), probeRedis(deps)])
  const aiConfigured = deps.config.OPENAI_API_KEY !== undefined || deps.config.OPENAI_BASE_URL !== undefined
  return {
    // Redis is never the source of truth: without it the service still works, only live fan-out across instances waits.
    status: database !== 'ok' ? 'unhealthy' : redis === 'unavailable' ? 'degraded' : 'healthy',
    environment: deps.config.ENVIRONMENT,
    version: deps.version,
    database,
    redis,
    ai: aiConfigured ? 'configured' : 'disabled',
  }
}

async function probeDatabase(deps: Pick<Deps, 'database'>): Promise<DependencyState> {
  try {
    await deps.database.ping(PROBE_TIMEOUT_MS)
    return 'ok'
  } catch {
    return 'unavailable'
  }
}

async function probeRedis(deps: Pick<Deps, 'redis'>): Promise<DependencyState> {
  if (!deps.redis) return 'disabled'
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      deps.redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('redis ping timed out')), PROBE_TIMEOUT_MS)
      }),
    ])
    return 'ok'
  } catch {
    return 'unavailable'
  } finally {
    clearTimeout(timer)
  }
}

/** Ready to take traffic: the database answers, every migration is applied, and the server is not closing. */
export async function checkReady(
  deps: Pick<Deps, 'database' | 'db'>,
  closing: boolean,
): Promise<{ ready: boolean; detail: string }> {
  if (closing) return { ready: false, detail: 'shutting down' }
  try {
    await deps.database.ping(PROBE_TIMEOUT_MS)
  } catch {
    return { ready: false, detail: 'the database does not answer' }
  }
  if (!(await isFullyMigrated(deps.db))) return { ready: false, detail: 'migrations are not all applied' }
  return { ready: true, detail: 'ready' }
}
