// The assistant across two instances of one deployment (DESIGN.md sections 6 and 8): exactly one instance
// (the one that stored the question) asks the model, every instance's sockets see the stream and the reply,
// and an ai_stop reaches the generation wherever it runs. Only meaningful on PostgreSQL + Redis.
import { randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestUser } from '../helpers/app.js'
import { roomWithRoles, send } from '../helpers/chat.js'
import { type FakeOpenAI, startFakeOpenAI } from '../helpers/fake-openai.js'
import { connect, type Frame, type TestSocket } from '../helpers/ws.js'

const onPostgresAndRedis = process.env.TEST_DB_KIND === 'postgres' && !!process.env.TEST_REDIS_URL

/** Frames cross Redis; only failures wait this long. */
const WAIT_MS = 15_000
/** Long enough for a second answer, or a duplicate frame, to show up. */
const QUIET_MS = 600
const REPLY = 'One instance answers, every instance hears it.'
const LONG_REPLY = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ')

const roomPath = (id: number, rest = '') => `${API}/chat/sessions/${id}${rest}`

describe.runIf(onPostgresAndRedis)('two instances, one deployment', () => {
  let fake: FakeOpenAI
  let a: TestApi
  let b: TestApi
  beforeAll(async () => {
    fake = await startFakeOpenAI()
    a = await startTestApp({ env: { OPENAI_BASE_URL: fake.baseUrl } })
    b = await startTestApp({ instanceOf: a, env: { OPENAI_BASE_URL: fake.baseUrl } })
  })
  afterAll(async () => {
    await b?.close()
    await a?.close()
    await fake?.close()
  })

  const opened: TestSocket[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((socket) => socket.close()))
  })

  async function follow(target: TestApi, user: TestUser, roomId: number): Promise<TestSocket> {
    const socket = await connect(target, { token: user.token, sessionId: roomId })
    opened.push(socket)
    await socket.nextOf('system_message', roomId, WAIT_MS)
    return socket
  }

  async function titledRoom() {
    const room = await roomWithRoles(a, 'public')
    const title = `Room ${randomBytes(4).toString('hex')}`
    const res = await a.put(roomPath(room.id), { title }, room.owner.token)
    expect(res.status).toBe(200)
    return { ...room, title }
  }

  const requestsFor = (title: string) => fake.requests.filter((r) => r.messages[0]?.content.includes(title))

  const replyTo = (socket: TestSocket, messageId: number) =>
    socket.next(
      (f) => f.type === 'chat_message' && f.role === 'assistant' && f.reply_to === messageId,
      WAIT_MS,
    )

  /** What the socket saw of the reply to `messageId`: ai_* frames and the reply, in order. */
  const replyFrames = (socket: TestSocket, messageId: number): Frame[] =>
    socket.frames.filter(
      (f) =>
        f.reply_to === messageId &&
        (String(f.type).startsWith('ai_') || (f.type === 'chat_message' && f.role === 'assistant')),
    )

  async function assistantMessages(roomId: number, user: TestUser): Promise<Frame[]> {
    const res = await b.get(roomPath(roomId, '/messages?limit=200'), user.token)
    expect(res.status).toBe(200)
    return ((await res.json()) as Frame[]).filter((m) => m.role === 'assistant')
  }

  test.each([
    ['A, over HTTP', 'http'],
    ['B, over a socket', 'ws'],
  ] as const)(
    'a mention sent through %s is answered exactly once, and sockets on both instances see it all',
    async (_, via) => {
      fake.mode = { kind: 'answer', reply: REPLY, chunkSize: 5 }
      const room = await titledRoom()
      const onA = await follow(a, room.owner, room.id)
      const onB = await follow(b, room.member, room.id)
      const viewerOnB = await follow(b, room.viewer, room.id)

      let questionId: number
      if (via === 'http') questionId = (await send(a, room.id, room.admin, '@assistant who answers?')).id
      else {
        onB.send({
          type: 'chat_message',
          session_id: room.id,
          content: '@assistant who answers?',
          client_msg_id: 'q',
        })
        questionId = (await onB.next((f) => f.type === 'ack' && f.client_msg_id === 'q', WAIT_MS)).id
      }

      const sockets = [onA, onB, viewerOnB]
      const replies = await Promise.all(sockets.map((socket) => replyTo(socket, questionId)))
      await Promise.all(sockets.map((socket) => socket.quietFor(QUIET_MS)))

      expect(requestsFor(room.title)).toHaveLength(1)
      const stored = await assistantMessages(room.id, room.owner)
      expect(stored).toHaveLength(1)
      expect(stored[0]).toMatchObject({ content: REPLY, reply_to: questionId })
      for (const [i, socket] of sockets.entries()) {
        const seen = replyFrames(socket, questionId)
        expect(seen[0]).toEqual({ type: 'ai_start', session_id: room.id, reply_to: questionId })
        expect(seen.at(-1)).toBe(replies[i])
        const deltas = seen.slice(1, -1)
        expect(deltas.every((f) => f.type === 'ai_delta')).toBe(true)
        expect(deltas.map((f) => f.delta).join('')).toBe(REPLY)
        expect(replies[i]).toMatchObject({ id: stored[0]?.id, content: REPLY, username: 'assistant' })
      }
    },
  )

  test('an ai_stop sent on B stops the generation running on A: the partial reply is stored', async () => {
    fake.mode = { kind: 'answer', reply: LONG_REPLY, delayMs: 50 }
    const room = await titledRoom()
    const onA = await follow(a, room.owner, room.id)
    const onB = await follow(b, room.member, room.id)

    // Stored by A, so generated by A.
    const question = await send(a, room.id, room.owner, '@assistant a long story, please')
    await onB.next((f) => f.type === 'ai_delta' && f.reply_to === question.id, WAIT_MS)
    onB.send({ type: 'ai_stop', session_id: room.id })

    const [fromA, fromB] = await Promise.all([replyTo(onA, question.id), replyTo(onB, question.id)])
    expect(fromA).toEqual(fromB)
    const partial = fromA.content as string
    expect(partial).not.toBe('')
    expect(partial.length).toBeLessThan(LONG_REPLY.length)
    expect(LONG_REPLY.startsWith(partial)).toBe(true)
    const streamedOnB = replyFrames(onB, question.id)
      .filter((f) => f.type === 'ai_delta')
      .map((f) => f.delta)
      .join('')
    expect(partial).toBe(streamedOnB)
    expect(onB.frames.filter((f) => f.type === 'error' || f.type === 'ai_error')).toEqual([])

    const stored = await assistantMessages(room.id, room.owner)
    expect(stored.map((m) => m.content)).toEqual([partial])
    expect(requestsFor(room.title)).toHaveLength(1)
  })
})
