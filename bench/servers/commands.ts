// The child side of bench/children.ts: announce readiness, answer commands, exit with the parent.
import { monitorEventLoopDelay } from 'node:perf_hooks'

type Handler = (args: unknown) => unknown

export function serveCommands(ready: Record<string, unknown>, handlers: Record<string, Handler>): void {
  const send = (message: unknown) => process.send?.(message)
  process.on('message', async (message: { id: number; cmd: string; args?: unknown }) => {
    if (message.cmd === 'exit') {
      await handlers.close?.(undefined)
      process.exit(0)
    }
    const handler = handlers[message.cmd]
    try {
      if (!handler) throw new Error(`unknown command ${message.cmd}`)
      send({ id: message.id, result: (await handler(message.args)) ?? null })
    } catch (error) {
      send({ id: message.id, error: String((error as Error)?.stack ?? error) })
    }
  })
  // The bench went away (finished, crashed or was stopped): a server must not outlive it.
  process.on('disconnect', () => process.exit(0))
  send({ ready })
}

/** What every server child can report: memory after a full GC (needs --expose-gc), and usage now. */
export function memoryHandlers(): Record<string, Handler> {
  return {
    memory: () => {
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
      return { rss, heapUsed, heapTotal, external, arrayBuffers }
    },
    gc: async () => {
      const gc = (globalThis as { gc?: () => void }).gc
      if (!gc) throw new Error('start the child with --expose-gc')
      for (let i = 0; i < 3; i++) {
        gc()
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage()
      return { rss, heapUsed, heapTotal, external, arrayBuffers }
    },
  }
}

/** Event-loop delay inside the child, between `lagReset` and `lagRead` (perf_hooks, 10 ms resolution). */
export function lagHandlers(): Record<string, Handler> {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  const ms = (ns: number) => Math.round(ns / 1e4) / 100
  return {
    lagReset: () => histogram.reset(),
    lagRead: () => ({
      lag_p50_ms: ms(histogram.percentile(50)),
      lag_p99_ms: ms(histogram.percentile(99)),
      lag_max_ms: ms(histogram.max),
      lag_mean_ms: ms(histogram.mean),
    }),
  }
}
