// A failed schema check as a 422's body: `errors` for programs (path and Ajv's message, unchanged) and a
// `detail` sentence for people, naming the field and what it needs, which every client can show as it is.
import type { FieldError } from '../errors.js'
import { MAX_BYTES_KEYWORD } from './schemas.js'

export interface AjvError {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
  parentSchema?: Record<string, unknown>
}

/** The 422's `detail` and `errors` for Ajv's errors on one part of the request (`body`, `querystring`…). */
export function describeValidation(
  context: string,
  validation: readonly AjvError[],
): { detail: string; errors: FieldError[] } {
  const errors = validation.map((e) => toFieldError(context, e))
  const [first] = validation
  const detail = first && errors[0] ? sentenceFor(errors[0].path, first) : 'The request is not valid'
  return { detail, errors }
}

function toFieldError(context: string, e: AjvError): FieldError {
  const segments = e.instancePath.split('/').filter(Boolean)
  if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
    segments.push(e.params.missingProperty)
  }
  if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
    segments.push(e.params.additionalProperty)
  }
  const path = [context, ...segments].join('.')
  if (e.keyword === MAX_BYTES_KEYWORD)
    return { path, message: `is longer than ${e.parentSchema?.[MAX_BYTES_KEYWORD]} bytes in UTF-8` }
  if (e.keyword === 'required') return { path, message: 'is required' }
  if (e.keyword === 'pattern' && e.params.pattern === '\\S') return { path, message: 'must not be blank' }
  if (e.keyword === 'enum' && Array.isArray(e.params.allowedValues)) {
    return { path, message: `must be one of: ${e.params.allowedValues.join(', ')}` }
  }
  return { path, message: e.message ?? 'is invalid' }
}

/** A part of the request itself, when the failure is not in one of its fields. */
const WHOLE_PART: Record<string, string> = {
  body: 'The request body',
  querystring: 'The query string',
  params: 'The URL',
  headers: 'The request headers',
}

/** The field by its own name (`body.user.email` is `email`; an array's item is `tags[2]`). */
function fieldName(path: string): string {
  const segments = path.split('.')
  const last = segments.at(-1) ?? path
  if (segments.length === 1) return WHOLE_PART[last] ?? last
  if (/^\d+$/.test(last) && segments.length > 2) return `${segments.at(-2)}[${last}]`
  return last
}

const numbers = new Intl.NumberFormat('en')

/** `n` and the noun, singular for 1. */
const counted = (n: unknown, noun: string) =>
  `${numbers.format(Number(n))} ${noun}${Number(n) === 1 ? '' : 's'}`

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  null: 'null',
}

const FORMAT_WORDS: Record<string, string> = {
  email: 'a valid email address',
  'date-time': 'a date and time such as 2025-01-31T09:30:00Z',
  date: 'a date such as 2025-01-31',
  time: 'a time such as 09:30:00Z',
  uri: 'a full URL',
  url: 'a full URL',
  uuid: 'a UUID',
}

/** What a pattern asks, for the patterns that say it plainly; others are "not allowed" characters. */
const PATTERN_SENTENCES: Record<string, (name: string) => string> = {
  '\\S': (name) => `${name} must not be blank`,
  '^\\S+$': (name) => `${name} must not contain spaces`,
}

/** The pieces of a character class, longest first, in words. */
const CLASS_PIECES: [string, string][] = [
  ['A-Za-z', 'letters'],
  ['a-zA-Z', 'letters'],
  ['a-z', 'lower-case letters'],
  ['A-Z', 'capital letters'],
  ['0-9', 'digits'],
  ['\\d', 'digits'],
  ['\\-', 'hyphens'],
  ['\\.', 'dots'],
  ['.', 'dots'],
  ['_', 'underscores'],
  ['-', 'hyphens'],
  [' ', 'spaces'],
  ['+', 'plus signs'],
  ['@', 'at signs'],
]

