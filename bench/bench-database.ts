// A scenario's own PostgreSQL database (created, migrated with the app's migrations, dropped at the end),
// seeded directly in SQL: users, rooms and participants by the thousand, messages by generate_series.
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import pg from 'pg'
import { createTokens } from '../src/auth/tokens.js'
import { type Config, parseConfig } from '../src/config.js'
import { connectDatabase } from '../src/db/connect.js'
import { migrateUp } from '../src/db/migrate.js'
import type { Settings } from './settings.js'

/** The password of the seeded user who logs in (logins scenario). */
export const BENCH_PASSWORD = 'bench password 1'

export interface BenchDeployment {
  /** The environment an Insurge child runs with (the same for every instance of the deployment). */
  env: Record<string, string>
  config: Config
  pool: pg.Pool
  /** Access tokens for user ids, signed with the deployment's secret as the app signs them. */
  accessToken(userId: number): Promise<string>
  drop(): Promise<void>
}

export async function createDeployment(
  settings: Settings,
  overrides: Record<string, string> = {},
): Promise<BenchDeployment> {
  const tag = randomBytes(5).toString('hex')
  const name = `insurge_bench_${tag}`
  await withAdmin(settings.adminDatabaseUrl, (client) => client.query(`CREATE DATABASE ${name}`))
  const url = new URL(settings.adminDatabaseUrl)
  url.pathname = `/${name}`
  const env: Record<string, string> = {
    DATABASE_URL: url.toString(),
    REDIS_URL: settings.redisUrl,
    REDIS_KEY_PREFIX: `bench-${tag}`,
    SECRET_KEY: `bench-secret-${randomBytes(24).toString('hex')}`,
    ENVIRONMENT: 'development',
    DEBUG: 'false',
    LOG_LEVEL: settings.serverLogLevel,
    RATE_LIMITS: 'off',
    BCRYPT_ROUNDS: '4',
    MAX_CHAT_PARTICIPANTS: '10000',
    ACCESS_TOKEN_EXPIRE_MINUTES: '240',
    HOST: '127.0.0.1',
    ...overrides,
  }
  const config = parseConfig(env)
  const handle = await connectDatabase(config.DATABASE_URL)
  try {
    await migrateUp(handle)
  } finally {
    await handle.close()
  }
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 })
  const tokens = createTokens(config)
  return {
    env,
    config,
    pool,
    accessToken: async (userId) => (await tokens.issue('access', userId)).token,
    async drop() {
      await pool.end()
      await clearRedisPrefix(settings.redisUrl, env.REDIS_KEY_PREFIX as string)
      await withAdmin(settings.adminDatabaseUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      )
    },
  }
}

async function withAdmin(url: string, fn: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await fn(client)
  } finally {
    await client.end()
  }
}

/** Presence hashes and quota counters a deployment left behind. */
export async function clearRedisPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) await redis.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}

/** Inserts `count` users (usernames `<prefix>_<n>`) with one shared password hash; returns their ids. */
export async function seedUsers(pool: pg.Pool, count: number, hash: string, prefix = 'u'): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `insert into users (email, username, hashed_password)
     select $2 || '_' || g || '@bench.local', $2 || '_' || g, $3 from generate_series(1, $1::int) g
     order by g returning id`,
    [count, prefix, hash],
  )
  return rows.map((r) => r.id)
}

/**
 * Invite-only rooms, each with its owner (role `owner`) and members (role `member`), in one statement
 * per table. Returns the room ids in order.
 */
export async function seedRooms(pool: pg.Pool, rooms: { ownerId: number; memberIds: number[] }[]) {
  const { rows } = await pool.query<{ id: number }>(
    `insert into chat_sessions (title, session_type, max_participants, owner_id, ai_mode, participant_count)
     select 'bench room ' || o.n, 'invite_only', 10000, o.owner_id, 'off', o.members
       from unnest($1::int[], $2::int[]) with ordinality as o(owner_id, members, n)
      order by o.n returning id`,
    [rooms.map((r) => r.ownerId), rooms.map((r) => r.memberIds.length + 1)],
  )
  const sessionIds: number[] = []
  const userIds: number[] = []
  const roles: string[] = []
  rooms.forEach((room, i) => {
    const id = rows[i]?.id as number
    sessionIds.push(id)
    userIds.push(room.ownerId)
    roles.push('owner')
    for (const member of room.memberIds) {
      sessionIds.push(id)
      userIds.push(member)
      roles.push('member')
    }
  })
  await pool.query(
    `insert into chat_participants (session_id, user_id, role)
     select * from unnest($1::int[], $2::int[], $3::participant_role[])`,
    [sessionIds, userIds, roles],
  )
  return rows.map((r) => r.id)
}

/**
 * `count` messages in a room in one INSERT … SELECT generate_series, authored in turn by `authorIds`,
 * with every `deletedEvery`-th one a tombstone; the room's counters follow.
 */
export async function seedMessages(
  pool: pg.Pool,
  sessionId: number,
  count: number,
  authorIds: number[],
  deletedEvery = 0,
): Promise<void> {
  await pool.query(
    `insert into chat_messages (session_id, seq, user_id, role, content, deleted_at, created_at)
     select $1::int, g, ($3::int[])[1 + g % array_length($3::int[], 1)], 'user',
            case when $4::int > 0 and g % $4::int = 0 then '' else 'bench message number ' || g || ' with some words' end,
            case when $4::int > 0 and g % $4::int = 0 then now() end,
            now() - ($2::int - g) * interval '1 second'
       from generate_series(1, $2::int) g`,
    [sessionId, count, authorIds, deletedEvery],
  )
  await pool.query(
    'update chat_sessions set last_seq = $2::int, message_count = $2::int, last_activity_at = now() where id = $1',
    [sessionId, count],
  )
}
