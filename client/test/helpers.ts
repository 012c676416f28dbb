// Clients of @insurge/client for tests, logged in on a real server (Node 20: `ws` is the WebSocket).
import {
  createClient,
  type InsurgeClient,
  type Message,
  type RoomOptions,
  type WebSocketConstructor,
} from '@insurge/client'
import { WebSocket } from 'ws'
import type { TestUser } from '../../test/helpers/app.js'

export { until } from '../../test/helpers/until.js'

export interface ClientOptionsForTests {
  fetch?: typeof fetch
  tokens?: { access_token: string; refresh_token: string }
  room?: RoomOptions
  WebSocket?: WebSocketConstructor
}

const clients = new Set<InsurgeClient>()

/** A client of `baseUrl` logged in as `user`, with quick reconnects; closed by `closeClients()`. */
export async function clientFor(
  baseUrl: string,
  user?: Pick<TestUser, 'email' | 'password'>,
  options: ClientOptionsForTests = {},
): Promise<InsurgeClient> {
  const client = createClient({
    baseUrl,
    WebSocket,
    reconnect: { baseMs: 50, maxMs: 400, heartbeatMs: 2_000 },
    ...options,
  })
  clients.add(client)
  if (user) await client.login(user.email, user.password)
  return client
}

export function closeClients(): void {
  for (const client of clients) client.close()
  clients.clear()
}

/** The contents of the messages, in the order held. */
export const contents = (messages: readonly Message[]): string[] => messages.map((m) => m.content)

/** Fails unless `messages` are in strictly increasing seq order with no gap. */
export function expectContiguous(messages: readonly Message[]): void {
  for (let i = 1; i < messages.length; i++) {
    const previous = messages[i - 1]?.seq ?? 0
    const seq = messages[i]?.seq ?? 0
    if (seq !== previous + 1) throw new Error(`seq ${seq} follows ${previous}: a gap or a duplicate`)
  }
}

/** A fetch that records `<status> <path>` of every request it makes. */
export function recordingFetch(): { fetch: typeof fetch; log: string[] } {
  const log: string[] = []
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    log.push(`${response.status} ${new URL(String(input)).pathname}`)
    return response
  }
  return { fetch: recording, log }
}
