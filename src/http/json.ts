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
    let value: unknown
    try {
      value = secureJson.parse(text, { protoAction: 'error', constructorAction: 'error' })
    } catch (error) {
      done(
        new AppError('invalid', `Body is not valid JSON: ${(error as Error).message}`, [
          { path: 'body', message: 'is not valid JSON' },
        ]),
        undefined,
      )
      return
    }
    // PostgreSQL text cannot hold U+0000: refuse it here rather than fail in the database.
    if (containsNul(text, value)) {
      return done(
        new AppError('invalid', 'Text must not contain the NUL character (U+0000)', [
          { path: 'body', message: 'must not contain U+0000' },
        ]),
        undefined,
      )
    }
    done(null, value)
  })
}

/** Whether any string in a parsed JSON value holds U+0000 (only looked for when the text has the escape). */
export function containsNul(text: string, value: unknown): boolean {
  if (!text.includes('\\u0000')) return false
  const visit = (v: unknown): boolean =>
    typeof v === 'string'
      ? v.includes('\0')
      : typeof v === 'object' && v !== null && Object.values(v).some(visit)
  return visit(value)
}
