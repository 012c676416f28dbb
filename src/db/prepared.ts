// Named prepared statements, built once per database: Drizzle renders their SQL text once, and
// PostgreSQL parses and plans each once per connection instead of on every execution. The hottest
// ones (message reads and sends) also skip Drizzle at run time: their rows come back as arrays and are
// decoded by functions made once from the query's own fields, not by Drizzle's generic row mapper
// (which looked up each field's kind again for every value: ~15% of a history page's CPU).
import { PGlite } from '@electric-sql/pglite'
import { Column, is, SQL, sql } from 'drizzle-orm'
import pg from 'pg'
import type { Executor } from './connect.js'

const built = new WeakMap<Executor, Map<string, unknown>>()

/**
 * The statement `name` of this database (or transaction), built by `build` the first time. A name
 * must always stand for the same SQL text: node-postgres refuses a name prepared with another text.
 */
export function prepared<T>(db: Executor, name: string, build: () => T): T {
  let statements = built.get(db)
  if (!statements) {
    statements = new Map()
    built.set(db, statements)
  }
  let statement = statements.get(name) as T | undefined
  if (!statement) {
    statement = build()
    statements.set(name, statement)
  }
  return statement
}

/** A Drizzle select, before `.prepare()`: what a row statement is made from. */
interface SelectQuery<Row> {
  toSQL(): { sql: string; params: unknown[] }
  readonly _: { readonly selectedFields: unknown }
  prepare(name: string): { execute(values: Record<string, unknown>): Promise<Row[]> }
  execute(): Promise<Row[]>
}

export interface RowStatement<Row> {
  execute(values: Record<string, unknown>): Promise<Row[]>
}

type Decoder = { mapFromDriverValue(value: unknown): unknown }

const decoderOf = (query: SQL) => (query as unknown as { decoder: Decoder }).decoder

/** Each selected field in column order, with its path in the row object and its decoder. */
function flatten(
  fields: Record<string, unknown>,
  prefix: string[] = [],
): { path: string[]; decoder: Decoder }[] {
  return Object.entries(fields).flatMap(([key, field]) => {
    const path = [...prefix, key]
    if (is(field, Column)) return [{ path, decoder: field }]
    // An SQL field decodes with what `.mapWith()` gave it (Drizzle keeps it on `decoder`).
    if (is(field, SQL)) return [{ path, decoder: decoderOf(field) }]
    if (is(field, SQL.Aliased)) return [{ path, decoder: decoderOf(field.sql) }]
    return flatten(field as Record<string, unknown>, path)
  })
}

/** What an `sql` field without `.mapWith()` decodes with: the value as the driver gave it. */
const NO_DECODING = decoderOf(sql``)

/**
 * The row decoder of a select, made once: a function generated from the query's own fields that
 * builds each row as one object literal (nested objects as nested literals), calling each field's
 * decoder from a call site of its own. A generic loop over the fields, with one shared call site for
 * every decoder, cost several times as much per value on a page of 50 messages. The generated text
 * holds only the field names, quoted by JSON.stringify, and value indexes; values are never in it.
 */
export function rowDecoder<Row>(query: SelectQuery<Row>): (values: unknown[]) => Row {
  // Resolved once: an aliased column is a Proxy, and every property read on it goes through a trap.
  const steps = flatten(query._.selectedFields as Record<string, unknown>)
  const maps = steps.map(({ decoder }) =>
    decoder === NO_DECODING ? undefined : decoder.mapFromDriverValue.bind(decoder),
  )
  interface Tree {
    [key: string]: Tree | number
  }
  const tree: Tree = {}
  steps.forEach(({ path }, index) => {
    // In an object literal this name would set the row's prototype, not a field.
    if (path.includes('__proto__')) throw new Error('a selected field may not be named __proto__')
    let node = tree
    for (const parent of path.slice(0, -1)) {
      node[parent] ??= {}
      node = node[parent] as Tree
    }
    node[path[path.length - 1] as string] = index
  })
  const value = (index: number) =>
    maps[index] === undefined ? `v[${index}]` : `(v[${index}] === null ? null : m${index}(v[${index}]))`
  const literal = (node: Tree): string =>
    `{${Object.entries(node)
      .map(
        ([key, child]) =>
          `${JSON.stringify(key)}: ${typeof child === 'number' ? value(child) : literal(child)}`,
      )
      .join(', ')}}`
  const names = maps.map((_, index) => `m${index}`)
  return new Function(...names, `return (v) => (${literal(tree)})`)(...maps) as (values: unknown[]) => Row
}

/** A statement's text and its parameters' names in order. */
export interface StatementText {
  name: string
  sql: string
  params: string[]
}

/** The text Drizzle renders for `query`, whose every parameter must be a named placeholder. */
export function statementText(name: string, query: Pick<SelectQuery<unknown>, 'toSQL'>): StatementText {
  const { sql: text, params } = query.toSQL()
  const names = params.map((param) => (param as { name?: string }).name)
  if (names.some((n) => n === undefined)) throw new Error(`${name}: every parameter must be a placeholder`)
  return { name, sql: text, params: names as string[] }
}

/**
 * `prepared` for a select whose rows the hot paths read: run by the driver itself (named, rows as
 * arrays) on the database's own client; inside a transaction, through Drizzle as usual.
 */
export function preparedRows<Row>(
  db: Executor,
  name: string,
  build: () => SelectQuery<Row>,
): RowStatement<Row> {
  return prepared(db, name, () => {
    const query = build()
    const client = (db as { $client?: unknown }).$client
    if (!(client instanceof pg.Pool) && !(client instanceof PGlite)) return query.prepare(name)
    const { sql: text, params: names } = statementText(name, query)
    const decode = rowDecoder(query)
    const valuesOf = (values: Record<string, unknown>) => names.map((n) => values[n])
    if (client instanceof pg.Pool) {
      return {
        async execute(values: Record<string, unknown>) {
          const result = await client.query({ name, text, values: valuesOf(values), rowMode: 'array' })
          return (result.rows as unknown[][]).map(decode)
        },
      }
    }
    return {
      async execute(values: Record<string, unknown>) {
        const result = await client.query<unknown[]>(text, valuesOf(values), { rowMode: 'array' })
        return result.rows.map(decode)
      },
    }
  })
}
