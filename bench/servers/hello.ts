// The history baseline: a bare Fastify 5 route answering a small JSON object, nothing else registered.
import Fastify from 'fastify'
import { serveCommands } from './commands.js'

const app = Fastify({ logger: false })
app.get('/hello', async () => ({ hello: 'world' }))
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
if (!address || typeof address === 'string') throw new Error('not listening on a TCP port')
serveCommands({ port: address.port }, { close: () => app.close() })
