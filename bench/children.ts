// Server processes of the bench: each a Node child pinned to one core with taskset, started with tsx,
// answering commands over IPC. A child exits by itself when this process goes away.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface Child {
  pid: number
  /** What the child said when it was ready (its port, for servers). */
  ready: Record<string, unknown>
  /** Sends a command and waits for its answer. */
  request<T = Record<string, unknown>>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>
  /** CPU seconds (user + system) the child has used so far, from /proc. */
  cpuSeconds(): number
  stop(): Promise<void>
}

export interface ChildOptions {
  core: number
  env?: Record<string, string>
  args?: string[]
  nodeFlags?: string[]
  /** --cpu-prof into this folder. */
  cpuProfileDir?: string
  readyTimeoutMs?: number
}

/** A script of bench/servers, by name: `startChild('insurge', …)`. */
export async function startChild(name: string, options: ChildOptions): Promise<Child> {
  const script = fileURLToPath(new URL(`./servers/${name}.ts`, import.meta.url))
  const flags = [...(options.nodeFlags ?? [])]
  if (options.cpuProfileDir) flags.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`)
  const child = spawn(
    'taskset',
    [
      '-c',
      String(options.core),
      process.execPath,
      ...flags,
      '--import',
      'tsx',
      script,
      ...(options.args ?? []),
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    },
  )
  const pid = child.pid
  if (pid === undefined) throw new Error(`could not start ${name}`)
  const ready = await waitForReady(child, name, options.readyTimeoutMs ?? 60_000)
  let nextId = 1
  const pending = new Map<number, { resolve: (v: never) => void; reject: (e: Error) => void }>()
  child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
    const waiter = message.id === undefined ? undefined : pending.get(message.id)
    if (!waiter || message.id === undefined) return
    pending.delete(message.id)
    if (message.error) waiter.reject(new Error(`${name}: ${message.error}`))
    else waiter.resolve(message.result as never)
  })
  child.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited (${code})`))
    pending.clear()
  })
  return {
    pid,
    ready,
    request<T>(cmd: string, args?: unknown, timeoutMs = 120_000) {
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`${name}: ${cmd} did not answer within ${timeoutMs} ms`))
        }, timeoutMs)
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer)
            resolve(value as T)
          },
          reject: (error) => {
            clearTimeout(timer)
            reject(error)
          },
        })
        child.send({ id, cmd, args })
      })
    },
    cpuSeconds: () => processCpuSeconds(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      // A clean exit writes the --cpu-prof profile; SIGKILL after a grace period bounds the wait.
      child.send({ id: 0, cmd: 'exit' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    },
  }
}

function waitForReady(
  child: ChildProcess,
  name: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${name} was not ready within ${timeoutMs} ms`))
    }, timeoutMs)
    const onMessage = (message: { ready?: Record<string, unknown> }) => {
      if (!message.ready) return
      clearTimeout(timer)
      child.off('message', onMessage)
      resolve(message.ready)
    }
    child.on('message', onMessage)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited before it was ready (${code})`))
    })
  })
}

const CLOCK_TICKS = 100

/** utime + stime of a process (and its threads), in seconds. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return 0
  }
}

/** CPU of this process (the load generator) in seconds. */
export function selfCpuSeconds(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}

/** Measures how busy some processes were over `work`: CPU seconds per wall second, 1.0 = one core. */
export async function withCpu<T>(
  pids: number[],
  work: () => Promise<T>,
): Promise<{ value: T; serverCpu: number; loadCpu: number; wallS: number }> {
  const server0 = pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0)
  const load0 = selfCpuSeconds()
  const t0 = performance.now()
  const value = await work()
  const wallS = (performance.now() - t0) / 1000
  const server = pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0) - server0
  return { value, serverCpu: server / wallS, loadCpu: (selfCpuSeconds() - load0) / wallS, wallS }
}

/** The load generator is the bottleneck when it used nearly all of its core. */
export const LOAD_BOTTLENECK_CPU = 0.9
