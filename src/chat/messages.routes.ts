import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { bearerSecurity, errorResponses } from '../http/schemas.js'
import {
  Message,
  MessageCreate,
  MessageEdit,
  MessageParams,
  MessagesQuery,
  ReactionParams,
  ReadBody,
  SearchQuery,
  SearchResults,
  SessionParams,
} from './chat.schemas.js'
import {
  addReaction,
  deleteMessage,
  editMessage,
  markRead,
  removeReaction,
} from './message-changes.service.js'
import { listMessages, sendMessage } from './messages.service.js'
import { searchMessages } from './search.service.js'

const tags = ['messages']
const security = bearerSecurity

export const messagesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireActor)

  app.post(
    '/chat/sessions/:id/messages',
    {
      schema: {
        tags,
        security,
        operationId: 'sendMessage',
        summary: 'Send a message (201); a retry with the same client_msg_id returns the first one (200)',
        params: SessionParams,
        body: MessageCreate,
        response: { 200: Message, 201: Message, ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    async (req, reply) => {
      const { message, created } = await sendMessage(app.deps, req.actor, req.params.id, req.body)
      return reply.code(created ? 201 : 200).send(message)
    },
  )

  app.get(
    '/chat/sessions/:id/messages',
    {
      schema: {
        tags,
        security,
        operationId: 'listMessages',
        summary: 'History, oldest first: the newest `limit`, or a page by before_seq / after_seq',
        params: SessionParams,
        querystring: MessagesQuery,
        response: { 200: Type.Array(Message), ...errorResponses(401, 403, 404, 422) },
      },
    },
    (req) => listMessages(app.deps, req.actor, req.params.id, req.query),
  )

  app.patch(
    '/chat/sessions/:id/messages/:message_id',
    {
      schema: {
        tags,
        security,
        operationId: 'editMessage',
        summary: 'Edit a message (its author only; not assistant or system messages)',
        params: MessageParams,
        body: MessageEdit,
        response: { 200: Message, ...errorResponses(401, 403, 404, 409, 422, 429) },
      },
    },
    (req) => editMessage(app.deps, req.actor, req.params.id, req.params.message_id, req.body.content),
  )

  app.delete(
    '/chat/sessions/:id/messages/:message_id',
    {
      schema: {
        tags,
        security,
        operationId: 'deleteMessage',
        summary: 'Delete a message (its author, or the owner or an admin); it stays as a tombstone',
        params: MessageParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    async (req, reply) => {
      await deleteMessage(app.deps, req.actor, req.params.id, req.params.message_id)
      return reply.code(204).send(null)
    },
  )

  app.put(
    '/chat/sessions/:id/messages/:message_id/reactions/:emoji',
    {
      schema: {
        tags,
        security,
        operationId: 'addReaction',
        summary: 'React with an emoji (idempotent)',
        params: ReactionParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409, 422, 429) },
      },
    },
    async (req, reply) => {
      await addReaction(app.deps, req.actor, req.params.id, req.params.message_id, req.params.emoji)
      return reply.code(204).send(null)
    },
  )

  app.delete(
    '/chat/sessions/:id/messages/:message_id/reactions/:emoji',
    {
      schema: {
        tags,
        security,
        operationId: 'removeReaction',
        summary: 'Take a reaction back (idempotent)',
        params: ReactionParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    async (req, reply) => {
      await removeReaction(app.deps, req.actor, req.params.id, req.params.message_id, req.params.emoji)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/chat/sessions/:id/read',
    {
      schema: {
        tags,
        security,
        operationId: 'markRead',
        summary: 'Move the caller’s read marker forward to seq (never back)',
        params: SessionParams,
        body: ReadBody,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    async (req, reply) => {
      await markRead(app.deps, req.actor, req.params.id, req.body.seq)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/chat/search',
    {
      schema: {
        tags,
        security,
        operationId: 'searchMessages',
        summary: 'Full-text search over the messages of the caller’s rooms, newest first',
        querystring: SearchQuery,
        response: { 200: SearchResults, ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    (req) => searchMessages(app.deps, req.actor, req.query),
  )
}
