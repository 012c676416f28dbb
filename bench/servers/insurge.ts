// Insurge itself, started as server.ts does (config -> database -> Redis -> buildApp -> listen), on
// 127.0.0.1 and a free port, with the event-loop delay and memory reported to the bench over IPC.
import { Redis } from 'ioredis'
import { buildApp } from '../../src/app.js'
import { parseConfig } from '../../src/config.js'
import { connectDatabase } from '../../src/db/connect.js'
import { lagHandlers, memoryHandlers, serveCommands } from './commands.js'

const config = parseConfig(process.env)
const database = await connectDatabase(config.DATABASE_URL)
const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined
const app = await buildApp({ config, database, redis })
redis?.on('error', (error) => app.log.warn({ err: error }, 'redis connection error'))
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (!address || typeof address === 'string') throw new Error('not listening on a TCP port')

serveCommands(
  { port: address.port },
  {
    ...memoryHandlers(),
    ...lagHandlers(),
    // The app's ws server does not track its clients (realtime.ts); every open connection is a socket here.
    sockets: () =>
      new Promise((resolve, reject) =>
        app.server.getConnections((error, count) => (error ? reject(error) : resolve({ count }))),
      ),
    close: () => app.close(),
  },
)
