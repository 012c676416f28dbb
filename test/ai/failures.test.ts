// When the assistant cannot answer, or is told to stop (DESIGN.md section 6): provider errors, broken streams
// and timeouts end in ai_error with nothing half-written stored; ai_stop keeps what was written; per-user
// quota and per-instance concurrency bound the cost; shutdown does not wait for the model.
import { sql } from 'drizzle-orm'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { connectDatabase, type DatabaseHandle, queryRows } from '../../src/db/connect.js'
import { migrateUp } from '../../src/db/migrate.js'
import {
  API,
  closeAppWithModel,
  startAppWithModel,
  startTestApp,
  type TestApi,
  type TestUser,
} from '../helpers/app.js'
import { send, titledRoom } from '../helpers/chat.js'
import { createTestDatabase, type TestDatabase } from '../helpers/database.js'
import { type FakeOpenAI, requestsFor, startFakeOpenAI } from '../helpers/fake-openai.js'
import { until } from '../helpers/until.js'
import { type Frame, socketsClosedAfterEach, type TestSocket } from '../helpers/ws.js'

/** Only failures wait this long. */
const WAIT_MS = 10_000
/** Long enough for a frame or a stored message that should not come to show up. */
const QUIET_MS = 500
/** A reply that takes seconds to stream at 50 ms per 4 characters: long enough to be stopped midway. */
const LONG_REPLY = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ')
const SHORT_REPLY = 'A short and complete answer, streamed slowly.'

const roomPath = (id: number, rest = '') => `${API}/chat/sessions/${id}${rest}`

const sockets = socketsClosedAfterEach()
const online = (target: TestApi, user: TestUser, roomId: number) =>
  sockets.online(user, roomId, { api: target })

const replyTo = (socket: TestSocket, messageId: number) =>
  socket.next((f) => f.type === 'chat_message' && f.role === 'assistant' && f.reply_to === messageId, WAIT_MS)

const errorFor = (socket: TestSocket, messageId: number) =>
  socket.next((f) => f.type === 'ai_error' && f.reply_to === messageId, WAIT_MS)

const firstDelta = (socket: TestSocket, messageId: number) =>
  socket.next((f) => f.type === 'ai_delta' && f.reply_to === messageId, WAIT_MS)

/** The deltas of the reply to `messageId` this socket received, joined. */
const streamed = (socket: TestSocket, messageId: number) =>
  socket.frames
    .filter((f) => f.type === 'ai_delta' && f.reply_to === messageId)
    .map((f) => f.delta)
    .join('')

async function history(target: TestApi, roomId: number, user: TestUser): Promise<Frame[]> {
  const res = await target.get(roomPath(roomId, '/messages?limit=200'), user.token)
  expect(res.status).toBe(200)
  return res.json()
}

/** An ai_error frame: exactly these fields. */
const aiError = (roomId: number, replyTo: number) => ({
  type: 'ai_error',
  session_id: roomId,
  reply_to: replyTo,
  detail: expect.stringMatching(/\S/),
})

