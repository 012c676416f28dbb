// One more instance of a test deployment, in a process of its own, so that a test can SIGKILL it as a
// crash. Prints `{"url": …}` once it listens. INSTANCE_ENV: JSON environment overrides (the deployment's
// DATABASE_URL, REDIS_URL, SECRET_KEY, REDIS_KEY_PREFIX); INSTANCE_LIMITS: JSON RealtimeLimits overrides.
import { Redis } from 'ioredis'
import { connectDatabase } from '../../src/db/connect.js'
import { startTestApp } from './app.js'

const api = await startTestApp({
  env: JSON.parse(process.env.INSTANCE_ENV ?? '{}'),
  realtimeLimits: JSON.parse(process.env.INSTANCE_LIMITS ?? '{}'),
  // The deployment's database, already migrated by its first instance: nothing to create or drop here.
  resources: async (config) => {
    const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined
    redis?.on('error', () => {})
    return { config, database: await connectDatabase(config.DATABASE_URL), redis }
  },
})
process.stdout.write(`${JSON.stringify({ url: api.url })}\n`)
