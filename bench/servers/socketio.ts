// The fan-out peer: Socket.IO 4 with the Redis adapter. Every socket joins one room on connection; a
// `chat_message` event from any socket is emitted to the whole room (the adapter encodes it once).
import { createServer } from 'node:http'
import { createAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import { Server } from 'socket.io'
import { memoryHandlers, serveCommands } from './commands.js'

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const pub = new Redis(redisUrl)
const sub = pub.duplicate()
const http = createServer()
const io = new Server(http, {
  transports: ['websocket'],
  perMessageDeflate: false,
  adapter: createAdapter(pub, sub, { key: process.env.REDIS_KEY_PREFIX ?? 'bench-socket.io' }),
})
io.on('connection', (socket) => {
  socket.join('room')
  socket.on('chat_message', (frame: unknown) => {
    io.to('room').emit('chat_message', frame)
  })
})
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()))
const address = http.address()
if (!address || typeof address === 'string') throw new Error('not listening on a TCP port')

serveCommands(
  { port: address.port },
  {
    ...memoryHandlers(),
    sockets: () => ({ count: io.engine.clientsCount }),
    close: async () => {
      await io.close()
      pub.disconnect()
      sub.disconnect()
    },
  },
)