describe('provider failures', () => {
  let fake: FakeOpenAI
  let api: TestApi
  let defaultMode: FakeOpenAI['mode']
  beforeAll(async () => {
    ;({ api, fake } = await startAppWithModel())
    defaultMode = fake.mode
  })
  afterAll(() => closeAppWithModel({ api, fake }))
  afterEach(() => {
    fake.mode = defaultMode
  })

  test('a 500 from the provider: ai_error to the room, the question kept, no reply stored, the next question works', async () => {
    const room = await titledRoom(api)
    const [owner, member] = [await online(api, room.owner, room.id), await online(api, room.member, room.id)]
    fake.mode = { kind: 'fail', status: 500 }

    const question = await send(api, room.id, room.member, '@assistant are you up?')
    for (const socket of [owner, member])
      expect(await errorFor(socket, question.id)).toEqual(aiError(room.id, question.id))
    await owner.quietFor(QUIET_MS)
    expect(owner.frames.filter((f) => f.role === 'assistant')).toEqual([])
    expect(await history(api, room.id, room.owner)).toEqual([question])

    fake.mode = { kind: 'answer', reply: 'Back on my feet.' }
    const again = await send(api, room.id, room.member, '@assistant and now?')
    expect((await replyTo(owner, again.id)).content).toBe('Back on my feet.')
    expect((await history(api, room.id, room.owner)).map((m) => [m.role, m.content])).toEqual([
      ['user', '@assistant are you up?'],
      ['user', '@assistant and now?'],
      ['assistant', 'Back on my feet.'],
    ])
  })

  test('a stream cut midway: ai_error, and nothing half-written is stored', async () => {
    const room = await titledRoom(api)
    const socket = await online(api, room.owner, room.id)
    fake.mode = { kind: 'break', sent: 'Half of an ans' }

    const question = await send(api, room.id, room.member, '@assistant tell me everything')
    expect(await errorFor(socket, question.id)).toEqual(aiError(room.id, question.id))
    await socket.quietFor(QUIET_MS)
    expect(socket.frames.filter((f) => f.role === 'assistant')).toEqual([])
    expect(await history(api, room.id, room.owner)).toEqual([question])
    expect(requestsFor(fake, room.title)).toHaveLength(1)
  })

  describe('ai_stop', () => {
    test('a member stops a reply midway: what was streamed so far is stored and broadcast as the reply', async () => {
      const room = await titledRoom(api)
      const [owner, member] = [
        await online(api, room.owner, room.id),
        await online(api, room.member, room.id),
      ]
      fake.mode = { kind: 'answer', reply: LONG_REPLY, delayMs: 50 }

      const question = await send(api, room.id, room.owner, '@assistant write a long answer')
      await firstDelta(member, question.id)
      member.send({ type: 'ai_stop', session_id: room.id })

      const replies = await Promise.all([replyTo(owner, question.id), replyTo(member, question.id)])
      for (const [i, socket] of [owner, member].entries()) {
        const reply = replies[i]
        expect(reply?.content).not.toBe('')
        expect(reply?.content.length).toBeLessThan(LONG_REPLY.length)
        expect(LONG_REPLY.startsWith(reply?.content)).toBe(true)
        expect(reply?.content).toBe(streamed(socket, question.id))
        expect(reply).toMatchObject({
          role: 'assistant',
          user_id: null,
          reply_to: question.id,
          seq: question.seq + 1,
        })
      }
      const stored = await history(api, room.id, room.owner)
      expect(stored.map((m) => [m.role, m.content])).toEqual([
        ['user', '@assistant write a long answer'],
        ['assistant', replies[0]?.content],
      ])
      // The stopper gets no error, and the provider is no longer asked for the rest.
      expect(member.frames.filter((f) => f.type === 'error' || f.type === 'ai_error')).toEqual([])
      await until(() => fake.inFlight === 0, 'the stopped request to the model is closed', WAIT_MS)
    })

    test('a stop before the assistant wrote anything ends the reply with ai_error, nothing stored', async () => {
      const room = await titledRoom(api)
      const member = await online(api, room.member, room.id)
      fake.mode = { kind: 'hang' }
      const question = await send(api, room.id, room.owner, '@assistant take your time')
      await member.next((f) => f.type === 'ai_start' && f.reply_to === question.id, WAIT_MS)
      await until(() => fake.inFlight > 0, 'the request reached the model', WAIT_MS)
      member.send({ type: 'ai_stop', session_id: room.id })
      const ended = await errorFor(member, question.id)
      expect(ended.detail).toMatch(/stopped/i)
      const stored = await history(api, room.id, room.owner)
      expect(stored.map((m) => m.role)).toEqual(['user'])
    })

    test('a viewer may not stop it: error forbidden, and the reply completes', async () => {
      const room = await titledRoom(api)
      const [owner, viewer] = [
        await online(api, room.owner, room.id),
        await online(api, room.viewer, room.id),
      ]
      fake.mode = { kind: 'answer', reply: SHORT_REPLY, delayMs: 50 }

      const question = await send(api, room.id, room.owner, '@assistant a short one please')
      await firstDelta(viewer, question.id)
      viewer.send({ type: 'ai_stop', session_id: room.id })
      expect(await viewer.nextOf('error')).toMatchObject({
        code: 'forbidden',
        session_id: room.id,
        detail: expect.any(String),
      })
      expect((await replyTo(owner, question.id)).content).toBe(SHORT_REPLY)
      expect((await replyTo(viewer, question.id)).content).toBe(SHORT_REPLY)
    })

    test('someone outside the room may not stop it either', async () => {
      const room = await titledRoom(api, 'invite_only')
      const owner = await online(api, room.owner, room.id)
      const outsider = await sockets.open({ token: room.outsider.token }, api)
      await outsider.nextOf('system_message')
      fake.mode = { kind: 'answer', reply: SHORT_REPLY, delayMs: 50 }

      const question = await send(api, room.id, room.owner, '@assistant a short one please')
      await firstDelta(owner, question.id)
      outsider.send({ type: 'ai_stop', session_id: room.id })
      expect(await outsider.nextOf('error')).toMatchObject({ code: 'not_found', session_id: room.id })
      expect((await replyTo(owner, question.id)).content).toBe(SHORT_REPLY)
    })

    test('stopping one room leaves the replies of other rooms alone', async () => {
      const [stopped, untouched] = [await titledRoom(api), await titledRoom(api)]
      const a = await online(api, stopped.owner, stopped.id)
      const b = await online(api, untouched.owner, untouched.id)
      fake.mode = (request) => ({
        kind: 'answer',
        reply: request.messages[0]?.content.includes(stopped.title) ? LONG_REPLY : SHORT_REPLY,
        delayMs: 50,
      })

      const [qa, qb] = await Promise.all([
        send(api, stopped.id, stopped.owner, '@assistant go'),
        send(api, untouched.id, untouched.owner, '@assistant go'),
      ])
      await Promise.all([firstDelta(a, qa.id), firstDelta(b, qb.id)])
      a.send({ type: 'ai_stop', session_id: stopped.id })

      expect((await replyTo(a, qa.id)).content.length).toBeLessThan(LONG_REPLY.length)
      expect((await replyTo(b, qb.id)).content).toBe(SHORT_REPLY)
    })

    test('with nothing in progress: nothing is sent back, the socket stays usable, and the next reply is not cut', async () => {
      const room = await titledRoom(api)
      const member = await online(api, room.member, room.id)

      // Documented in src/ai/assistant.ts (requestStop): a stop is broadcast to the instances, and stops
      // whatever is running in the room at that moment; with nothing running it is a silent no-op.
      member.send({ type: 'ai_stop', session_id: room.id })
      const answered = (await member.quietFor(QUIET_MS)).filter((f) => f.type !== 'presence')
      expect(answered).toEqual([])
      member.send({ type: 'ping' })
      expect(await member.nextOf('pong')).toMatchObject({ content: 'pong' })

      fake.mode = { kind: 'answer', reply: SHORT_REPLY }
      const question = await send(api, room.id, room.member, '@assistant after the stop')
      expect((await replyTo(member, question.id)).content).toBe(SHORT_REPLY)
      expect(member.frames.filter((f) => f.type === 'error' || f.type === 'ai_error')).toEqual([])
    })
  })
})

