import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { SessionParams } from '../chat/chat.schemas.js'
import { bearerSecurity, errorResponses } from '../http/schemas.js'
import { ReplyInProgress } from './replies.schemas.js'
import { listRepliesInProgress } from './replies.service.js'

export const repliesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireActor)

  app.get(
    '/chat/sessions/:id/assistant/replies',
    {
      schema: {
        tags: ['assistant'],
        security: bearerSecurity,
        operationId: 'listAssistantReplies',
        summary: 'The assistant’s replies being written now, with their text so far (oldest first)',
        params: SessionParams,
        response: { 200: Type.Array(ReplyInProgress), ...errorResponses(401, 403, 404, 422) },
      },
    },
    (req) => listRepliesInProgress(app.deps, req.actor, req.params.id),
  )
}
