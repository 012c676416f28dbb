// The bare server: Insurge's history read and send with nothing around them. node:http, pg with named
// prepared statements (the same SQL text as Insurge's, taken from src/chat/message-queries.ts at start),
// the same JWT checks done with node:crypto, the same user read, the same JSON, and (for a send) the same
// Redis PUBLISH of the frame. What Insurge spends beyond this is the framework, validation and its own
// code: the issue 14 ratios divide by this server's figures.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { eq, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { Redis } from 'ioredis'
import pg from 'pg'
import { statementTexts } from '../../src/chat/message-queries.js'
import { users } from '../../src/db/schema.js'
import { lagHandlers, memoryHandlers, serveCommands } from './commands.js'

const env = process.env
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 20 })
const redis = env.REDIS_URL ? new Redis(env.REDIS_URL) : undefined
const prefix = env.REDIS_KEY_PREFIX ?? 'insurge'
const key = Buffer.from(env.SECRET_KEY ?? '', 'utf8')
const PAGE = 50
const texts = statementTexts(drizzle.mock(), PAGE)
// Insurge's user read (src/auth/actor.ts), the same text.
const USER = drizzle
  .mock()
  .select()
  .from(users)
  .where(eq(users.id, sql.placeholder('id')))
  .limit(1)
  .toSQL()
const MESSAGE_KEYS = [
  'id',
  'session_id',
  'seq',
  'user_id',
  'username',
  'role',
  'content',
  'client_msg_id',
  'reply_to',
  'created_at',
  'edited_at',
  'deleted_at',
  'reactions',
] as const
const NUMERIC = new Set(['id', 'session_id', 'seq', 'user_id', 'reply_to'])

function toMessage(row: unknown[]): Record<string, unknown> {
  const message: Record<string, unknown> = {}
  MESSAGE_KEYS.forEach((name, i) => {
    const value = row[i]
    message[name] = NUMERIC.has(name) && value !== null ? Number(value) : value
  })
  return message
}

/** The checks of src/auth/tokens.ts: signature, algorithm, type, issuer, audience, expiry, subject. */
function verifyAccess(header: string | undefined): { sub: number; iat: number } | undefined {
  if (!header?.startsWith('Bearer ')) return undefined
  const [head, body, signature] = header.slice(7).split('.')
  if (!head || !body || !signature) return undefined
  const expected = createHmac('sha256', key).update(`${head}.${body}`).digest()
  const given = Buffer.from(signature, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined
  const alg = JSON.parse(Buffer.from(head, 'base64url').toString()).alg
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString())
  if (alg !== 'HS256' || claims.typ !== 'access' || claims.iss !== 'insurge' || claims.aud !== 'insurge-api')
    return undefined
  if (typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000) return undefined
  if (!/^[1-9]\d*$/.test(String(claims.sub))) return undefined
  return { sub: Number(claims.sub), iat: claims.iat }
}

async function authenticate(request: IncomingMessage): Promise<{ id: number } | undefined> {
  const claims = verifyAccess(request.headers.authorization)
  if (!claims) return undefined
  const { rows } = await pool.query({ name: 'user_by_id', text: USER.sql, values: [claims.sub, 1] })
  const user = rows[0]
  if (!user?.is_active) return undefined
  if (user.tokens_valid_after && claims.iat * 1000 < user.tokens_valid_after.getTime()) return undefined
  return { id: user.id }
}

function values(params: string[], named: Record<string, unknown>): unknown[] {
  return params.map((name) => named[name])
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  response.end(json)
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const route = /^\/api\/v1\/chat\/sessions\/(\d+)\/messages(?:\?(.*))?$/

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const match = route.exec(request.url ?? '')
  if (!match) return reply(response, 404, { detail: 'Not Found' })
  const room = Number(match[1])
  const user = await authenticate(request)
  if (!user) return reply(response, 401, { detail: 'Could not validate credentials' })
  if (request.method === 'GET') {
    const query = new URLSearchParams(match[2] ?? '')
    const { rows } = await pool.query({
      name: texts.page.name,
      text: texts.page.sql,
      values: values(texts.page.params, { room, viewer: user.id, seq: Number(query.get('before_seq')) }),
      rowMode: 'array',
    })
    return reply(response, 200, rows.reverse().map(toMessage))
  }
  const input = JSON.parse(await readBody(request)) as { content: string; client_msg_id?: string }
  const { rows } = await pool.query({
    name: texts.send.name,
    text: texts.send.sql,
    values: values(texts.send.params, {
      room,
      user: user.id,
      content: input.content,
      clientMsgId: input.client_msg_id ?? null,
      replyTo: null,
    }),
    rowMode: 'array',
  })
  if (!rows[0]) return reply(response, 403, { detail: 'Not allowed' })
  const message = toMessage(rows[0])
  await redis?.publish(`${prefix}:room:${room}`, JSON.stringify({ type: 'chat_message', ...message }))
  return reply(response, 201, message)
}

const server = createServer((request, response) => {
  handle(request, response).catch((error) => reply(response, 500, { detail: String(error) }))
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('not listening on a TCP port')
  serveCommands(
    { port: address.port },
    {
      ...memoryHandlers(),
      ...lagHandlers(),
      close: async () => {
        server.close()
        await pool.end()
        redis?.disconnect()
      },
    },
  )
})
