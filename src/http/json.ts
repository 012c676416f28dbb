// JSON bodies, parsed as Fastify does (prototype-poisoning safe), except that an empty body is no body:
// clients often send `Content-Type: application/json` with nothing on POSTs like /join and /leave.
import type { FastifyInstance } from 'fastify'
import secureJson from 'secure-json-parse'
import { AppError } from '../errors.js'

export function registerLenientJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text.trim() === '') return done(null, undefined)
    try {
      done(null, secureJson.parse(text, { protoAction: 'error', constructorAction: 'error' }))
    } catch (error) {
      done(
        new AppError('invalid', `Body is not valid JSON: ${(error as Error).message}`, [
          { path: 'body', message: 'is not valid JSON' },
        ]),
        undefined,
      )
    }
  })
}
