import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { wantsHtml } from '../web/web.routes.js'
import { checkHealth, checkReady } from './health.service.js'

const DependencyState = Type.Union([
  Type.Literal('ok'),
  Type.Literal('unavailable'),
  Type.Literal('disabled'),
])

const Health = Type.Object(
  {
    status: Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('unhealthy')]),
    environment: Type.String(),
    version: Type.String(),
    database: DependencyState,
    redis: DependencyState,
    ai: Type.Union([Type.Literal('configured'), Type.Literal('disabled')]),
  },
  {
    examples: [
      {
        status: 'healthy',
        environment: 'development',
        version: '0.1.0',
        database: 'ok',
        redis: 'disabled',
        ai: 'disabled',
      },
    ],
  },
)

const Welcome = Type.Object({ message: Type.String(), version: Type.String() })
const Readiness = Type.Object(
  { status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]), detail: Type.String() },
  { examples: [{ status: 'ready', detail: 'ready' }] },
)

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Set as soon as shutdown starts, so that load balancers stop sending traffic here.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })

  app.get(
    '/ready',
    {
      schema: {
        tags: ['health'],
        operationId: 'getReady',
        summary:
          'Readiness: 200 only when the database answers, migrations are applied, and not shutting down',
        response: { 200: Readiness, 503: Readiness },
      },
    },
    async (_req, reply) => {
      const { ready, detail } = await checkReady(app.deps, closing)
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', detail })
    },
  )

  app.get(
    '/',
    {
      schema: {
        tags: ['health'],
        operationId: 'getRoot',
        summary: 'Welcome; a browser (Accept: text/html) is redirected to the web app at /app/',
        response: { 200: Welcome, 302: Type.Null({ description: 'To /app/, for a browser' }) },
      },
    },
    async (request, reply) => {
      if (wantsHtml(request.headers.accept)) {
        await reply.redirect('/app/')
        return
      }
      return { message: 'Welcome to Insurge AI Backend API', version: app.deps.version }
    },
  )

  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
        operationId: 'getHealth',
        summary: 'Liveness and dependency status; 503 when the database does not answer',
        response: { 200: Health, 503: Health },
      },
    },
    async (_req, reply) => {
      const report = await checkHealth(app.deps)
      return reply.code(report.database === 'ok' ? 200 : 503).send(report)
    },
  )
}
