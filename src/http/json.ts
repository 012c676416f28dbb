// JSON bodies, parsed as Fastify does (prototype-poisoning safe), except that an empty body is no body:
// clients often send `Content-Type: application/json` with nothing on POSTs like /join and /leave.
// The depth and NUL checks here serve WebSocket frames too.
import type { FastifyInstance } from 'fastify'
import secureJson from 'secure-json-parse'
import { AppError } from '../errors.js'

export function registerLenientJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8')
    if (text.trim() === '') return done(null, undefined)
    if (nestsTooDeep(text)) {
      return done(
        new AppError('invalid', `Body ${TOO_DEEP}`, [
          { path: 'body', message: `nests more than ${MAX_JSON_DEPTH} levels deep` },
        ]),
        undefined,
      )
    }
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

/**
 * How deeply arrays and objects may nest in a body or a WebSocket frame. Real requests use three or
 * four levels; without a bound, a small body nested 100,000 deep overflowed the stack of code that walks it.
 */
export const MAX_JSON_DEPTH = 32

/** The end of a sentence that starts with what was too deep ("Body …", "Frames …"). */
export const TOO_DEEP = `must not nest arrays and objects more than ${MAX_JSON_DEPTH} levels deep`

/**
 * Whether JSON text opens more than MAX_JSON_DEPTH arrays and objects at once: a loop over the text
 * (brackets inside strings do not count), before any parser or recursive walk meets the depth.
 */
export function nestsTooDeep(text: string): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) inString = true
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > MAX_JSON_DEPTH) return true
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--
  }
  return false
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/** Whether any string in a parsed JSON value holds U+0000 (only looked for when the text has the escape). */
export function containsNul(text: string, value: unknown): boolean {
  if (!text.includes('\\u0000')) return false
  // A stack rather than recursion: the walk must not depend on the value's depth.
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const v = pending.pop()
    if (typeof v === 'string' && v.includes('\0')) return true
    if (typeof v === 'object' && v !== null) for (const item of Object.values(v)) pending.push(item)
  }
  return false
}