describe('timeout', () => {
  let fake: FakeOpenAI
  let api: TestApi
  beforeAll(async () => {
    fake = await startFakeOpenAI()
    api = await startTestApp({ env: { OPENAI_BASE_URL: fake.baseUrl, AI_TIMEOUT_MS: '300' } })
  })
  afterAll(async () => {
    await api?.close()
    await fake?.close()
  })

  test('a provider that does not answer within AI_TIMEOUT_MS: ai_error saying so, nothing stored', async () => {
    const room = await titledRoom(api)
    const socket = await online(api, room.owner, room.id)
    fake.mode = { kind: 'hang' }

    const question = await send(api, room.id, room.member, '@assistant are you there?')
    const error = await errorFor(socket, question.id)
    expect(error).toEqual(aiError(room.id, question.id))
    expect(error.detail).toMatch(/did not answer/i)
    expect(error.detail).toMatch(/300 ms/)
    await socket.quietFor(QUIET_MS)
    expect(socket.frames.filter((f) => f.role === 'assistant')).toEqual([])
    expect(await history(api, room.id, room.owner)).toEqual([question])
    await until(() => fake.inFlight === 0, 'the timed-out request to the model is closed', WAIT_MS)
  })

  test('AI_TIMEOUT_MS bounds the whole reply: a stream still going after it ends in ai_error, nothing stored', async () => {
    const room = await titledRoom(api)
    const socket = await online(api, room.owner, room.id)
    // About 6 s of streaming, 300 ms allowed.
    fake.mode = { kind: 'answer', reply: LONG_REPLY, delayMs: 50 }

    const question = await send(api, room.id, room.member, '@assistant take your time')
    const error = await errorFor(socket, question.id)
    expect(error.detail).toMatch(/did not answer/i)
    expect(streamed(socket, question.id)).not.toBe('')
    await socket.quietFor(QUIET_MS)
    expect(socket.frames.filter((f) => f.role === 'assistant')).toEqual([])
    expect(await history(api, room.id, room.owner)).toEqual([question])
  })
})

