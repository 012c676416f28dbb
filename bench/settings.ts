// The bench's knobs: the full settings whose results are committed, or smaller ones (BENCH_QUICK=1) for
// trying a change. The only reader of process.env in bench/.
import os from 'node:os'

const env = process.env
const quick = env.BENCH_QUICK === '1'

export interface Settings {
  quick: boolean
  /** Admin connection: each scenario creates its own database next to it and drops it at the end. */
  adminDatabaseUrl: string
  redisUrl: string
  /** LOG_LEVEL of the Insurge children (default error; `warn` shows sockets dropped as slow). */
  serverLogLevel: string
  /** Start server children with --cpu-prof, writing profiles under this folder. */
  cpuProfileDir: string | undefined
  resultsDir: string
  /** Measured runs per configuration; the median is reported. */
  runs: number
  warmupS: number
  /** Cores of the server (pinned children) and of this process, the load generator. */
  serverCore: number
  loadCore: number
  fanout: { sockets: number; rates: number[]; windowS: number }
  persistedSends: { rooms: number[]; connections: number; windowS: number }
  history: { messages: number; connections: number; windowS: number }
  logins: { concurrency: number[]; windowS: number; rounds: number }
  idleSockets: { sockets: number; usersPerRoom: number }
  sessionList: { rooms: number; small: number; large: number; windowS: number }
  /** Clients resuming at once, the room's stored history, and how many messages each missed. */
  reconnectStorm: { clients: number; history: number; missed: number }
  aiDeltas: { sockets: number }
  fanoutRooms: { rooms: number; perRoom: number; rates: number[]; windowS: number }
}

const int = (name: string, fallback: number) => {
  const value = env[name]
  return value && /^\d+$/.test(value) ? Number(value) : fallback
}

export function loadSettings(): Settings {
  return {
    quick,
    adminDatabaseUrl: env.BENCH_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres',
    redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    serverLogLevel: env.BENCH_SERVER_LOG || 'error',
    cpuProfileDir: env.BENCH_CPU_PROF || undefined,
    resultsDir: env.BENCH_RESULTS_DIR ?? new URL('./results', import.meta.url).pathname,
    runs: int('BENCH_RUNS', quick ? 1 : 3),
    warmupS: quick ? 1 : 3,
    serverCore: 0,
    loadCore: Math.min(1, os.cpus().length - 1),
    fanout: {
      sockets: int('BENCH_FANOUT_SOCKETS', quick ? 200 : 1000),
      rates: quick ? [20] : [20, 50, 100],
      windowS: quick ? 3 : 6,
    },
    persistedSends: { rooms: [1, 10, 1000], connections: 32, windowS: quick ? 3 : 8 },
    history: { messages: quick ? 2_000 : 10_000, connections: 50, windowS: quick ? 3 : 8 },
    logins: { concurrency: quick ? [4] : [2, 4, 8], windowS: quick ? 3 : 8, rounds: 12 },
    idleSockets: { sockets: int('BENCH_IDLE_SOCKETS', quick ? 1000 : 10_000), usersPerRoom: 10 },
    sessionList: { rooms: 100, small: 10, large: quick ? 1_000 : 10_000, windowS: quick ? 2 : 5 },
    fanoutRooms: {
      rooms: 50,
      perRoom: quick ? 20 : 100,
      rates: quick ? [50] : [50, 200],
      windowS: quick ? 3 : 6,
    },
    aiDeltas: { sockets: int('BENCH_AI_SOCKETS', quick ? 200 : 1000) },
    reconnectStorm: { clients: int('BENCH_STORM_CLIENTS', quick ? 200 : 1000), history: 2_000, missed: 50 },
  }
}
