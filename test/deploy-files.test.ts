// No Docker engine runs here: the container files are checked for what the deployment relies on,
// and what they start (node dist/server.js on PostgreSQL + Redis) is tested in server.test.ts.
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, test } from 'vitest'
import { parse } from 'yaml'
import { parseConfig } from '../src/config.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const read = (path: string) => readFileSync(`${root}/${path}`, 'utf8')

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile')
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))

  test('is multi-stage: a build stage, then a runtime stage from a slim Node 20 image', () => {
    const froms = instructions.filter((line) => line.startsWith('FROM '))
    expect(froms).toHaveLength(2)
    expect(froms[0]).toMatch(/^FROM node:20[\w.-]* AS build$/)
    expect(froms[1]).toMatch(/^FROM node:20-[\w.-]*slim$/)
  })

  test('runs as a non-root user, with a healthcheck, the compiled server and the migrations', () => {
    const runtime = instructions.slice(instructions.findLastIndex((line) => line.startsWith('FROM ')))
    expect(runtime).toContain('USER node')
    expect(runtime.some((line) => line.startsWith('HEALTHCHECK ') && line.includes('/health'))).toBe(true)
    expect(runtime).toContain('CMD ["node", "dist/server.js"]')
    expect(runtime.some((line) => line.includes('COPY') && line.includes('migrations ./migrations'))).toBe(
      true,
    )
  })

  test('builds the web app in the build stage and serves it from the runtime image (web/dist)', () => {
    const build = instructions.slice(
      0,
      instructions.findLastIndex((line) => line.startsWith('FROM ')),
    )
    const runtime = instructions.slice(instructions.findLastIndex((line) => line.startsWith('FROM ')))
    // npm ci with workspaces needs each workspace's package.json before it runs.
    for (const manifest of ['client/package.json', 'web/package.json']) {
      expect(build.some((line) => line.startsWith('COPY ') && line.includes(manifest))).toBe(true)
    }
    expect(build.some((line) => line.startsWith('RUN ') && line.includes('npm run build:web'))).toBe(true)
    expect(runtime.some((line) => line.includes('/app/web/dist ./web/dist'))).toBe(true)
    expect(read('.dockerignore').split('\n')).toContain('web/dist')
  })

  test('installs from the lockfile without running install scripts', () => {
    expect(dockerfile).toMatch(/npm ci --ignore-scripts/)
  })

  test('copies only what exists and what .dockerignore does not hide', () => {
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
      'migrations',
      'client',
      'web',
      'scripts/build-web.ts',
    ]) {
      expect(existsSync(`${root}/${path}`)).toBe(true)
    }
    const ignored = read('.dockerignore').split('\n')
    for (const needed of ['src', 'migrations', 'package.json', 'client', 'web', 'scripts']) {
      expect(ignored).not.toContain(needed)
    }
    for (const hidden of ['node_modules', '.env', 'data']) expect(ignored).toContain(hidden)
  })
})

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<string, Record<string, unknown>>
    volumes: Record<string, unknown>
  }

  test('runs the app with PostgreSQL and Redis, started once they are healthy', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'postgres', 'redis'])
    const app = compose.services.app as { depends_on: Record<string, { condition: string }>; build: string }
    expect(app.build).toBe('.')
    expect(app.depends_on.postgres?.condition).toBe('service_healthy')
    expect(app.depends_on.redis?.condition).toBe('service_healthy')
    expect(compose.services.postgres?.healthcheck).toBeDefined()
    expect(compose.services.redis?.healthcheck).toBeDefined()
  })

  test('keeps the database in a volume', () => {
    expect(compose.services.postgres?.volumes).toEqual(['postgres-data:/var/lib/postgresql/data'])
    expect(Object.keys(compose.volumes)).toEqual(['postgres-data'])
  })

  test('configures the app for production on those services, and demands a SECRET_KEY', () => {
    const env = compose.services.app?.environment as Record<string, string>
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/insurge:.*@postgres:5432\/insurge$/)
    expect(env.REDIS_URL).toBe('redis://redis:6379')
    expect(env.DEBUG).toBe('false')
    expect(env.SECRET_KEY).toMatch(/^\$\{SECRET_KEY:\?/)
  })
})

test('.env.example lists every configuration variable, and its values parse', () => {
  const example = read('.env.example')
  const names = [...example.matchAll(/^#?\s*([A-Z_]+)=/gm)].map((m) => m[1])
  const defaults = parseConfig({})
  for (const name of Object.keys(defaults)) expect(names).toContain(name)
  for (const optional of ['REDIS_URL', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'AI_SYSTEM_PROMPT']) {
    expect(names).toContain(optional)
  }
  const values = Object.fromEntries([...example.matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]))
  expect(() => parseConfig(values)).not.toThrow()
})
