// Security headers: Helmet's defaults, without a Content-Security-Policy (the API serves JSON, and the
// docs pages and the web app load their own scripts). Helmet's middleware is built once here; the
// Fastify wrapper (@fastify/helmet) built it again on every request, behind two hooks, which was a few
// percent of a history page's CPU.
import type { FastifyInstance } from 'fastify'
import helmet from 'helmet'

export function registerSecurityHeaders(app: FastifyInstance): void {
  const setHeaders = helmet({ contentSecurityPolicy: false })
  app.addHook('onRequest', (request, reply, done) => {
    setHeaders(request.raw, reply.raw, (error) => done(error as Error | undefined))
  })
}
