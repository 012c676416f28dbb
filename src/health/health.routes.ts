import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { checkHealth } from './health.service.js'

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

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', { schema: { tags: ['health'], summary: 'Welcome', response: { 200: Welcome } } }, () => ({
    message: 'Welcome to Insurge AI Backend API',
    version: app.deps.version,
  }))

  app.get(
    '/health',
    {
      schema: {
        tags: ['health'],
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
