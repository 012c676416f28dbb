// The fan-out and idle-socket baseline: a bare `ws` server. A text frame from any socket is sent, as the
// same Buffer it arrived in, to every socket; each socket is greeted once so clients know it is open.
import { WebSocketServer } from 'ws'
import { memoryHandlers, serveCommands } from './commands.js'

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
await new Promise<void>((resolve) => server.once('listening', () => resolve()))
const greeting = Buffer.from('{"type":"system_message","content":"Connected"}')

server.on('connection', (socket) => {
  socket.on('message', (data: Buffer) => {
    for (const client of server.clients) client.send(data, { binary: false })
  })
  socket.send(greeting, { binary: false })
})

const address = server.address()
if (!address || typeof address === 'string') throw new Error('not listening on a TCP port')
serveCommands(
  { port: address.port },
  {
    ...memoryHandlers(),
    sockets: () => ({ count: server.clients.size }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  },
)