describe('quota: AI_REPLIES_PER_MINUTE', () => {
  let fake: FakeOpenAI
  let api: TestApi
  beforeAll(async () => {
    fake = await startFakeOpenAI()
    api = await startTestApp({ env: { OPENAI_BASE_URL: fake.baseUrl, AI_REPLIES_PER_MINUTE: '2' } })
  })
  afterAll(async () => {
    await api?.close()
    await fake?.close()
  })

  test('the third mention within a minute by one user gets ai_error naming the limit; another user is still answered', async () => {
    const room = await titledRoom(api)
    const socket = await online(api, room.owner, room.id)

    for (const n of [1, 2]) {
      const question = await send(api, room.id, room.member, `@assistant question ${n}`)
      await replyTo(socket, question.id)
    }
    const third = await send(api, room.id, room.member, '@assistant question 3')
    const error = await errorFor(socket, third.id)
    expect(error).toEqual(aiError(room.id, third.id))
    expect(error.detail).toMatch(/per minute/i)
    expect(error.detail).toContain('2')
    expect(socket.frames.filter((f) => f.type === 'ai_start' && f.reply_to === third.id)).toEqual([])

    const other = await send(api, room.id, room.admin, '@assistant my turn')
    await replyTo(socket, other.id)
    await socket.quietFor(QUIET_MS)
    expect(requestsFor(fake, room.title).map((r) => r.messages.at(-1)?.content)).toEqual([
      `${room.member.username}: @assistant question 1`,
      `${room.member.username}: @assistant question 2`,
      `${room.admin.username}: @assistant my turn`,
    ])
    // The refused question is kept like any message.
    expect((await history(api, room.id, room.owner)).map((m) => [m.role, m.content])).toEqual([
      ['user', '@assistant question 1'],
      ['assistant', expect.any(String)],
      ['user', '@assistant question 2'],
      ['assistant', expect.any(String)],
      ['user', '@assistant question 3'],
      ['user', '@assistant my turn'],
      ['assistant', expect.any(String)],
    ])
  })
})

