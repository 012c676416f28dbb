// A reply in progress is resumable (DESIGN section 10): a socket that starts following a room while the
// assistant writes gets, after its replay, `ai_start` and the text so far at offset 0, then the live
// pieces; GET …/assistant/replies lists the replies being written. On PostgreSQL + Redis, the text so far
// lives in Redis and a socket on another instance than the writer's gets it too.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import {
  API,
  closeAppWithModel,
  startAppWithModel,
  startTestApp,
  type TestApi,
  type TestUser,
} from '../helpers/app.js'
import { roomWithRoles, send, titledRoom } from '../helpers/chat.js'
import type { FakeOpenAI } from '../helpers/fake-openai.js'
import { type Frame, socketsClosedAfterEach, type TestSocket } from '../helpers/ws.js'

const onPostgresAndRedis = process.env.TEST_DB_KIND === 'postgres' && !!process.env.TEST_REDIS_URL

/** Only failures wait this long (frames may cross Redis). */
const WAIT_MS = 15_000
/** About 3 s of writing: 100 chunks of 4 characters, one every 30 ms. */
const REPLY = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ')
const SLOWLY = { kind: 'answer', reply: REPLY, chunkSize: 4, delayMs: 30 } as const

const roomPath = (id: number, rest = '') => `${API}/chat/sessions/${id}${rest}`

let fake: FakeOpenAI
let api: TestApi
beforeAll(async () => {
  ;({ api, fake } = await startAppWithModel())
})
afterAll(() => closeAppWithModel({ api, fake }))
afterEach(() => {
  fake.mode = SLOWLY
})
const sockets = socketsClosedAfterEach(() => api)

/** The frames of the reply to `replyTo`: ai_* and the stored reply, in the order received. */
const replyFrames = (socket: TestSocket, replyTo: number): Frame[] =>
  socket.frames.filter(
    (f) =>
      f.reply_to === replyTo &&
      (String(f.type).startsWith('ai_') || (f.type === 'chat_message' && f.role === 'assistant')),
  )

const storedReply = (socket: TestSocket, replyTo: number) =>
  socket.next((f) => f.type === 'chat_message' && f.role === 'assistant' && f.reply_to === replyTo, WAIT_MS)

/** Waits until `socket` has seen at least `chars` of the reply written: the reply is well under way. */
const underWay = (socket: TestSocket, replyTo: number, chars = 40) =>
  socket.next(
    (f) => f.type === 'ai_delta' && f.reply_to === replyTo && f.offset + f.delta.length >= chars,
    WAIT_MS,
  )

/**
 * The reply as a client assembles it from the ai_delta frames, by offset; fails on a gap (a piece whose
 * offset is past what is held) and on a piece that contradicts what is held.
 */
function assemble(frames: Frame[]): string {
  let text = ''
  for (const f of frames.filter((frame) => frame.type === 'ai_delta')) {
    if (f.offset > text.length) throw new Error(`a gap: a piece at ${f.offset}, ${text.length} held`)
    const overlap = text.slice(f.offset, f.offset + f.delta.length)
    if (!f.delta.startsWith(overlap)) throw new Error(`a piece at ${f.offset} contradicts the text held`)
    if (f.offset + f.delta.length > text.length) text = text.slice(0, f.offset) + f.delta
  }
  return text
}

/**
 * What a socket that started following mid-reply must see of it: ai_start once, then the text so far at
 * offset 0, then the live pieces, assembling to exactly the stored reply, which comes last.
 */
function expectResumed(seen: Frame[], sessionId: number, replyTo: number, reply: string): void {
  expect(seen[0]).toEqual({ type: 'ai_start', session_id: sessionId, reply_to: replyTo })
  expect(seen.filter((f) => f.type === 'ai_start')).toHaveLength(1)
  const soFar = seen[1]
  expect(soFar).toMatchObject({ type: 'ai_delta', session_id: sessionId, reply_to: replyTo, offset: 0 })
  expect(soFar?.delta.length).toBeGreaterThanOrEqual(40)
  expect(reply.startsWith(soFar?.delta)).toBe(true)
  expect(seen.slice(1, -1).every((f) => f.type === 'ai_delta')).toBe(true)
  expect(seen.at(-1)).toMatchObject({ type: 'chat_message', content: reply })
  expect(assemble(seen)).toBe(reply)
}

