// The room assistant's settings and what it costs (DESIGN section 10).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { loadVisibleSession } from '../chat/access.js'
import { SessionParams } from '../chat/chat.schemas.js'
import { assertCan } from '../chat/permissions.js'
import { bearerSecurity, errorResponses } from '../http/schemas.js'
import { getAssistantSettings, updateAssistantSettings } from './settings.js'
import { AssistantSettings, AssistantSettingsUpdate } from './settings.schemas.js'

const tags = ['assistant']
const security = bearerSecurity

const DailyUsage = Type.Object(
  {
    day: Type.String({ format: 'date', description: 'The UTC day' }),
    tokens_used: Type.Integer({ minimum: 0 }),
    tokens_limit: Type.Integer({ minimum: 0, description: 'The daily budget in tokens; 0 = unlimited' }),
    replies: Type.Integer({ minimum: 0, description: 'Replies and catch-ups charged today' }),
  },
  { examples: [{ day: '2026-12-03', tokens_used: 5120, tokens_limit: 200000, replies: 7 }] },
)

export const assistantRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireActor)
  const usage = app.deps.aiUsage

  app.get(
    '/chat/sessions/:id/assistant',
    {
      schema: {
        tags,
        security,
        operationId: 'getAssistantSettings',
        summary: 'The room’s assistant settings (participants)',
        params: SessionParams,
        response: { 200: AssistantSettings, ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    (req) => getAssistantSettings(app.deps, req.actor, req.params.id),
  )

  app.put(
    '/chat/sessions/:id/assistant',
    {
      schema: {
        tags,
        security,
        operationId: 'updateAssistantSettings',
        summary: 'Change the room’s assistant: mode, instructions, model, context, tools (owner, admin)',
        params: SessionParams,
        body: AssistantSettingsUpdate,
        response: { 200: AssistantSettings, ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    (req) => updateAssistantSettings(app.deps, req.actor, req.params.id, req.body),
  )

  app.get(
    '/chat/sessions/:id/assistant/usage',
    {
      schema: {
        tags,
        security,
        operationId: 'getRoomAiUsage',
        summary: 'The room’s assistant use today (UTC) against its daily budget (owner, admin)',
        params: SessionParams,
        response: { 200: DailyUsage, ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    async (req) => {
      const { role } = await loadVisibleSession(app.deps.db, req.actor, req.params.id)
      assertCan(role, 'update_session')
      return usage.today('room', req.params.id)
    },
  )

  app.get(
    '/users/me/ai-usage',
    {
      schema: {
        tags,
        security,
        operationId: 'getMyAiUsage',
        summary: 'The caller’s assistant use today (UTC) against their daily budget',
        response: { 200: DailyUsage, ...errorResponses(401, 429) },
      },
    },
    (req) => usage.today('user', req.actor.id),
  )
}
