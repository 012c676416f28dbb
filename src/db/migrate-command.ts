// `npm run migrate` applies pending migrations; `npm run migrate:down` rolls back the newest one.
import { ConfigError, loadConfig } from '../config.js'
import { connectDatabase } from './connect.js'
import { migrateDown, migrateUp } from './migrate.js'

async function main(direction: string | undefined): Promise<void> {
  const config = loadConfig()
  const database = await connectDatabase(config.DATABASE_URL)
  try {
    if (direction === 'down') {
      const tag = await migrateDown(database)
      process.stdout.write(tag ? `rolled back ${tag}\n` : 'no migration to roll back\n')
    } else {
      const applied = await migrateUp(database)
      process.stdout.write(`applied ${applied} migration(s)\n`)
    }
  } finally {
    await database.close()
  }
}

main(process.argv[2]).catch((error: unknown) => {
  const message =
    error instanceof ConfigError
      ? `Invalid configuration: ${error.message}`
      : String((error as Error)?.message ?? error)
  process.stderr.write(`${message}\n`)
  process.exit(1)
})