async function repliesOf(target: TestApi, roomId: number, user: TestUser) {
  const res = await target.get(roomPath(roomId, '/assistant/replies'), user.token)
  expect(res.status).toBe(200)
  return (await res.json()) as Frame[]
}

describe('a socket that starts following a room mid-reply', () => {
  test('by a subscribe frame: ai_start and the text so far at offset 0, then the rest, exactly the stored reply', async () => {
    fake.mode = SLOWLY
    const room = await titledRoom(api, 'private')
    const watcher = await sockets.online(room.owner, room.id)
    const question = await send(api, room.id, room.owner, 'a long answer, please')
    await underWay(watcher, question.id)

    const late = await sockets.online(room.owner)
    late.send({ type: 'subscribe', session_id: room.id })
    const stored = await storedReply(late, question.id)
    expect(stored.content).toBe(REPLY)

    const seen = replyFrames(late, question.id)
    expectResumed(seen, room.id, question.id, REPLY)
    // The text so far comes after the subscription's greeting.
    const greeting = late.frames.findIndex((f) => f.type === 'system_message' && f.session_id === room.id)
    expect(late.frames.indexOf(seen[0] as Frame)).toBeGreaterThan(greeting)
  })

  test('by connecting with after_seq: the stored messages it missed, then the text so far, then the live pieces', async () => {
    fake.mode = SLOWLY
    const room = await titledRoom(api, 'invite_only')
    const watcher = await sockets.online(room.owner, room.id)
    const before = await send(api, room.id, room.member, 'an earlier message')
    const question = await send(api, room.id, room.member, '@assistant a long answer, please')
    await underWay(watcher, question.id)
    const during = await send(api, room.id, room.admin, 'said while it writes')

    const late = await sockets.online(room.viewer, room.id, { afterSeq: before.seq - 1 })
    await storedReply(late, question.id)

    const missed = late.frames.filter((f) => f.type === 'chat_message' && f.role === 'user')
    expect(missed.map((f) => f.id)).toEqual([before.id, question.id, during.id])
    const seen = replyFrames(late, question.id)
    expectResumed(seen, room.id, question.id, REPLY)
    const at = (frame: Frame | undefined) => late.frames.indexOf(frame as Frame)
    expect(at(seen[0])).toBeGreaterThan(at(missed.at(-1)))
  })

  test('a reply not yet written is announced by ai_start alone; its pieces all come live', async () => {
    fake.mode = { kind: 'hang' }
    const room = await titledRoom(api, 'private')
    const question = await send(api, room.id, room.owner, 'anyone there?')
    await expect.poll(() => repliesOf(api, room.id, room.owner), { timeout: WAIT_MS }).toHaveLength(1)

    const late = await sockets.online(room.owner, room.id)
    await late.nextOf('ai_start', room.id)
    late.send({ type: 'ai_stop', session_id: room.id })
    const failed = await late.next((f) => f.type === 'ai_error' && f.reply_to === question.id, WAIT_MS)
    expect(failed.detail).toMatch(/Stopped/)
    expect(replyFrames(late, question.id).map((f) => f.type)).toEqual(['ai_start', 'ai_error'])
  })
})

