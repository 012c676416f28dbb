// Migrations up and down on a fresh test database (PGlite in memory, or a new PostgreSQL database).
import { readFileSync } from 'node:fs'
import { sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connectDatabase, type DatabaseHandle, queryRows } from '../../src/db/connect.js'
import {
  appliedMigrations,
  isFullyMigrated,
  MIGRATIONS_FOLDER,
  migrateDown,
  migrateUp,
} from '../../src/db/migrate.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'

const JOURNAL_TAGS: string[] = (
  JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, 'utf8')) as {
    entries: { tag: string }[]
  }
).entries.map((e) => e.tag)
const NEWEST_TAG = JOURNAL_TAGS[JOURNAL_TAGS.length - 1]

async function open(): Promise<{ testDb: TestDatabase; handle: DatabaseHandle }> {
  const testDb = await createTestDatabase()
  return { testDb, handle: await connectDatabase(testDb.url) }
}

async function close({ testDb, handle }: { testDb: TestDatabase; handle: DatabaseHandle }): Promise<void> {
  await handle.close()
  await testDb.drop()
}

/** The tables a migration's up SQL creates. */
const tablesCreatedBy = (tag: string) =>
  [...readFileSync(`${MIGRATIONS_FOLDER}/${tag}.sql`, 'utf8').matchAll(/CREATE TABLE "(\w+)"/g)].map(
    (m) => m[1],
  )

/** The `table.column` pairs a migration's up SQL adds to existing tables. */
const columnsAddedBy = (tag: string) =>
  [
    ...readFileSync(`${MIGRATIONS_FOLDER}/${tag}.sql`, 'utf8').matchAll(
      /ALTER TABLE "(\w+)" ADD COLUMN "(\w+)"/g,
    ),
  ].map((m) => `${m[1]}.${m[2]}`)

const existingColumns = async (handle: DatabaseHandle) =>
  (
    await queryRows<{ name: string }>(
      handle.db,
      sql`select table_name || '.' || column_name as name from information_schema.columns
           where table_schema = 'public'`,
    )
  ).map((r) => r.name)

const existingTables = async (handle: DatabaseHandle) =>
  (
    await queryRows<{ name: string }>(
      handle.db,
      sql`select table_name as name from information_schema.tables where table_schema = 'public'`,
    )
  ).map((r) => r.name)

const countUsers = async (handle: DatabaseHandle) =>
  queryRows<{ n: number }>(handle.db, sql`select count(*)::int as n from users`)

test('the journal lists at least one migration', () => {
  expect(JOURNAL_TAGS.length).toBeGreaterThan(0)
})

describe('on a fresh database', () => {
  let db: { testDb: TestDatabase; handle: DatabaseHandle }
  beforeAll(async () => {
    db = await open()
  })
  afterAll(() => (db ? close(db) : undefined))

  // The steps depend on each other, in this order.
  test('nothing is applied yet', async () => {
    expect(await appliedMigrations(db.handle.db)).toEqual([])
    expect(await isFullyMigrated(db.handle.db)).toBe(false)
  })

  test('up applies every migration in the journal', async () => {
    expect(await migrateUp(db.handle)).toBe(JOURNAL_TAGS.length)
    expect(await appliedMigrations(db.handle.db)).toEqual(JOURNAL_TAGS)
    expect(await isFullyMigrated(db.handle.db)).toBe(true)
    expect(await countUsers(db.handle)).toEqual([{ n: 0 }])
  })

  test('a second up applies nothing', async () => {
    expect(await migrateUp(db.handle)).toBe(0)
    expect(await appliedMigrations(db.handle.db)).toEqual(JOURNAL_TAGS)
  })

  test('down rolls back the newest migration and returns its tag', async () => {
    expect(await migrateDown(db.handle)).toBe(NEWEST_TAG)
    expect(await appliedMigrations(db.handle.db)).toEqual(JOURNAL_TAGS.slice(0, -1))
    expect(await isFullyMigrated(db.handle.db)).toBe(false)
    // What the newest migration created is gone.
    const created = tablesCreatedBy(NEWEST_TAG ?? '')
    const added = columnsAddedBy(NEWEST_TAG ?? '')
    expect(created.length + added.length).toBeGreaterThan(0)
    const tables = await existingTables(db.handle)
    for (const table of created) expect(tables).not.toContain(table)
    const columns = await existingColumns(db.handle)
    for (const column of added) expect(columns).not.toContain(column)
  })

  test('up again restores it', async () => {
    expect(await migrateUp(db.handle)).toBe(1)
    expect(await appliedMigrations(db.handle.db)).toEqual(JOURNAL_TAGS)
    expect(await isFullyMigrated(db.handle.db)).toBe(true)
    expect(await countUsers(db.handle)).toEqual([{ n: 0 }])
  })
})

test('down on a database with no migrations returns null', async () => {
  const db = await open()
  try {
    expect(await migrateDown(db.handle)).toBeNull()
    expect(await appliedMigrations(db.handle.db)).toEqual([])
  } finally {
    await close(db)
  }
})

test('rolling back every migration leaves nothing applied, and down then returns null', async () => {
  const db = await open()
  try {
    await migrateUp(db.handle)
    const rolledBack: (string | null)[] = []
    for (let i = 0; i < JOURNAL_TAGS.length; i++) rolledBack.push(await migrateDown(db.handle))
    expect(rolledBack).toEqual([...JOURNAL_TAGS].reverse())
    expect(await appliedMigrations(db.handle.db)).toEqual([])
    // Every down file undoes its up file: no table of ours is left behind.
    expect(await existingTables(db.handle)).toEqual([])
    await expect(countUsers(db.handle)).rejects.toThrow()
    expect(await migrateDown(db.handle)).toBeNull()
    expect(await migrateUp(db.handle)).toBe(JOURNAL_TAGS.length)
  } finally {
    await close(db)
  }
})
