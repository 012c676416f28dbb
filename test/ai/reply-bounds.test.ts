// How big and how chatty a reply can get (DESIGN.md sections 9 and 10): a model that ignores max_tokens
// is cut at AI_MAX_REPLY_CHARS and what it wrote is stored; pieces reach the room at most every 50 ms,
// each with its offset, and add up to the stored reply.
import { afterAll, beforeAll, expect, test } from 'vitest'
import { DELTA_INTERVAL_MS } from '../../src/ai/reply-text.js'
import { API, closeAppWithModel, startAppWithModel, type TestApi } from '../helpers/app.js'
import { roomWithRoles, send } from '../helpers/chat.js'
import { type FakeOpenAI, floodText } from '../helpers/fake-openai.js'
import { until } from '../helpers/until.js'
import { type Frame, socketsClosedAfterEach } from '../helpers/ws.js'

/** Only failures wait this long. */
const WAIT_MS = 20_000
const MAX_REPLY_CHARS = 5000

let fake: FakeOpenAI
let api: TestApi
beforeAll(async () => {
  ;({ api, fake } = await startAppWithModel({ AI_MAX_REPLY_CHARS: String(MAX_REPLY_CHARS) }))
})
afterAll(() => closeAppWithModel({ api, fake }))

const { online } = socketsClosedAfterEach(() => api)

/**
 * Asks the assistant in a fresh room and follows the reply on a socket: its ai_delta frames, the stored
 * reply, and how long it took from the question to the stored reply (at least the generation's length).
 */
async function askAndFollow(question: string) {
  const room = await roomWithRoles(api, 'public')
  const socket = await online(room.owner, room.id)
  const asked = performance.now()
  const message = await send(api, room.id, room.member, question)
  const reply = await socket.next(
    (f) => f.type === 'chat_message' && f.role === 'assistant' && f.reply_to === message.id,
    WAIT_MS,
  )
  const elapsedMs = performance.now() - asked
  const deltas = socket.frames.filter((f) => f.type === 'ai_delta' && f.reply_to === message.id)
  const res = await api.get(`${API}/chat/sessions/${room.id}/messages?limit=10`, room.owner.token)
  const stored = ((await res.json()) as Frame[]).filter((m) => m.role === 'assistant')
  return { room, message, reply, deltas, elapsedMs, stored }
}

/** Each delta starts where the ones before it ended: offset = the length of the text before it. */
function expectContiguous(deltas: Frame[]): void {
  let length = 0
  for (const delta of deltas) {
    expect(delta.offset).toBe(length)
    length += (delta.delta as string).length
  }
}

/** The coalescing bound: one piece per interval, plus the first (sent at once) and the last (flushed). */
function expectCoalesced(deltas: Frame[], elapsedMs: number): void {
  expect(deltas.length).toBeLessThanOrEqual(elapsedMs / DELTA_INTERVAL_MS + 3)
}

test('a model that ignores max_tokens is cut at AI_MAX_REPLY_CHARS: exactly that much is stored, streamed in few pieces, and the model is no longer read', async () => {
  fake.mode = { kind: 'flood' }
  const { reply, deltas, elapsedMs, stored } = await askAndFollow('@assistant say everything')

  expect(reply.content).toBe(floodText(MAX_REPLY_CHARS))
  expect(stored.map((m) => m.content)).toEqual([floodText(MAX_REPLY_CHARS)])
  expect(deltas.map((d) => d.delta).join('')).toBe(reply.content)
  expectContiguous(deltas)
  // The flood came as 2,500 chunks of two characters.
  expectCoalesced(deltas, elapsedMs)
  // The request to the model was closed: the rest of the five million characters is never read.
  await until(() => fake.inFlight === 0, 'the request to the model is closed', WAIT_MS)
})

test('a short reply arrives whole: its pieces, with their offsets, add up to the stored reply', async () => {
  const text = 'A short and complete answer, as most of them are.'
  fake.mode = { kind: 'answer', reply: text, chunkSize: 3 }
  const { reply, deltas, stored } = await askAndFollow('@assistant a short one')

  expect(reply.content).toBe(text)
  expect(stored.map((m) => m.content)).toEqual([text])
  expect(deltas.length).toBeGreaterThan(0)
  for (const delta of deltas) {
    expect(Object.keys(delta).sort()).toEqual(['delta', 'offset', 'reply_to', 'session_id', 'type'])
  }
  expect(deltas.map((d) => d.delta).join('')).toBe(text)
  expectContiguous(deltas)
})

test('a reply streamed over several intervals comes in several pieces, no more than one per interval', async () => {
  // 40 chunks 20 ms apart: about 800 ms of writing.
  const text = Array.from({ length: 40 }, (_, i) => `w${String(i).padStart(2, '0')} `).join('')
  fake.mode = { kind: 'answer', reply: text, chunkSize: 4, delayMs: 20 }
  const { reply, deltas, elapsedMs } = await askAndFollow('@assistant take your time')

  expect(reply.content).toBe(text)
  expect(deltas.length).toBeGreaterThan(1)
  expect(deltas.map((d) => d.delta).join('')).toBe(text)
  expectContiguous(deltas)
  expectCoalesced(deltas, elapsedMs)
})
