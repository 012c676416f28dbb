// The request guard: `onRequest: app.requireActor` on a route makes `req.actor` the caller, or answers 401.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError } from '../errors.js'
import { type Actor, authenticate } from './actor.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireActor`; only read it on routes that use that hook. */
    actor: Actor
  }
  interface FastifyInstance {
    requireActor(request: FastifyRequest): Promise<void>
  }
}

export const authGuard = fp(async (app: FastifyInstance) => {
  app.decorateRequest('actor', null as unknown as Actor)
  app.decorate('requireActor', async (request: FastifyRequest) => {
    request.actor = await authenticate(app.deps, bearerToken(request))
  })
})

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
  if (!match?.[1]) throw new AppError('unauthenticated', 'Not authenticated')
  return match[1]
}
