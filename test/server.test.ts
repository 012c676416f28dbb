// The process entry as an operator runs it: `tsx src/server.ts` with its configuration in the environment.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, test } from 'vitest'
import WebSocket from 'ws'
import { API } from './helpers/app.js'
import { createTestDatabase } from './helpers/database.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx')
const started = new Set<ChildProcess>()
const tempDirs: string[] = []

interface Running {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts the server with only PATH and `env`. Variables a stray .env could set are given explicitly (an empty
 * value counts as unset), because dotenv never overrides a variable already in the environment.
 */
function startServer(env: Record<string, string>, entry: string[] = [TSX, 'src/server.ts']): Running {
  const [command = TSX, ...args] = entry
  const child = spawn(command, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: '',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      ALLOWED_ORIGINS: '',
      HOST: '127.0.0.1',
      ...env,
    },
    // Its own process group: tsx runs the server in a child process, and cleanup must reach both.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8')
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      started.delete(child)
      resolve({ code, signal })
    })
  })
  return { child, stdout: () => stdout, stderr: () => stderr, exited }
}

/** Resolves with the exit, or with 'timeout' after ms. */
async function exitWithin(server: Running, ms: number) {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms)
  })
  try {
    return await Promise.race([server.exited, timeout])
  } finally {
    clearTimeout(timer)
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (!address || typeof address === 'string') throw new Error('no TCP port')
  return address.port
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'insurge-server-test-'))
  tempDirs.push(dir)
  return dir
}

afterAll(() => {
  for (const child of started) killGroup(child)
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
})

test('PORT=abc: exits non-zero with one line naming PORT', async () => {
  const server = startServer({ PORT: 'abc', DATABASE_URL: `pglite://${tempDir()}/data` })
  try {
    const exit = await exitWithin(server, 20_000)
    expect(exit).not.toBe('timeout')
    expect(exit).not.toMatchObject({ code: 0 })
    const lines = server.stderr().trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/\bPORT\b/)
  } finally {
    killGroup(server.child)
  }
})

test('ENVIRONMENT=production without SECRET_KEY: exits non-zero naming SECRET_KEY', async () => {
  const server = startServer({
    ENVIRONMENT: 'production',
    SECRET_KEY: '',
    DEBUG: 'false',
    DATABASE_URL: `pglite://${tempDir()}/data`,
  })
  try {
    const exit = await exitWithin(server, 20_000)
    expect(exit).not.toBe('timeout')
    expect(exit).not.toMatchObject({ code: 0 })
    const lines = server.stderr().trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/\bSECRET_KEY\b/)
  } finally {
    killGroup(server.child)
  }
})

test('starts on a fresh data directory, keeps query strings out of the logs, and stops cleanly on SIGTERM', async () => {
  const port = await freePort()
  const server = startServer({
    DATABASE_URL: `pglite://${tempDir()}/data`,
    PORT: String(port),
    DEBUG: 'false',
    LOG_LEVEL: 'info',
    ENVIRONMENT: 'development',
    SECRET_KEY: 'server-test-secret-key-that-is-long-enough',
  })
  const base = `http://127.0.0.1:${port}`
  try {
    const health = await waitUntilUp(server, base)
    expect(health?.status, `stderr: ${server.stderr()}`).toBe(200)
    expect(await health?.json()).toMatchObject({ database: 'ok', redis: 'disabled', ai: 'disabled' })

    const refreshed = await fetch(`${base}${API}/auth/refresh?refresh_token=SECRETVALUE`, { method: 'POST' })
    expect(refreshed.status).toBe(401)
    // Wait for the request to be logged, then check that the token is not in the logs.
    const logDeadline = Date.now() + 5000
    while (Date.now() < logDeadline && !server.stdout().includes(`${API}/auth/refresh`)) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(server.stdout()).toContain(`${API}/auth/refresh`)
    expect(server.stdout()).not.toContain('SECRETVALUE')
    expect(server.stderr()).not.toContain('SECRETVALUE')

    server.child.kill('SIGTERM')
    const exit = await exitWithin(server, 10_000)
    expect(exit).toEqual({ code: 0, signal: null })
  } finally {
    killGroup(server.child)
  }
}, 150_000)

/**
 * Polls /health until it answers 200, or the process exits, or 90 s pass. A fresh PGlite data directory
 * plus tsx's first compile takes a few seconds alone, and past 30 s under CI's full parallel load.
 */