describe('GET /chat/sessions/{id}/assistant/replies', () => {
  test('lists the reply being written with its text so far, for any participant; empty once stored', async () => {
    fake.mode = SLOWLY
    const room = await roomWithRoles(api, 'invite_only')
    expect(await repliesOf(api, room.id, room.viewer)).toEqual([])
    const watcher = await sockets.online(room.owner, room.id)
    const startedAfter = Date.now()
    const question = await send(api, room.id, room.member, '@assistant a long answer, please')
    await underWay(watcher, question.id)

    const [listed] = await repliesOf(api, room.id, room.viewer)
    expect(Object.keys(listed ?? {}).sort()).toEqual(['reply_to', 'started_at', 'text'])
    expect(listed?.reply_to).toBe(question.id)
    expect(listed?.text.length).toBeGreaterThanOrEqual(40)
    expect(REPLY.startsWith(listed?.text)).toBe(true)
    expect(listed?.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(Date.parse(listed?.started_at)).toBeGreaterThanOrEqual(startedAfter - 1000)
    expect(Date.parse(listed?.started_at)).toBeLessThanOrEqual(Date.now())

    await storedReply(watcher, question.id)
    expect(await repliesOf(api, room.id, room.owner)).toEqual([])
  })

  test.each(['invite_only', 'private', 'public'] as const)(
    'in a %s room, someone not in it gets what reading its messages answers',
    async (type) => {
      const room = await roomWithRoles(api, type)
      const messages = await api.get(roomPath(room.id, '/messages'), room.outsider.token)
      const replies = await api.get(roomPath(room.id, '/assistant/replies'), room.outsider.token)
      expect(replies.status).toBe(type === 'public' ? 403 : 404)
      expect(replies.status).toBe(messages.status)
      expect(await replies.json()).toEqual(await messages.json())
    },
  )

  test('without a token: 401; an unknown room: 404', async () => {
    const user = await api.signUp()
    expect((await api.get(roomPath(1, '/assistant/replies'))).status).toBe(401)
    expect((await api.get(roomPath(2_000_000_000, '/assistant/replies'), user.token)).status).toBe(404)
  })
})

describe.runIf(onPostgresAndRedis)('two instances on one Redis', () => {
  let b: TestApi
  beforeAll(async () => {
    b = await startTestApp({ instanceOf: api, env: { OPENAI_BASE_URL: fake.baseUrl } })
  })
  afterAll(async () => {
    await b?.close()
  })

  test('a reply written on A: a socket on B that subscribes mid-reply gets the text so far and the rest', async () => {
    fake.mode = SLOWLY
    const room = await titledRoom(api, 'private')
    const onA = await sockets.online(room.owner, room.id)
    // Stored by A, so written by A.
    const question = await send(api, room.id, room.owner, 'a long answer, please')
    await underWay(onA, question.id)
    const [listed] = await repliesOf(b, room.id, room.owner)
    expect(listed?.reply_to).toBe(question.id)
    expect(REPLY.startsWith(listed?.text)).toBe(true)

    const onB = await sockets.online(room.owner, undefined, { api: b })
    onB.send({ type: 'subscribe', session_id: room.id })
    await storedReply(onB, question.id)
    expectResumed(replyFrames(onB, question.id), room.id, question.id, REPLY)
    // Its entry went when the reply was stored.
    expect(await repliesOf(b, room.id, room.owner)).toEqual([])
  })

  test('a reply that fails: its entry goes with the ai_error, on both instances', async () => {
    fake.mode = { kind: 'hang' }
    const room = await titledRoom(api, 'private')
    const question = await send(api, room.id, room.owner, 'anyone there?')
    await expect
      .poll(() => repliesOf(b, room.id, room.owner), { timeout: WAIT_MS })
      .toEqual([expect.objectContaining({ reply_to: question.id, text: '' })])

    const onB = await sockets.online(room.owner, room.id, { api: b, timeoutMs: WAIT_MS })
    await onB.nextOf('ai_start', room.id, WAIT_MS)
    // A stop asked on B reaches A, which writes the reply: nothing was written, so it fails.
    onB.send({ type: 'ai_stop', session_id: room.id })
    await onB.next((f) => f.type === 'ai_error' && f.reply_to === question.id, WAIT_MS)
    expect(await repliesOf(b, room.id, room.owner)).toEqual([])
    expect(await repliesOf(api, room.id, room.owner)).toEqual([])
  })
})
