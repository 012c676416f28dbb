// Applies the committed drizzle-kit migrations, and rolls back the newest one with its hand-written down SQL.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import type { NodePgDatabase } from 'drizzle-orm/node-postgres'
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator'
import type { PgliteDatabase } from 'drizzle-orm/pglite'
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator'
import { type Database, type DatabaseHandle, queryRows } from './connect.js'

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../migrations', import.meta.url))
const MIGRATIONS_SCHEMA = 'drizzle'
const MIGRATIONS_TABLE = '__drizzle_migrations'
/** Several instances starting at once must not apply the same migration twice. */
const MIGRATION_LOCK_KEY = 7_361_002_113

interface JournalEntry {
  idx: number
  when: number
  tag: string
}

/** Applies every migration newer than the newest applied one. Returns how many were applied. */
export async function migrateUp(handle: DatabaseHandle): Promise<number> {
  return withMigrationLock(handle, async (db) => {
    const before = await appliedCount(db)
    const config = {
      migrationsFolder: MIGRATIONS_FOLDER,
      migrationsSchema: MIGRATIONS_SCHEMA,
      migrationsTable: MIGRATIONS_TABLE,
    }
    if (handle.kind === 'pglite') await migratePglite(db as unknown as PgliteDatabase, config)
    else await migratePostgres(db as unknown as NodePgDatabase, config)
    return (await appliedCount(db)) - before
  })
}

/** Rolls back the newest applied migration. Returns its tag, or null when none is applied. */
export async function migrateDown(handle: DatabaseHandle): Promise<string | null> {
  return withMigrationLock(handle, async (db) => {
    const newest = await newestApplied(db)
    if (!newest) return null
    const entry = readJournal().find((e) => e.when === newest.createdAt)
    if (!entry) throw new Error(`applied migration created at ${newest.createdAt} is not in the journal`)
    const statements = readFileSync(`${MIGRATIONS_FOLDER}/down/${entry.tag}.sql`, 'utf8')
      .split('--> statement-breakpoint')
      .map((s) => s.trim())
      .filter((s) => s.replace(/--.*$/gm, '').trim().length > 0)
    await db.transaction(async (tx) => {
      for (const statement of statements) await tx.execute(sql.raw(statement))
      await tx.execute(sql`delete from ${table()} where id = ${newest.id}`)
    })
    return entry.tag
  })
}

/** The tags of the applied migrations, oldest first (for /ready and the tests). */
export async function appliedMigrations(db: Database): Promise<string[]> {
  const journal = readJournal()
  const rows = await appliedRows(db)
  return rows.map((r) => journal.find((e) => e.when === r.createdAt)?.tag ?? `unknown-${r.createdAt}`)
}

/** Whether every migration in the journal has been applied. */
export async function isFullyMigrated(db: Database): Promise<boolean> {
  const journal = readJournal()
  const newest = await newestApplied(db)
  return journal.length === 0 || newest?.createdAt === journal[journal.length - 1]?.when
}

function readJournal(): JournalEntry[] {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
    entries: JournalEntry[]
  }
  return journal.entries
}

const table = () => sql`${sql.identifier(MIGRATIONS_SCHEMA)}.${sql.identifier(MIGRATIONS_TABLE)}`

async function appliedRows(db: Database): Promise<{ id: number; createdAt: number }[]> {
  const [exists] = await queryRows<{ present: boolean }>(
    db,
    sql`select to_regclass(${`${MIGRATIONS_SCHEMA}.${MIGRATIONS_TABLE}`}) is not null as present`,
  )
  if (!exists?.present) return []
  const rows = await queryRows<{ id: number; created_at: string | number }>(
    db,
    sql`select id, created_at from ${table()} order by created_at`,
  )
  return rows.map((r) => ({ id: Number(r.id), createdAt: Number(r.created_at) }))
}

async function appliedCount(db: Database): Promise<number> {
  return (await appliedRows(db)).length
}

async function newestApplied(db: Database) {
  const rows = await appliedRows(db)
  return rows[rows.length - 1]
}

async function withMigrationLock<T>(handle: DatabaseHandle, fn: (db: Database) => Promise<T>): Promise<T> {
  return handle.withSession(async (db) => {
    if (handle.kind === 'pglite') return fn(db)
    await db.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`)
    try {
      return await fn(db)
    } finally {
      await db.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`)
    }
  })
}
