// Request validation: Fastify's own Ajv set-up (its defaults plus the app's `ajv` options), in two modes.
// Query strings and path parameters are text on the wire, so their values are coerced ("5" becomes 5);
// bodies are JSON, typed by the client, so they are not: {"title": 12} is refused, not stored as "12".
import { AjvCompiler, type ValidatorFactory } from '@fastify/ajv-compiler'

type AjvValidate = ReturnType<ReturnType<ValidatorFactory>>

/** Fastify's `schemaController.compilersFactory.buildValidator`: strict bodies, coerced everything else. */
export const buildRequestValidator: ValidatorFactory = (externalSchemas, options = {}) => {
  const build = AjvCompiler()
  const coercing = build(externalSchemas, options)
  const strict = build(externalSchemas, {
    ...options,
    mode: undefined, // JSON Schema, not JTD (which the app does not use)
    customOptions: { ...options.customOptions, coerceTypes: false },
  })
  return (route) => (route.httpPart === 'body' ? strict(route) : refuseNonFinite(coercing(route)))
}

/**
 * Ajv coerces "1e309" and "Infinity" to Infinity, which passes `type: integer`, and then skips `maximum`
 * for a number that is not finite: the value reached the database as a 500. Refuse it after Ajv.
 */
function refuseNonFinite(validate: AjvValidate): AjvValidate {
  const checked = ((data: unknown, context?: unknown) => {
    const valid = (validate as (data: unknown, context?: unknown) => unknown)(data, context)
    if (valid !== true) {
      checked.errors = validate.errors
      return valid
    }
    const field = nonFiniteField(data)
    checked.errors = field
      ? [
          {
            instancePath: `/${field}`,
            schemaPath: '#',
            keyword: 'type',
            params: {},
            message: 'must be a finite number',
          },
        ]
      : null
    return field === undefined
  }) as AjvValidate
  // Fastify passes the parent object (so Ajv can replace a coerced root) only to Ajv's own functions.
  Object.assign(checked, { schemaEnv: validate.schemaEnv, schema: validate.schema })
  return checked
}

const nonFinite = (value: unknown) => typeof value === 'number' && !Number.isFinite(value)

/** The first field of a query or params object holding a number that is not finite (they are flat). */
function nonFiniteField(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const fields = data as Record<string, unknown>
  for (const key in fields) {
    const value = fields[key]
    if (typeof value === 'number' ? !Number.isFinite(value) : Array.isArray(value) && value.some(nonFinite))
      return key
  }
  return undefined
}
