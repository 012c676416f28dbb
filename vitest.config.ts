import { defineConfig } from 'vitest/config'

// The suite runs on PGlite always, and a second time on PostgreSQL when TEST_DATABASE_URL is set.
const databases = ['pglite', ...(process.env.TEST_DATABASE_URL ? ['postgres'] : [])]

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: databases.map((db) => ({
      extends: true,
      test: { name: db, env: { TEST_DB_KIND: db } },
    })),
  },
})
