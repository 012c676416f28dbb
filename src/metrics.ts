// Prometheus metrics at /metrics (prom-client): HTTP latency by route and status, sockets, messages,
// fan-out deliveries, assistant outcomes, tokens and latency, database pool use, and Node's own (event-loop lag included).
import type { FastifyInstance } from 'fastify'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { sendBatchStats } from './chat/send-batcher.js'
import type { DatabaseHandle } from './db/connect.js'
import type { DomainEvents } from './events.js'
import type { Hub } from './realtime/rooms.js'

export function registerMetrics(
  app: FastifyInstance,
  parts: { hub: Hub; events: DomainEvents; database: DatabaseHandle },
) {
  // One registry per app, not prom-client's global one: tests run several apps in one process.
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 })
  const registers = [registry]

  const httpDuration = new Histogram({
    name: 'insurge_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  })
  app.addHook('onResponse', async (request, reply) => {
    // The pattern, not the path: /chat/sessions/7 and /chat/sessions/8 are one series.
    const route = request.routeOptions.url ?? 'unmatched'
    httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    )
  })

  new Gauge({
    name: 'insurge_websocket_connections',
    help: 'Open WebSocket connections on this instance',
    registers,
    collect() {
      this.set(parts.hub.connections.size)
    },
  })
  /** A counter kept elsewhere as a running total, read when /metrics is scraped. */
  const totalCounter = (name: string, help: string, read: () => number) => {
    let reported = 0
    new Counter({
      name,
      help,
      registers,
      collect() {
        const now = read()
        this.inc(now - reported)
        reported = now
      },
    })
  }
  totalCounter('insurge_fanout_deliveries_total', 'Frames written to WebSocket connections', () =>
    parts.hub.delivered(),
  )
  new Gauge({
    name: 'insurge_ws_buffered_frame_bytes',
    help: 'Bytes of frames read from WebSocket clients and not yet handled, on this instance',
    registers,
    collect() {
      this.set(parts.hub.inbound.heldBytes)
    },
  })
  new Gauge({
    name: 'insurge_ws_buffered_frame_bytes_peak',
    help: 'The most bytes of unhandled frames one WebSocket has held at once since start (bounded per socket)',
    registers,
    collect() {
      this.set(parts.hub.inbound.peakBytes)
    },
  })
  new Gauge({
    name: 'insurge_ws_setups_waiting',
    help: 'WebSocket set-ups waiting for their turn at the database (a reconnect storm shows here)',
    registers,
    collect() {
      this.set(parts.hub.setUps.waiting)
    },
  })
  new Gauge({
    name: 'insurge_ws_setups_peak',
    help: 'The most WebSocket set-ups that have queried the database at once since start (bounded)',
    registers,
    collect() {
      this.set(parts.hub.setUps.peak)
    },
  })
  const messages = new Counter({
    name: 'insurge_messages_stored_total',
    help: 'Messages stored by this instance, by role',
    labelNames: ['role'] as const,
    registers,
  })
  const aiReplies = new Counter({
    name: 'insurge_ai_replies_total',
    help: 'Assistant replies by outcome (stored or failed)',
    labelNames: ['outcome'] as const,
    registers,
  })
  const aiTokens = new Counter({
    name: 'insurge_ai_tokens_total',
    help: 'Tokens the assistant used (replies and catch-ups), by kind (prompt, completion) and model',
    labelNames: ['kind', 'model'] as const,
    registers,
  })
  const aiFirstToken = new Histogram({
    name: 'insurge_ai_first_token_seconds',
    help: 'From the start of a reply or catch-up to the first text from the model',
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32],
    registers,
  })
  const aiReply = new Histogram({
    name: 'insurge_ai_reply_seconds',
    help: 'How long a reply or catch-up took, start to end, whatever its outcome',
    buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128],
    registers,
  })
  parts.events.subscribe((event) => {
    if (event.type === 'message_created') {
      messages.inc({ role: event.message.role })
      if (event.message.role === 'assistant') aiReplies.inc({ outcome: 'stored' })
    } else if (event.type === 'ai_failed') aiReplies.inc({ outcome: 'failed' })
    else if (event.type === 'ai_measured') {
      if (event.usage) {
        aiTokens.inc({ kind: 'prompt', model: event.model }, event.usage.prompt_tokens)
        aiTokens.inc({ kind: 'completion', model: event.model }, event.usage.completion_tokens)
      }
      if (event.firstTokenSeconds !== null) aiFirstToken.observe(event.firstTokenSeconds)
      aiReply.observe(event.seconds)
    }
  })
  totalCounter(
    'insurge_send_batches_total',
    'Statements that stored several sends at once (sends that arrived together)',
    () => sendBatchStats(parts.database.db).batches,
  )
  totalCounter(
    'insurge_sends_batched_total',
    'Messages stored by those batch statements',
    () => sendBatchStats(parts.database.db).messages,
  )
  new Gauge({
    name: 'insurge_db_pool_connections',
    help: 'PostgreSQL pool connections by state (total, idle, waiting requests)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const stats = parts.database.poolStats()
      if (!stats) return
      this.set({ state: 'total' }, stats.total)
      this.set({ state: 'idle' }, stats.idle)
      this.set({ state: 'waiting' }, stats.waiting)
    },
  })

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  )
}
