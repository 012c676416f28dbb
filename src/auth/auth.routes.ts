import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { AppError } from '../errors.js'
import { routeLimit } from '../http/rate-limits.js'
import { bearerSecurity, errorResponses } from '../http/schemas.js'
import { User, UserCreate } from '../users/users.schemas.js'
import {
  LoginForm,
  type LoginFormInput,
  LoginJson,
  type LoginJsonInput,
  LogoutBody,
  RefreshBody,
  RefreshQuery,
  TokenPair,
} from './auth.schemas.js'
import { login, logout, logoutEverywhere, refresh, register } from './auth.service.js'
import { issueTicket } from './tickets.js'

export const authRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/auth/register',
    {
      config: { rateLimit: routeLimit('register') },
      schema: {
        tags: ['auth'],
        operationId: 'register',
        summary: 'Create an account',
        body: UserCreate,
        response: { 201: User, ...errorResponses(409, 422, 429) },
      },
    },
    async (req, reply) => reply.code(201).send(await register(app.deps, req.body)),
  )

  app.post(
    '/auth/login',
    {
      config: { rateLimit: routeLimit('login') },
      // Neither body schema runs when there is no body at all (no content type to choose one by).
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) {
          throw new AppError('invalid', 'A body with email and password is required', [
            { path: 'body', message: 'is required' },
          ])
        }
      },
      schema: {
        tags: ['auth'],
        operationId: 'login',
        summary: 'Log in with email and password (JSON, or the OAuth2 password form)',
        body: {
          content: {
            'application/json': { schema: LoginJson },
            'application/x-www-form-urlencoded': { schema: LoginForm },
          },
        },
        response: { 200: TokenPair, ...errorResponses(401, 403, 422, 429) },
      },
    },
    (req) => {
      const body = req.body as LoginJsonInput | LoginFormInput
      return login(app.deps, 'email' in body ? body.email : body.username, body.password, req.ip)
    },
  )

  app.post(
    '/auth/refresh',
    {
      // The token may come in the query string alone, with no body at all.
      preValidation: async (req) => {
        req.body ??= {}
      },
      schema: {
        tags: ['auth'],
        operationId: 'refreshTokens',
        summary: 'Trade a refresh token for a new pair; each refresh token works once',
        body: RefreshBody,
        querystring: RefreshQuery,
        response: { 200: TokenPair, ...errorResponses(401, 422) },
      },
    },
    (req) => refresh(app.deps, requireRefreshToken(req.body?.refresh_token ?? req.query.refresh_token)),
  )

  app.post(
    '/auth/logout',
    {
      schema: {
        tags: ['auth'],
        operationId: 'logout',
        summary: 'End the login this refresh token belongs to',
        body: LogoutBody,
        response: { 204: Type.Null(), ...errorResponses(401, 422) },
      },
    },
    async (req, reply) => {
      await logout(app.deps, req.body.refresh_token)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/auth/ws-ticket',
    {
      onRequest: app.requireActor,
      schema: {
        tags: ['auth'],
        operationId: 'createWsTicket',
        summary: 'A single-use ticket for /ws?ticket=… (valid 60 s), so the access token stays out of URLs',
        security: bearerSecurity,
        response: { 200: WsTicket, ...errorResponses(401, 429) },
      },
    },
    (req) => issueTicket(app.deps, req.actor),
  )

  app.post(
    '/auth/logout-all',
    {
      onRequest: app.requireActor,
      schema: {
        tags: ['auth'],
        operationId: 'logoutAll',
        summary: 'End every login of the caller',
        security: bearerSecurity,
        response: { 204: Type.Null(), ...errorResponses(401, 429) },
      },
    },
    async (req, reply) => {
      await logoutEverywhere(app.deps, req.actor)
      return reply.code(204).send(null)
    },
  )
}

const WsTicket = Type.Object(
  { ticket: Type.String(), expires_in: Type.Integer({ description: 'Seconds the ticket stays valid' }) },
  { examples: [{ ticket: 'mC1T0V3cQe0o1cYk3p9xWQ2d8nq5J8mQ4m1sZcJfQ0A', expires_in: 60 }] },
)

function requireRefreshToken(token: string | undefined): string {
  if (token === undefined) {
    throw new AppError('invalid', 'refresh_token is required', [
      { path: 'body.refresh_token', message: 'is required' },
    ])
  }
  return token
}
