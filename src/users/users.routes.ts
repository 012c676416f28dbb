import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { bearerSecurity, errorResponses } from '../http/schemas.js'
import { User, UserUpdate } from './users.schemas.js'
import { deactivateMe, toUserView, updateMe } from './users.service.js'

export const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireActor)

  app.get(
    '/users/me',
    {
      schema: {
        tags: ['users'],
        operationId: 'getMe',
        summary: 'The caller',
        security: bearerSecurity,
        response: { 200: User, ...errorResponses(401) },
      },
    },
    (req) => toUserView(req.actor),
  )

  app.put(
    '/users/me',
    {
      schema: {
        tags: ['users'],
        operationId: 'updateMe',
        summary: 'Change profile, email, username or password',
        description:
          'Changing `password` needs `current_password` and ends every other login (refresh tokens).',
        security: bearerSecurity,
        body: UserUpdate,
        response: { 200: User, ...errorResponses(401, 403, 409, 422, 429) },
      },
    },
    (req) => updateMe(app.deps, req.actor, req.body),
  )

  app.delete(
    '/users/me',
    {
      schema: {
        tags: ['users'],
        operationId: 'deactivateMe',
        summary: 'Deactivate the account',
        security: bearerSecurity,
        response: { 204: Type.Null(), ...errorResponses(401, 429) },
      },
    },
    async (req, reply) => {
      await deactivateMe(app.deps, req.actor)
      return reply.code(204).send(null)
    },
  )
}