describe('concurrency: AI_CONCURRENCY', () => {
  let fake: FakeOpenAI
  let api: TestApi
  beforeAll(async () => {
    fake = await startFakeOpenAI()
    api = await startTestApp({ env: { OPENAI_BASE_URL: fake.baseUrl, AI_CONCURRENCY: '1' } })
  })
  afterAll(async () => {
    await api?.close()
    await fake?.close()
  })

  test('three mentions at once in three rooms are all answered, one generation at a time', async () => {
    const rooms = await Promise.all([titledRoom(api), titledRoom(api), titledRoom(api)])
    const sockets = await Promise.all(rooms.map((room) => online(api, room.owner, room.id)))
    // How many other requests were being answered when each one arrived.
    const concurrentAtArrival: number[] = []
    fake.mode = () => {
      concurrentAtArrival.push(fake.inFlight)
      return { kind: 'answer', reply: SHORT_REPLY, chunkSize: 8, delayMs: 40 }
    }
    let maxInFlight = 0
    const sampler = setInterval(() => {
      maxInFlight = Math.max(maxInFlight, fake.inFlight)
    }, 2)
    try {
      const questions = await Promise.all(
        rooms.map((room) => send(api, room.id, room.member, '@assistant at the same time')),
      )
      const replies = await Promise.all(
        questions.map((question, i) => replyTo(sockets[i] as TestSocket, question.id)),
      )
      for (const reply of replies) expect(reply.content).toBe(SHORT_REPLY)
    } finally {
      clearInterval(sampler)
    }
    expect(concurrentAtArrival).toEqual([0, 0, 0])
    expect(maxInFlight).toBe(1)
    for (const room of rooms) expect(requestsFor(fake, room.title)).toHaveLength(1)
  })

  test('a reply waiting for the slot counts towards the share: one running, one waiting, the third refused', async () => {
    const room = await titledRoom(api)
    const socket = await online(api, room.owner, room.id)
    fake.mode = { kind: 'hang' }
    const first = await send(api, room.id, room.member, '@assistant first')
    await until(
      () => requestsFor(fake, room.title).length === 1,
      'the first question reaches the model',
      WAIT_MS,
    )
    const second = await send(api, room.id, room.member, '@assistant second')
    const third = await send(api, room.id, room.member, '@assistant third')

    const refusal = await errorFor(socket, third.id)
    expect(refusal.detail).toMatch(/2 assistant replies or catch-ups running or waiting/)
    expect(requestsFor(fake, room.title)).toHaveLength(1)
    // The waiting one runs when the slot frees, and is answered.
    fake.mode = { kind: 'answer', reply: SHORT_REPLY }
    socket.send({ type: 'ai_stop', session_id: room.id })
    expect((await errorFor(socket, first.id)).detail).toMatch(/stopped/i)
    expect((await replyTo(socket, second.id)).content).toBe(SHORT_REPLY)
  })

  test('a catch-up takes a slot too: it waits while a reply holds the only one, then is answered', async () => {
    const room = await titledRoom(api)
    const socket = await online(api, room.owner, room.id)
    fake.mode = { kind: 'hang' }
    await send(api, room.id, room.member, '@assistant hold the slot')
    await until(() => requestsFor(fake, room.title).length === 1, 'the reply reaches the model', WAIT_MS)
    const asked = fake.requests.length

    const catchUp = api.post(`${API}/chat/sessions/${room.id}/catch-up`, { after_seq: 0 }, room.member.token)
    // Given time to reach the model, it does not: it is waiting for the slot.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(fake.requests.length).toBe(asked)

    fake.mode = { kind: 'answer', reply: 'They asked the assistant to hold the slot.' }
    socket.send({ type: 'ai_stop', session_id: room.id })
    const res = await catchUp
    expect(res.status).toBe(200)
    expect((await res.json()).text).toBe('They asked the assistant to hold the slot.')
    expect(fake.requests.length).toBe(asked + 1)
  })
})

describe('per-user share: one user holds at most 2 replies running or waiting', () => {
  let fake: FakeOpenAI
  let api: TestApi
  beforeAll(async () => {
    fake = await startFakeOpenAI()
    // AI_CONCURRENCY 4: slots are free, so only the share can refuse.
    api = await startTestApp({ env: { OPENAI_BASE_URL: fake.baseUrl, AI_CONCURRENCY: '4' } })
  })
  afterAll(async () => {
    await api?.close()
    await fake?.close()
  })

  test('five mentions at once by one user: two reach the model, three get ai_error saying so; another user is still answered', async () => {
    const room = await titledRoom(api)
    const socket = await online(api, room.owner, room.id)
    // The member's questions hang at the model; anyone else's are answered.
    fake.mode = (request) =>
      request.messages.at(-1)?.content.startsWith(`${room.member.username}:`)
        ? { kind: 'hang' }
        : { kind: 'answer', reply: SHORT_REPLY }

    const questions = await Promise.all(
      [1, 2, 3, 4, 5].map((n) => send(api, room.id, room.member, `@assistant question ${n}`)),
    )
    const ids = questions.map((q) => q.id as number)
    const errorsFor = (matches: (f: Frame) => boolean) =>
      socket.frames.filter((f) => f.type === 'ai_error' && ids.includes(f.reply_to) && matches(f))
    await until(() => errorsFor(() => true).length === 3, 'three questions are refused', WAIT_MS)
    await until(() => requestsFor(fake, room.title).length === 2, 'two questions reach the model', WAIT_MS)
    for (const error of errorsFor(() => true)) {
      expect(error).toEqual(aiError(room.id, error.reply_to))
      expect(error.detail).toMatch(/2 assistant replies or catch-ups running or waiting/)
    }
    const refused = errorsFor(() => true).map((f) => f.reply_to)
    const started = socket.frames.filter((f) => f.type === 'ai_start' && ids.includes(f.reply_to))
    expect(started.map((f) => f.reply_to).sort()).toEqual(ids.filter((id) => !refused.includes(id)).sort())
    await socket.quietFor(QUIET_MS)
    expect(requestsFor(fake, room.title)).toHaveLength(2)

    // Another user of the same room is answered meanwhile.
    const other = await send(api, room.id, room.admin, '@assistant my turn')
    expect((await replyTo(socket, other.id)).content).toBe(SHORT_REPLY)
    // Every question is stored, the refused ones too.
    expect((await history(api, room.id, room.owner)).map((m) => [m.role, m.content])).toEqual([
      ...[...questions].sort((x, y) => x.seq - y.seq).map((q) => ['user', q.content]),
      ['user', '@assistant my turn'],
      ['assistant', SHORT_REPLY],
    ])

    // Once their replies end, the user may ask again.
    socket.send({ type: 'ai_stop', session_id: room.id })
    await until(
      () => errorsFor((f) => /stopped/i.test(f.detail)).length === 2,
      'the two replies end',
      WAIT_MS,
    )
    fake.mode = { kind: 'answer', reply: SHORT_REPLY }
    const again = await send(api, room.id, room.member, '@assistant once more')
    expect((await replyTo(socket, again.id)).content).toBe(SHORT_REPLY)
  })
})

