// Process entry: config -> database (migrated) -> app -> listen; graceful shutdown on SIGTERM/SIGINT.
import closeWithGrace from 'close-with-grace'
import { Redis } from 'ioredis'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'
import { connectDatabase } from './db/connect.js'
import { migrateUp } from './db/migrate.js'

async function main(): Promise<void> {
  const config = loadConfig()
  const database = await connectDatabase(config.DATABASE_URL)
  await migrateUp(database)
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined
  const app = await buildApp({ config, database, redis })
  redis?.on('error', (error) => app.log.warn({ err: error }, 'redis connection error'))

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error')
    else app.log.info({ signal }, 'shutting down')
    await app.close()
  })

  await app.listen({ host: config.HOST, port: config.PORT })
}

main().catch((error: unknown) => {
  // A configuration or start-up failure is one line that names what is wrong, not a stack trace.
  const message =
    error instanceof ConfigError
      ? `Invalid configuration: ${error.message}`
      : `Failed to start: ${String((error as Error)?.message ?? error)}`
  process.stderr.write(`${message}\n`)
  process.exit(1)
})
