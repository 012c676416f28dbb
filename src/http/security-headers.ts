// Security headers: Helmet's defaults, without a Content-Security-Policy (the API serves JSON, and the
// docs pages and the web app set their own). With these options Helmet's headers do not depend on the
// request, so its middleware runs once, at start, against a recorder, and every answer gets the
// recorded set in one step. The Fastify wrapper (@fastify/helmet) built the middleware again on every
// request behind two hooks, and each raw setHeader validated its name and value again: a few percent
// of a history page's CPU.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance } from 'fastify'
import helmet from 'helmet'

/** The headers Helmet sets with these options, by lower-case name. */
export function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)
    },
    // Helmet removes X-Powered-By, which neither Node nor Fastify sets.
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  helmet({ contentSecurityPolicy: false })(
    {} as IncomingMessage,
    recorder as unknown as ServerResponse,
    (error?: unknown) => {
      if (error) throw error
    },
  )
  return headers
}

export function registerSecurityHeaders(app: FastifyInstance): void {
  const headers = securityHeaders()
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
}
