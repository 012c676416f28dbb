import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { bearerSecurity, errorResponses } from '../http/schemas.js'
import {
  InviteBody,
  JoinResult,
  MessageResult,
  Paging,
  Participant,
  ParticipantParams,
  PublicSessions,
  PublicSessionsQuery,
  RemoveQuery,
  RoleBody,
  Session,
  SessionCreate,
  SessionDetail,
  SessionParams,
  SessionUpdate,
} from './chat.schemas.js'
import {
  changeRole,
  inviteParticipant,
  joinSession,
  leaveSession,
  listParticipants,
  removeParticipant,
} from './participants.service.js'
import {
  createSession,
  deleteSession,
  getSession,
  listMySessions,
  listPublicSessions,
  updateSession,
} from './sessions.service.js'

const tags = ['chat']
const security = bearerSecurity

export const chatRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireActor)

  app.post(
    '/chat/sessions',
    {
      schema: {
        tags,
        security,
        operationId: 'createSession',
        summary: 'Create a room; the caller becomes its owner',
        body: SessionCreate,
        response: { 201: Session, ...errorResponses(401, 422, 429) },
      },
    },
    async (req, reply) => reply.code(201).send(await createSession(app.deps, req.actor, req.body)),
  )

  app.get(
    '/chat/sessions',
    {
      schema: {
        tags,
        security,
        operationId: 'listMySessions',
        summary: 'The rooms the caller is in, newest activity first (total in X-Total-Count)',
        querystring: Paging,
        response: { 200: Type.Array(Session), ...errorResponses(401, 422) },
      },
    },
    async (req, reply) => {
      const page = await listMySessions(app.deps, req.actor, req.query)
      return reply.header('X-Total-Count', String(page.total)).send(page.sessions)
    },
  )

  app.get(
    '/chat/sessions/public',
    {
      schema: {
        tags,
        security,
        operationId: 'listPublicSessions',
        summary: 'Public rooms anyone may join',
        querystring: PublicSessionsQuery,
        response: { 200: PublicSessions, ...errorResponses(401, 422) },
      },
    },
    (req) => listPublicSessions(app.deps, req.actor, req.query),
  )

  app.get(
    '/chat/sessions/:id',
    {
      schema: {
        tags,
        security,
        operationId: 'getSession',
        summary: 'A room with its participants (public rooms: readable before joining, my_role null)',
        params: SessionParams,
        response: { 200: SessionDetail, ...errorResponses(401, 404, 422) },
      },
    },
    (req) => getSession(app.deps, req.actor, req.params.id),
  )

  app.put(
    '/chat/sessions/:id',
    {
      schema: {
        tags,
        security,
        operationId: 'updateSession',
        summary: 'Change title, description, type, size or assistant mode (owner, admin)',
        params: SessionParams,
        body: SessionUpdate,
        response: { 200: Session, ...errorResponses(401, 403, 404, 409, 422, 429) },
      },
    },
    (req) => updateSession(app.deps, req.actor, req.params.id, req.body),
  )

  app.delete(
    '/chat/sessions/:id',
    {
      schema: {
        tags,
        security,
        operationId: 'deleteSession',
        summary: 'Delete a room (owner); it disappears everywhere, its rows are kept',
        params: SessionParams,
        response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    async (req, reply) => {
      await deleteSession(app.deps, req.actor, req.params.id)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/chat/sessions/:id/join',
    {
      schema: {
        tags,
        security,
        operationId: 'joinSession',
        summary: 'Join a public room as a member (again: no-op)',
        params: SessionParams,
        response: { 200: JoinResult, ...errorResponses(401, 403, 404, 409, 422, 429) },
      },
    },
    (req) => joinSession(app.deps, req.actor, req.params.id),
  )

  app.post(
    '/chat/sessions/:id/leave',
    {
      schema: {
        tags,
        security,
        operationId: 'leaveSession',
        summary: 'Leave a room (not the owner)',
        params: SessionParams,
        response: { 200: MessageResult, ...errorResponses(401, 404, 409, 422, 429) },
      },
    },
    (req) => leaveSession(app.deps, req.actor, req.params.id),
  )

  app.post(
    '/chat/sessions/:id/invite',
    {
      schema: {
        tags,
        security,
        operationId: 'inviteParticipant',
        summary: 'Add a user by user_id, username or email (owner, admin)',
        params: SessionParams,
        body: InviteBody,
        response: { 201: Participant, ...errorResponses(401, 403, 404, 409, 422, 429) },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await inviteParticipant(app.deps, req.actor, req.params.id, req.body)),
  )

  app.get(
    '/chat/sessions/:id/participants',
    {
      schema: {
        tags,
        security,
        operationId: 'listParticipants',
        summary: 'The participants of a room',
        params: SessionParams,
        response: { 200: Type.Array(Participant), ...errorResponses(401, 404, 422) },
      },
    },
    (req) => listParticipants(app.deps, req.actor, req.params.id),
  )

  app.put(
    '/chat/sessions/:id/participants/:user_id/role',
    {
      schema: {
        tags,
        security,
        operationId: 'changeParticipantRole',
        summary: 'Change a participant’s role; the owner granting owner transfers ownership',
        params: ParticipantParams,
        body: RoleBody,
        response: { 200: Participant, ...errorResponses(401, 403, 404, 409, 422, 429) },
      },
    },
    (req) => changeRole(app.deps, req.actor, req.params.id, req.params.user_id, req.body.role),
  )

  app.delete(
    '/chat/sessions/:id/participants/:user_id',
    {
      schema: {
        tags,
        security,
        operationId: 'removeParticipant',
        summary: 'Remove a participant (owner, admin; never the owner); ?ban=true also bans them',
        params: ParticipantParams,
        querystring: RemoveQuery,
        response: { 200: MessageResult, ...errorResponses(401, 403, 404, 422, 429) },
      },
    },
    (req) => removeParticipant(app.deps, req.actor, req.params.id, req.params.user_id, req.query.ban),
  )
}
