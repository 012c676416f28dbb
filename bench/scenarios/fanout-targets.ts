// One room of N sockets on each kind of server the fan-out scenarios compare: Insurge (one or more
// instances on one Redis), the bare `ws` baseline and the Socket.IO peer; and the measurement they share.
import { randomBytes } from 'node:crypto'
import {
  type BenchDeployment,
  clearRedisPrefix,
  createDeployment,
  seedRooms,
  seedUsers,
} from '../bench-database.js'
import { type Child, startChild } from '../children.js'
import { connectReceivers, connectSender, type Protocol, runFanoutWindow } from '../load/fanout-load.js'
import { type Figures, medianFigures } from '../report.js'
import type { ScenarioContext } from '../scenario.js'

/** A hash nobody logs in with: fan-out users only connect with minted tokens. */
const UNUSED_HASH = '$2b$04$abcdefghijklmnopqrstuuJ0e9JwKJ2pQ1d6k1n7Jm5cYb1YgkB2e'

export interface FanoutTarget {
  name: string
  protocol: Protocol
  children: Child[]
  receiverUrls: string[]
  senderUrl: string
  sessionId: number
  close(): Promise<void>
}

/** Insurge on `instances` processes sharing one PostgreSQL database and one Redis; sockets spread evenly. */
export async function startInsurgeRoom(
  context: ScenarioContext,
  sockets: number,
  instances: number,
): Promise<FanoutTarget> {
  const { settings } = context
  const deployment: BenchDeployment = await createDeployment(settings)
  const children: Child[] = []
  try {
    const [senderId, ...receiverIds] = await seedUsers(deployment.pool, sockets + 1, UNUSED_HASH)
    const [sessionId] = await seedRooms(deployment.pool, [
      { ownerId: senderId as number, memberIds: receiverIds },
    ])
    for (let i = 0; i < instances; i++) {
      children.push(
        await startChild('insurge', {
          core: settings.serverCore,
          env: deployment.env,
          cpuProfileDir: settings.cpuProfileDir,
        }),
      )
    }
    const url = (i: number, userToken: string) =>
      `ws://127.0.0.1:${children[i % instances]?.ready.port}/ws?token=${userToken}&session_id=${sessionId}`
    const receiverUrls = await Promise.all(
      receiverIds.map(async (id, i) => url(i, await deployment.accessToken(id))),
    )
    return {
      name: instances === 1 ? 'insurge' : `insurge x${instances}`,
      protocol: 'insurge',
      children,
      receiverUrls,
      senderUrl: url(0, await deployment.accessToken(senderId as number)),
      sessionId: sessionId as number,
      async close() {
        for (const child of children) await child.stop()
        await deployment.drop()
      },
    }
  } catch (error) {
    for (const child of children) await child.stop()
    await deployment.drop()
    throw error
  }
}

export async function startBareWs(context: ScenarioContext, sockets: number): Promise<FanoutTarget> {
  const child = await startChild('bare-ws', { core: context.settings.serverCore })
  const url = `ws://127.0.0.1:${child.ready.port}/`
  return {
    name: 'bare ws',
    protocol: 'ws',
    children: [child],
    receiverUrls: Array.from({ length: sockets }, () => url),
    senderUrl: url,
    sessionId: 1,
    close: () => child.stop(),
  }
}

export async function startSocketIo(context: ScenarioContext, sockets: number): Promise<FanoutTarget> {
  const prefix = `bench-sio-${randomBytes(5).toString('hex')}`
  const child = await startChild('socketio', {
    core: context.settings.serverCore,
    env: { REDIS_URL: context.settings.redisUrl, REDIS_KEY_PREFIX: prefix },
  })
  const url = `ws://127.0.0.1:${child.ready.port}/socket.io/?EIO=4&transport=websocket`
  return {
    name: 'socket.io + redis adapter',
    protocol: 'socketio',
    children: [child],
    receiverUrls: Array.from({ length: sockets }, () => url),
    senderUrl: url,
    sessionId: 1,
    async close() {
      await child.stop()
      await clearRedisPrefix(context.settings.redisUrl, prefix)
    },
  }
}

/** Per send rate: the median of `runs` windows, after a warm-up window; raw windows in `runs`. */
export interface FanoutMeasurement {
  byRate: Record<number, Figures>
  runs: Figures[]
  connectS: number
}

let nextRun = 1

export async function measureFanout(
  context: ScenarioContext,
  target: FanoutTarget,
): Promise<FanoutMeasurement> {
  const { settings, log } = context
  const { rates, windowS } = settings.fanout
  const t0 = performance.now()
  const receivers = await connectReceivers(target.receiverUrls, target.protocol)
  const sender = await connectSender(target.senderUrl, target.protocol, target.sessionId)
  const connectS = (performance.now() - t0) / 1000
  await receivers.settle(1000, 60_000)
  log(`${target.name}: ${receivers.sockets.length} sockets connected in ${connectS.toFixed(1)} s`)
  const pids = target.children.map((c) => c.pid)
  try {
    const warm = rates[0] ?? 20
    await runFanoutWindow(
      receivers,
      sender,
      { rate: warm, durationS: settings.warmupS, run: nextRun++ },
      pids,
    )
    const runs: Figures[] = []
    const byRate: Record<number, Figures> = {}
    for (const rate of rates) {
      const windows: Figures[] = []
      for (let i = 0; i < settings.runs; i++) {
        const figures = await runFanoutWindow(
          receivers,
          sender,
          { rate, durationS: windowS, run: nextRun++ },
          pids,
        )
        log(
          `${target.name} @${rate}/s: ${figures.deliveries_per_s} deliveries/s, p50 ${figures.p50_ms} ms, p99 ${figures.p99_ms} ms, server cpu ${figures.server_cpu}, load cpu ${figures.load_cpu}`,
        )
        windows.push(figures)
        runs.push({ target: target.name, ...figures })
      }
      byRate[rate] = medianFigures(windows)
    }
    return { byRate, runs, connectS }
  } finally {
    sender.close()
    receivers.close()
  }
}
