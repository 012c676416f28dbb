// The one place that knows HTTP statuses: AppError codes, schema failures and Fastify's own 4xx become {detail, code}.
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, type ErrorCode, type FieldError } from '../errors.js'
import { type AjvError, describeValidation } from './validation-detail.js'

const STATUS = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid: 422,
  rate_limited: 429,
  unavailable: 503,
} as const satisfies Record<ErrorCode, number>

/** Fastify's own 4xx (malformed JSON, too large, wrong media type) keep their status, except 400, which is invalid input. */
const FRAMEWORK_CODES: Record<number, string> = {
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
}

/** Errors that mean the database cannot be reached, as opposed to a bug in a query. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
])

/**
 * Errors Fastify raises before a route runs (a malformed URL such as /reactions/%FF), given the
 * project's shape: Buildapp passes this as Fastify's `frameworkErrors` option.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    void sendError(reply, 422, 'invalid', 'The URL is not valid (bad percent-encoding)', [
      { path: 'url', message: 'is not a valid URL' },
    ])
    return
  }
  const status =
    error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
  void sendError(
    reply,
    status,
    FRAMEWORK_CODES[status] ?? (status === 500 ? 'internal' : 'bad_request'),
    error.message,
  )
}

/**
 * Errors of Node's HTTP parser, before Fastify has a request (URL and headers over 16 KiB, a request that
 * is not HTTP): buildApp passes this as Fastify's `clientErrorHandler`, whose default body has no detail.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The URL and headers are too large; send long data in a body']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request took too long to arrive']
        : [400, 'bad_request', 'The request is not valid HTTP']
  const body = JSON.stringify({ detail, code })
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    )
  }
  socket.destroy(error)
}

export function registerErrorHandlers(app: FastifyInstance): void {
  // Some plugins answer a 4xx themselves, not in the project's shape: a CORS preflight without its
  // headers (text), a plain GET on /ws (no body). Give those {detail, code} too.
  // A callback, not an async function: it runs on every answer, and nearly always passes it through.
  app.addHook('onSend', (_request, reply, payload, done) => {
    const status = reply.statusCode
    if (status < 400 || status >= 500 || isJson(reply)) return done(null, payload)
    // Only a plugin's short answer (some text, or nothing); a stream or a buffer is left alone.
    if (payload != null && typeof payload !== 'string') return done(null, payload)
    const text = typeof payload === 'string' ? payload.trim() : ''
    reply.type('application/json; charset=utf-8')
    const detail = text || STATUS_CODES[status] || 'Request refused'
    done(null, JSON.stringify({ detail, code: FRAMEWORK_CODES[status] ?? 'bad_request' }))
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      if (error.retryAfterSeconds !== undefined) reply.header('Retry-After', String(error.retryAfterSeconds))
      return sendError(reply, STATUS[error.code], error.code, error.detail, error.errors)
    }
    if (error.validation) {
      const { detail, errors } = describeValidation(
        error.validationContext ?? 'body',
        error.validation as AjvError[],
      )
      return sendError(reply, 422, 'invalid', detail, errors)
    }
    if (isUnstorableText(error)) {
      return sendError(reply, 422, 'invalid', 'Text contains a character that cannot be stored (such as NUL)')
    }
    if (isUnreachable(error)) {
      request.log.warn({ err: error }, 'database unavailable')
      return sendError(reply, 503, 'unavailable', 'The database is unavailable; try again shortly')
    }
    const status = error.statusCode ?? 500
    if (status >= 400 && status < 500) {
      if (status === 400) {
        return sendError(reply, 422, 'invalid', error.message, [{ path: 'body', message: error.message }])
      }
      return sendError(reply, status, FRAMEWORK_CODES[status] ?? 'bad_request', error.message)
    }
    request.log.error({ err: error }, 'unhandled error')
    return sendError(reply, 500, 'internal', 'Internal server error')
  })

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, 404, 'not_found', `Route ${request.method} ${request.url.split('?')[0]} not found`),
  )
}

function isJson(reply: FastifyReply): boolean {
  return String(reply.getHeader('content-type') ?? '').startsWith('application/json')
}

function sendError(reply: FastifyReply, status: number, code: string, detail: string, errors?: FieldError[]) {
  if (status === 401) reply.header('WWW-Authenticate', 'Bearer')
  return reply.code(status).send(errors ? { detail, code, errors } : { detail, code })
}

/** 22021 character_not_in_repertoire, 22P05 untranslatable_character: a NUL in a query string, say. */
function isUnstorableText(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e | undefined
  ) {
    if (e.code === '22021' || e.code === '22P05') return true
  }
  return false
}

/** The database (or a connection to it) cannot be reached: a 503 over HTTP, `unavailable` over a socket. */
export function isUnreachable(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined; e; ) {
    if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return true
    if (
      typeof e.message === 'string' &&
      /timeout exceeded when trying to connect|Connection terminated/i.test(e.message)
    ) {
      return true
    }
    e = e.cause as typeof e | undefined
  }
  return false
}
