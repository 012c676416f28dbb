// Named prepared statements, built once per database: Drizzle renders their SQL text once, and
// PostgreSQL parses and plans each once per connection instead of on every execution.
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
