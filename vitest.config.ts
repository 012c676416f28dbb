import { defineConfig } from 'vitest/config'

// The suite runs on PGlite always, and a second time on PostgreSQL when TEST_DATABASE_URL is set.
const databases = ['pglite', ...(process.env.TEST_DATABASE_URL ? ['postgres'] : [])]
// Files that use no database run once, in the PGlite project.
const DATABASE_FREE = [
  'test/config.test.ts',
  'test/server.test.ts',
  'test/chat/permissions.test.ts',
  'test/realtime/sequencer.test.ts',
  'test/realtime/setups.test.ts',
  'test/realtime/replay.test.ts',
  'test/db/prepared.test.ts',
  'test/ai/slots.test.ts',
  'test/deploy-files.test.ts',
  'client/test/generated.test.ts',
  'test/web.test.ts',
  // The browser tests run once, on PGlite as `npm start` does (the server paths under them run on both).
  'web/test/e2e.test.ts',
]

export default defineConfig({
  // Workspace packages are tested from their TypeScript source (the `source` export condition), ahead
  // of Vite's own defaults.
  resolve: { conditions: ['source', 'module', 'browser', 'development|production'] },
  ssr: { resolve: { conditions: ['source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['test/**/*.test.ts', 'client/test/**/*.test.ts', 'web/test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The suite mostly waits on sockets, timers and the database: on a 2-core machine Vitest's default
    // (cores - 1 = one file at a time) leaves a core idle and doubles the run. Four at once was no faster
    // from a clean clone (713 s against 708 s: compiling each file's imports is most of it) and made
    // every test slower, so three.
    maxWorkers: 3,
    projects: databases.map((db) => ({
      extends: true,
      test: { name: db, env: { TEST_DB_KIND: db }, exclude: db === 'pglite' ? [] : DATABASE_FREE },
    })),
  },
})
