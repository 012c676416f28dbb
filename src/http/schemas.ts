// Schemas shared by every feature: the error body and the response sets that document it.
import Type, { type Static, type TSchema } from 'typebox'

export const ErrorBody = Type.Object(
  {
    detail: Type.String({ description: 'A sentence for people' }),
    code: Type.String({ description: 'A stable machine code' }),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), {
        description: 'Present on 422: one entry per invalid field',
      }),
    ),
  },
  { examples: [{ detail: 'Could not validate credentials', code: 'unauthenticated' }] },
)

/** A schema keyword (an OpenAPI extension) limiting a string's length in UTF-8 bytes; registered with Ajv in app.ts. */
export const MAX_BYTES_KEYWORD = 'x-max-bytes'

/** Documents the error statuses a route can answer with; the body is always ErrorBody. */
export function errorResponses<S extends number>(...statuses: S[]): Record<S, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody])) as Record<S, typeof ErrorBody>
}

/** The OpenAPI security requirement of routes that need an access token. */
export const bearerSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { OAuth2PasswordBearer: [] }]

/**
 * `T | null` as `type: [T, 'null']` rather than anyOf. Bodies are not coerced (http/validation.ts), but
 * query strings and path parameters are, and under coercion anyOf turned a null sent for a string into ""
 * (the first branch wins); a type list keeps null as null wherever the schema is used, and fails with
 * one error instead of one per branch.
 */
export function Nullable<T extends TSchema & { type: string }>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] })
}

/**
 * A string from a fixed list, as JSON Schema `enum`: one clear validation error ("must be one of …")
 * instead of one per literal, and a dropdown in Swagger UI.
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string } = {},
) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}