/** "letters, digits and dots" for `^[A-Za-z0-9.]+$`; undefined for a pattern that is not one class. */
function allowedCharacters(pattern: string): string | undefined {
  const whole = /^\^\[([^\]^][^\]]*)\][+*]\$$/.exec(pattern)
  let rest = whole?.[1]
  if (rest === undefined) return undefined
  const words: string[] = []
  while (rest.length > 0) {
    const piece = CLASS_PIECES.find(([text]) => rest?.startsWith(text))
    if (!piece) return undefined
    if (!words.includes(piece[1])) words.push(piece[1])
    rest = rest.slice(piece[0].length)
  }
  return words.length > 1 ? `${words.slice(0, -1).join(', ')} and ${words.at(-1)}` : words[0]
}

function describePattern(name: string, pattern: unknown): string {
  if (typeof pattern !== 'string') return `${name} has characters that are not allowed`
  const known = PATTERN_SENTENCES[pattern]
  if (known) return known(name)
  const allowed = allowedCharacters(pattern)
  return allowed ? `${name} may contain only ${allowed}` : `${name} has characters that are not allowed`
}

function describeType(name: string, e: AjvError): string {
  const { type } = e.params
  const types = Array.isArray(type) ? type : typeof type === 'string' ? type.split(',') : []
  const words = types.map((t) => TYPE_WORDS[String(t)] ?? String(t))
  if (words.length === 0) return `${name} ${e.message ?? 'has the wrong type'}`
  return `${name} must be ${words.join(' or ')}`
}

/** The sentence for one Ajv error on the field at `path`. */
function sentenceFor(path: string, e: AjvError): string {
  const name = fieldName(path)
  const { params } = e
  switch (e.keyword) {
    case 'required':
      return `${name} is required`
    case 'additionalProperties':
      return `unknown field: ${String(params.additionalProperty)}`
    case 'minLength':
      return Number(params.limit) === 1
        ? `${name} must not be empty`
        : `${name} must be at least ${counted(params.limit, 'character')} long`
    case 'maxLength':
      return `${name} must be at most ${counted(params.limit, 'character')} long`
    case MAX_BYTES_KEYWORD:
      return `${name} must be at most ${numbers.format(Number(e.parentSchema?.[MAX_BYTES_KEYWORD]))} bytes long in UTF-8 (an accented letter takes 2, an emoji 4)`
    case 'pattern':
      return describePattern(name, params.pattern)
    case 'type':
      return describeType(name, e)
    case 'format':
      return `${name} must be ${FORMAT_WORDS[String(params.format)] ?? `a valid ${String(params.format)}`}`
    case 'minimum':
      return `${name} must be at least ${numbers.format(Number(params.limit))}`
    case 'exclusiveMinimum':
      return `${name} must be greater than ${numbers.format(Number(params.limit))}`
    case 'maximum':
      return `${name} must be at most ${numbers.format(Number(params.limit))}`
    case 'exclusiveMaximum':
      return `${name} must be less than ${numbers.format(Number(params.limit))}`
    case 'multipleOf':
      return `${name} must be a multiple of ${numbers.format(Number(params.multipleOf))}`
    case 'enum':
      return Array.isArray(params.allowedValues)
        ? `${name} must be one of: ${params.allowedValues.join(', ')}`
        : `${name} is not one of the allowed values`
    case 'const':
      return `${name} must be ${JSON.stringify(params.allowedValue)}`
    case 'minItems':
      return `${name} must have at least ${counted(params.limit, 'item')}`
    case 'maxItems':
      return `${name} must have at most ${counted(params.limit, 'item')}`
    case 'uniqueItems':
      return `${name} must not list the same item twice`
    case 'minProperties':
      return `${name} must have at least ${counted(params.limit, 'field')}`
    case 'maxProperties':
      return `${name} must have at most ${counted(params.limit, 'field')}`
    default:
      return `${name} is not valid${e.message ? ` (${e.message})` : ''}`
  }
}
