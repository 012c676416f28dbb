// More instances of a test deployment, each a real server process (test/helpers/instance-process.ts),
// so that a test can kill one with SIGKILL as a crash. Only meaningful on PostgreSQL (+ Redis).
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { RealtimeLimits } from '../../src/realtime/realtime.js'
import type { TestApi } from './app.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const INSTANCE_SCRIPT = fileURLToPath(new URL('./instance-process.ts', import.meta.url))

export interface Instance {
  url: string
  /** SIGKILL: the process gets no chance to close anything. */
  kill(): Promise<void>
}

export interface InstanceOptions {
  limits?: Partial<RealtimeLimits>
  env?: Record<string, string>
}

/** Another instance of `sibling`'s deployment, in a process of its own; resolves once it listens. */
export async function spawnInstance(sibling: TestApi, options: InstanceOptions = {}): Promise<Instance> {
  const { DATABASE_URL, REDIS_URL, SECRET_KEY, REDIS_KEY_PREFIX } = sibling.config
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', INSTANCE_SCRIPT], {
    cwd: ROOT,
    env: {
      ...process.env,
      INSTANCE_ENV: JSON.stringify({ DATABASE_URL, REDIS_URL, SECRET_KEY, REDIS_KEY_PREFIX, ...options.env }),
      INSTANCE_LIMITS: JSON.stringify(options.limits ?? {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the instance did not start: ${stderr}`)), 30_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
      const line = stdout.split('\n').find((l) => l.startsWith('{"url"'))
      if (!line) return
      clearTimeout(timer)
      resolve((JSON.parse(line) as { url: string }).url)
    })
    void exited.then(() => reject(new Error(`the instance exited: ${stderr}`)))
  })
  return {
    url,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}