async function waitUntilUp(server: Running, base: string): Promise<Response | undefined> {
  const deadline = Date.now() + 90_000
  let health: Response | undefined
  while (Date.now() < deadline && server.child.exitCode === null) {
    health = await fetch(`${base}/health`).catch(() => undefined)
    if (health?.status === 200) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return health
}

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

/** Opens a socket, waits for its greeting, closes it. */
async function greet(url: string): Promise<string> {
  const ws = new WebSocket(url)
  const greeting = await new Promise<string>((resolve, reject) => {
    ws.once('message', (data) => resolve(data.toString()))
    ws.once('error', reject)
    ws.once('close', (code) => reject(new Error(`closed ${code}`)))
  })
  ws.close()
  return greeting
}

test('a full session at the most verbose log level leaves no password, token, ticket or secret in the logs', async () => {
  const port = await freePort()
  const secret = `log-test-secret-${'s'.repeat(40)}`
  const server = startServer({
    DATABASE_URL: `pglite://${tempDir()}/data`,
    PORT: String(port),
    DEBUG: 'false',
    LOG_LEVEL: 'trace',
    SECRET_KEY: secret,
    BCRYPT_ROUNDS: '4',
  })
  const base = `http://127.0.0.1:${port}`
  try {
    expect((await waitUntilUp(server, base))?.status, `stderr: ${server.stderr()}`).toBe(200)
    const password = 'a-distinctive-password-123'
    const email = 'logs@example.com'
    expect(
      (await fetch(`${base}${API}/auth/register`, json({ email, username: 'logs', password }))).status,
    ).toBe(201)
    const pair = (await (await fetch(`${base}${API}/auth/login`, json({ email, password }))).json()) as {
      access_token: string
      refresh_token: string
    }
    const rotated = (await (
      await fetch(`${base}${API}/auth/refresh?refresh_token=${encodeURIComponent(pair.refresh_token)}`, {
        method: 'POST',
      })
    ).json()) as { access_token: string; refresh_token: string }
    const auth = { authorization: `Bearer ${rotated.access_token}` }
    const room = (await (
      await fetch(`${base}${API}/chat/sessions`, {
        ...json({ title: 'Logs' }),
        headers: { ...json({}).headers, ...auth },
      })
    ).json()) as { id: number }
    const { ticket } = (await (
      await fetch(`${base}${API}/auth/ws-ticket`, { method: 'POST', headers: auth })
    ).json()) as {
      ticket: string
    }
    const wsBase = `ws://127.0.0.1:${port}/ws`
    expect(await greet(`${wsBase}?token=${rotated.access_token}&session_id=${room.id}`)).toContain(
      'Connected',
    )
    expect(await greet(`${wsBase}?ticket=${ticket}`)).toContain('Connected')
    await fetch(`${base}${API}/auth/logout`, json({ refresh_token: rotated.refresh_token }))
    await new Promise((resolve) => setTimeout(resolve, 300))

    const logs = server.stdout() + server.stderr()
    expect(logs).toContain(`${API}/auth/login`) // the log did record the session
    for (const value of [
      password,
      pair.access_token,
      pair.refresh_token,
      rotated.access_token,
      rotated.refresh_token,
      ticket,
      secret,
    ]) {
      expect(logs).not.toContain(value)
    }
    server.child.kill('SIGTERM')
    expect(await exitWithin(server, 10_000)).toEqual({ code: 0, signal: null })
  } finally {
    killGroup(server.child)
  }
}, 150_000)

// The production start-up path of the Docker image, on PostgreSQL and Redis (CI always has both).
describe.runIf(!!process.env.TEST_DATABASE_URL && !!process.env.TEST_REDIS_URL)(
  'npm run build && node dist/server.js',
  () => {
    test('serves in production mode on PostgreSQL + Redis and stops cleanly', async () => {
      const build = spawn('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'pipe' })
      let buildOutput = ''
      build.stdout?.on('data', (chunk: Buffer) => {
        buildOutput += chunk.toString()
      })
      build.stderr?.on('data', (chunk: Buffer) => {
        buildOutput += chunk.toString()
      })
      const built = await new Promise<number | null>((resolve) => build.on('exit', resolve))
      expect(built, buildOutput).toBe(0)

      const database = await createTestDatabase('postgres')
      const port = await freePort()
      const server = startServer(
        {
          ENVIRONMENT: 'production',
          DEBUG: 'false',
          SECRET_KEY: 'p'.repeat(64),
          DATABASE_URL: database.url,
          REDIS_URL: process.env.TEST_REDIS_URL ?? '',
          REDIS_KEY_PREFIX: `dist-${port}`,
          PORT: String(port),
          LOG_LEVEL: 'warn',
        },
        ['node', 'dist/server.js'],
      )
      const base = `http://127.0.0.1:${port}`
      try {
        const health = await waitUntilUp(server, base)
        expect(health?.status, `stderr: ${server.stderr()}`).toBe(200)
        expect(await health?.json()).toMatchObject({ environment: 'production', database: 'ok', redis: 'ok' })
        expect((await fetch(`${base}/ready`)).status).toBe(200)
        const register = await fetch(
          `${base}${API}/auth/register`,
          json({ email: 'dist@example.com', username: 'dist', password: 'password-123' }),
        )
        expect(register.status).toBe(201)
        // Production answers never carry a stack trace.
        const broken = await fetch(`${base}${API}/auth/login`, { ...json({}), body: '{"email":' })
        expect(await broken.text()).not.toMatch(/at .*\.js:\d+/)
        server.child.kill('SIGTERM')
        expect(await exitWithin(server, 10_000)).toEqual({ code: 0, signal: null })
      } finally {
        killGroup(server.child)
        await database.drop()
      }
    }, 180_000)
  },
)
