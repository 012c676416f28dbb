// HTTP load with autocannon from this process (pinned to the load core), with the CPU of the server
// processes and of this process over the same window.
import autocannon from 'autocannon'
import { build } from 'hdr-histogram-js'
import { LOAD_BOTTLENECK_CPU, withCpu } from '../children.js'
import { type Figures, round } from '../report.js'

export interface HttpLoad {
  url: string
  connections: number
  durationS: number
  /** A fixed number of requests instead of a duration: slow requests (logins) are then not cut off. */
  amount?: number
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  /** Chooses each request's path (a random room, a random page). */
  path?: () => string
  timeoutS?: number
}

/**
 * Requests per second (2xx only), latency percentiles in ms, errors, and who was busy. Latency is kept in
 * µs here (autocannon's own histogram rounds to whole milliseconds, too coarse for 5 ms requests).
 */
export async function runHttpLoad(load: HttpLoad, serverPids: number[]): Promise<Figures> {
  const latency = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
  })
  // autocannon ends a run on its next one-second tick and counts `duration` up to that tick: rates and CPU
  // shares are taken over the active span instead, from the first request to the last response.
  const t0 = performance.now()
  let lastResponseAt = t0
  const {
    value: result,
    serverCpu: serverCpuOverWall,
    loadCpu: loadCpuOverWall,
    wallS,
  } = await withCpu(
    serverPids,
    () =>
      new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url: load.url,
            connections: load.connections,
            duration: load.durationS,
            amount: load.amount,
            method: load.method ?? 'GET',
            headers: load.headers,
            body: load.body,
            timeout: load.timeoutS ?? 10,
            requests: load.path
              ? [{ setupRequest: (request) => ({ ...request, path: (load.path as () => string)() }) }]
              : undefined,
          },
          (error, result) => (error ? reject(error) : resolve(result)),
        )
        instance.on('response', (_client, status, _bytes, ms) => {
          lastResponseAt = performance.now()
          if (status >= 200 && status < 300) latency.recordValue(Math.max(1, Math.round(ms * 1000)))
        })
      }),
  )
  const activeS = Math.max(0.001, (lastResponseAt - t0) / 1000)
  const serverCpu = (serverCpuOverWall * wallS) / activeS
  const loadCpu = (loadCpuOverWall * wallS) / activeS
  return {
    rps: round(result['2xx'] / activeS),
    p50_ms: round(latency.getValueAtPercentile(50) / 1000),
    p99_ms: round(latency.getValueAtPercentile(99) / 1000),
    non2xx: result.non2xx,
    errors: result.errors,
    server_cpu: round(serverCpu),
    load_cpu: round(loadCpu),
    load_bottleneck: loadCpu >= LOAD_BOTTLENECK_CPU,
  }
}

/** A short load whose figures are thrown away: JIT, pools and caches warm before measuring. */
export async function warmUp(load: HttpLoad, seconds: number): Promise<void> {
  if (seconds > 0) await runHttpLoad({ ...load, durationS: seconds, amount: undefined }, [])
}