describe('shutdown', () => {
  let fake: FakeOpenAI
  let api: TestApi | undefined
  let database: TestDatabase
  /** The app's database connection, kept open past the app's close so that late writes would show. */
  let handle: DatabaseHandle
  beforeAll(async () => {
    fake = await startFakeOpenAI()
    database = await createTestDatabase()
    api = await startTestApp({
      env: { OPENAI_BASE_URL: fake.baseUrl, DATABASE_URL: database.url },
      resources: async (config) => {
        handle = await connectDatabase(config.DATABASE_URL)
        await migrateUp(handle)
        const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined
        // As src/server.ts does: a Redis error while the app shuts down is logged there, not thrown.
        redis?.on('error', () => {})
        return { config, database: { ...handle, close: async () => {} }, redis }
      },
    })
  })
  afterAll(async () => {
    await api?.close()
    await handle?.close()
    await database?.drop()
    await fake?.close()
  })

  test('closing the app with generations in progress finishes within 10 s and stores nothing half-written', async () => {
    const target = api as TestApi
    const [hanging, streaming] = [await titledRoom(target), await titledRoom(target)]
    const sockets = [
      await online(target, hanging.owner, hanging.id),
      await online(target, streaming.owner, streaming.id),
    ]
    fake.mode = (request) =>
      request.messages[0]?.content.includes(hanging.title)
        ? { kind: 'hang' }
        : { kind: 'answer', reply: LONG_REPLY, delayMs: 50 }

    const [qh, qs] = await Promise.all([
      send(target, hanging.id, hanging.member, '@assistant hang on'),
      send(target, streaming.id, streaming.member, '@assistant keep talking'),
    ])
    await until(
      () => requestsFor(fake, hanging.title).length === 1,
      'the hanging request reached the model',
      WAIT_MS,
    )
    await firstDelta(sockets[1] as TestSocket, qs.id)

    const started = Date.now()
    await target.close()
    api = undefined
    expect(Date.now() - started).toBeLessThan(10_000)

    await new Promise((resolve) => setTimeout(resolve, QUIET_MS))
    const rows = await queryRows<{ session_id: number; role: string; content: string }>(
      handle.db,
      sql`select session_id, role::text as role, content from chat_messages
           where session_id in (${hanging.id}, ${streaming.id}) order by session_id, seq`,
    )
    expect(rows.map((r) => [Number(r.session_id), r.role, r.content])).toEqual(
      [
        [hanging.id, 'user', qh.content],
        [streaming.id, 'user', qs.content],
      ].sort((x, y) => Number(x[0]) - Number(y[0])),
    )
    await until(() => fake.inFlight === 0, 'the requests to the model are closed', WAIT_MS)
  })
})
