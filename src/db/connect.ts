// Opens the database named by DATABASE_URL: a node-postgres pool, or PGlite (embedded Postgres) on disk or in memory.
import { mkdirSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { type SQL, sql } from 'drizzle-orm'
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres'
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core'
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite'
import pg from 'pg'
import * as schema from './schema.js'

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>

export interface DatabaseHandle {
  db: Database
  kind: 'postgres' | 'pglite'
  /** Runs `fn` with a database on which session-level state (advisory locks) holds until it returns. */
  withSession<T>(fn: (db: Database) => Promise<T>): Promise<T>
  /** Connections of the pool (PostgreSQL only): open, idle, and requests waiting for one. */
  poolStats(): { total: number; idle: number; waiting: number } | undefined
  /** Resolves when the database answers a trivial query within `timeoutMs`; rejects otherwise. */
  ping(timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** A down database must fail fast: requests get 503 well within 5 s instead of hanging. */
const CONNECT_TIMEOUT_MS = 3000
const POOL_SIZE = 20

export interface ConnectOptions {
  onPoolError?: (error: Error) => void
}

export async function connectDatabase(url: string, options: ConnectOptions = {}): Promise<DatabaseHandle> {
  if (url.startsWith('pglite://')) return connectPglite(url.slice('pglite://'.length))
  return connectPostgres(url, options)
}

async function connectPglite(location: string): Promise<DatabaseHandle> {
  const inMemory = location === '' || location === 'memory'
  if (!inMemory) mkdirSync(location, { recursive: true })
  const client = inMemory ? new PGlite() : new PGlite(location)
  await client.waitReady
  const db = drizzlePglite({ client, schema }) as unknown as Database
  return {
    db,
    kind: 'pglite',
    // PGlite is one connection: every query already shares the session.
    withSession: (fn) => fn(db),
    poolStats: () => undefined,
    ping: (timeoutMs) => withTimeout(db.execute(sql`select 1`), timeoutMs),
    close: () => client.close(),
  }
}

async function connectPostgres(url: string, options: ConnectOptions): Promise<DatabaseHandle> {
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
  })
  // An idle client that loses its server emits here; without a listener the process would crash.
  pool.on('error', (error) => options.onPoolError?.(error))
  const db = drizzlePg({ client: pool, schema }) as unknown as Database
  return {
    db,
    kind: 'postgres',
    async withSession(fn) {
      const client = await pool.connect()
      try {
        return await fn(drizzlePg({ client, schema }) as unknown as Database)
      } finally {
        client.release()
      }
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    ping: (timeoutMs) => withTimeout(db.execute(sql`select 1`), timeoutMs),
    close: () => pool.end(),
  }
}

async function withTimeout(work: Promise<unknown>, timeoutMs = CONNECT_TIMEOUT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Raw SQL rows; both drivers answer `execute` with an object whose `rows` holds them. */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] }
  return result.rows
}

/** A database or an open transaction on it: what a query helper that may run inside a transaction takes. */
export type Executor = Database | Parameters<Parameters<Database['transaction']>[0]>[0]
