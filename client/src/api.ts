// `client.api`: one typed function per operation of /openapi.json, named by its operationId.
// Arguments are `{path, query, body}` as the operation declares them; the result is the success body.
import type { operations } from './generated/openapi.js'
import { operationTable } from './generated/operations.js'
import type { Transport } from './transport.js'

export type OperationId = keyof typeof operationTable & keyof operations

type Defined<T> = Exclude<T, undefined>
type PathArg<O> = O extends { parameters: { path: infer P } } ? { path: P } : unknown
type QueryArg<O> = O extends { parameters: { query: infer Q } }
  ? { query: Q }
  : O extends { parameters: { query?: infer Q } }
    ? [Defined<Q>] extends [never]
      ? unknown
      : { query?: Defined<Q> }
    : unknown
type BodyArg<O> = O extends { requestBody: { content: { 'application/json': infer B } } }
  ? { body: B }
  : O extends { requestBody?: infer R }
    ? Defined<R> extends { content: { 'application/json': infer B } }
      ? { body?: B }
      : unknown
    : unknown

/** What an operation takes: `path` and `body` when it has them, `query` (optional unless a field is required). */
export type ArgsOf<K extends OperationId> = PathArg<operations[K]> &
  QueryArg<operations[K]> &
  BodyArg<operations[K]>

type Json<R> = R extends { content: { 'application/json': infer B } } ? B : undefined
/** What an operation resolves with: its 200/201 JSON body, or undefined for 204. */
export type ResultOf<K extends OperationId> = operations[K]['responses'] extends infer R
  ? Json<R[Extract<keyof R, 200 | 201 | 204>]>
  : never

/** Besides its arguments, every call takes a `signal` that stops it (as `fetch` does). */
export interface CallOptions {
  signal?: AbortSignal
}

type Call<K extends OperationId> =
  object extends ArgsOf<K>
    ? (args?: ArgsOf<K> & CallOptions) => Promise<ResultOf<K>>
    : (args: ArgsOf<K> & CallOptions) => Promise<ResultOf<K>>

export type Api = { [K in OperationId]: Call<K> }

interface Args extends CallOptions {
  path?: Record<string, string | number>
  query?: Record<string, unknown>
  body?: unknown
}

export function createApi(transport: Transport): Api {
  const api: Record<string, (args?: Args) => Promise<unknown>> = {}
  for (const [id, operation] of Object.entries(operationTable)) {
    api[id] = (args: Args = {}) =>
      transport.request({
        method: operation.method,
        path: operation.path.replace(/\{(\w+)\}/g, (_, name: string) => {
          const value = args.path?.[name]
          if (value === undefined) throw new TypeError(`${id}: path.${name} is required`)
          return encodeURIComponent(String(value))
        }),
        query: args.query,
        body: args.body,
        auth: operation.auth,
        signal: args.signal,
      })
  }
  return api as unknown as Api
}
