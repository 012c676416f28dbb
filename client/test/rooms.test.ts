// @insurge/client against the real server on a real port: typed calls, rooms followed over one
// socket, sends stored exactly once, gaps filled over HTTP, sockets cut mid-conversation, the
// assistant's reply assembled from its deltas and stopped.
import { ApiError, type InsurgeClient } from '@insurge/client'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { API, closeAppWithModel, startAppWithModel, type TestApi } from '../../test/helpers/app.js'
import { createRoom, invite, send } from '../../test/helpers/chat.js'
import type { FakeOpenAI } from '../../test/helpers/fake-openai.js'
import { startTcpProxy, type TcpProxy } from '../../test/helpers/tcp-proxy.js'
import { clientFor, closeClients, contents, expectContiguous, recordingFetch, until } from './helpers.js'

let api: TestApi
let fake: FakeOpenAI
beforeAll(async () => {
  ;({ api, fake } = await startAppWithModel())
})
afterAll(() => closeAppWithModel({ api, fake }))
afterEach(() => closeClients())

/** Two people in a new room (AI off unless asked), each with a logged-in client. */
async function pair(target = api.url, body: Record<string, unknown> = { ai_mode: 'off' }) {
  const [ada, bob] = await Promise.all([api.signUp(), api.signUp()])
  const room = await createRoom(api, ada, { session_type: 'invite_only', ...body })
  await invite(api, room.id, ada, bob)
  const [a, b] = await Promise.all([clientFor(target, ada), clientFor(target, bob)])
  return { ada, bob, roomId: room.id, a, b }
}

describe('client.api', () => {
  test('typed calls reach the server with the login’s token and return its JSON', async () => {
    const user = await api.signUp()
    const client = await clientFor(api.url, user)
    const me = await client.api.getMe()
    expect(me.username).toBe(user.username)
    expect(client.userId).toBe(user.id)
    const room = await client.api.createSession({ body: { title: 'Typed', session_type: 'public' } })
    expect(room.title).toBe('Typed')
    const sent = await client.api.sendMessage({ path: { id: room.id }, body: { content: 'hello' } })
    const page = await client.api.listMessages({ path: { id: room.id }, query: { limit: 10 } })
    expect(page.map((m) => m.id)).toEqual([sent.id])
  })

  test('errors are ApiErrors with the server’s status, code and sentence', async () => {
    const client = await clientFor(api.url, await api.signUp())
    const missing = await client.api.getSession({ path: { id: 2_000_000_000 } }).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(ApiError)
    expect(missing).toMatchObject({ status: 404, code: 'not_found' })
    const invalid = await client.api
      .createSession({ body: { title: '', session_type: 'public' } })
      .catch((e: unknown) => e)
    expect(invalid).toMatchObject({ status: 422, code: 'invalid' })
    expect((invalid as ApiError).detail).toMatch(/\w+/)
    expect((invalid as ApiError).errors.length).toBeGreaterThan(0)
  })

  test('a wrong password is a 401 ApiError and leaves the client logged out', async () => {
    const user = await api.signUp()
    const client = await clientFor(api.url)
    const error = await client.login(user.email, 'not the password').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 401, code: 'unauthenticated' })
    expect(client.tokens).toBeNull()
    await expect(client.api.getMe()).rejects.toMatchObject({ status: 401 })
  })

  test('register then login, and logout ends the login on the server too', async () => {
    const client = await clientFor(api.url)
    const tag = Math.random().toString(36).slice(2, 10)
    const account = { email: `sdk-${tag}@example.com`, username: `sdk_${tag}`, password: `pw-${tag}-long` }
    const user = await client.register(account)
    expect(user.username).toBe(account.username)
    await client.login(account.email, account.password)
    const refreshToken = client.tokens?.refresh_token
    await client.logout()
    expect(client.tokens).toBeNull()
    const res = await api.post('/api/v1/auth/refresh', { refresh_token: refreshToken })
    expect(res.status).toBe(401)
  })
})

describe('client.room', () => {
  test('two clients in one room: messages both ways, once each, in seq order; send resolves with the stored message', async () => {
    const { a, b, roomId, ada, bob } = await pair()
    const [ra, rb] = [a.room(roomId), b.room(roomId)]
    await Promise.all([ra.ready, rb.ready])
    await until(() => a.connection.state === 'open' && b.connection.state === 'open', 'both sockets are open')
    const sent = await Promise.all([
      ra.send('one from ada'),
      rb.send('one from bob'),
      ra.send('two from ada'),
    ])
    expect(sent.map((m) => m.content)).toEqual(['one from ada', 'one from bob', 'two from ada'])
    expect(sent[0]?.user_id).toBe(ada.id)
    expect(sent[1]?.user_id).toBe(bob.id)
    await until(() => ra.messages.length === 3 && rb.messages.length === 3, 'both hold three')
    expect(ra.messages).toEqual(rb.messages)
    expectContiguous(ra.messages)
    // What send() resolved with is the message as stored (the server's own copy).
    const stored = await api.get(`/api/v1/chat/sessions/${roomId}/messages`, ada.token)
    expect((await stored.json()).map((m: { id: number }) => m.id).sort()).toEqual(
      sent.map((m) => m.id).sort(),
    )
  })

  test('connect() keeps a socket with no room followed, which hears of a room this person is added to', async () => {
    const [ada, bob] = await Promise.all([api.signUp(), api.signUp()])
    const b = await clientFor(api.url, bob)
    const joined: { sessionId: number; role: string }[] = []
    b.on('joined', (event) => joined.push(event))
    b.connect()
    await until(() => b.connection.state === 'open', 'open with no room')
    const room = await createRoom(api, ada, { session_type: 'invite_only' })
    await invite(api, room.id, ada, bob, 'viewer')
    await until(() => joined.length === 1, 'joined')
    expect(joined).toEqual([{ sessionId: room.id, role: 'viewer' }])
  })

  test('a room opens with its newest page; loadOlder reads back to the first message', async () => {
    const { roomId, ada } = await pair()
    for (let i = 1; i <= 25; i++) await send(api, roomId, ada, `m${i}`)
    const a = await clientFor(api.url, ada, { room: { pageSize: 10 } })
    const room = a.room(roomId)
    expect(a.room(roomId)).toBe(room)
    await room.ready
    expect(contents(room.messages)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 16}`))
    expect(room.hasOlder).toBe(true)
    expect(await room.loadOlder(10)).toBe(10)
    expect(await room.loadOlder(10)).toBe(5)
    expect(room.hasOlder).toBe(false)
    expect(await room.loadOlder(10)).toBe(0)
    expect(contents(room.messages)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i + 1}`))
    expectContiguous(room.messages)
  }, 60_000)

  test('a room the person cannot read rejects ready with the server’s 403/404', async () => {
    const { roomId } = await pair()
    const outsider = await clientFor(api.url, await api.signUp())
    const room = outsider.room(roomId)
    // A send made before the room was read fails with the same answer, once.
    const early = room.send('let me in').catch((e: unknown) => e)
    await expect(room.ready).rejects.toMatchObject({
      status: expect.any(Number),
      code: expect.stringMatching(/forbidden|not_found/),
    })
    expect(await early).toMatchObject({ code: expect.stringMatching(/forbidden|not_found/) })
    // The room is let go: asking again makes a new one, which asks the server again.
    expect(outsider.room(roomId)).not.toBe(room)
  })

  test('a send the server refuses rejects once with its sentence (a viewer cannot send)', async () => {
    const { roomId, ada } = await pair()
    const viewer = await api.signUp()
    await invite(api, roomId, ada, viewer, 'viewer')
    const client = await clientFor(api.url, viewer)
    const room = client.room(roomId)
    await room.ready
    await expect(room.send('let me in')).rejects.toMatchObject({ status: 403, code: 'forbidden' })
  })

  test('edits, deletions and reactions reach the other client; the reactor’s own reaction is `me`', async () => {
    const { a, b, roomId } = await pair()
    const [ra, rb] = [a.room(roomId), b.room(roomId)]
    await Promise.all([ra.ready, rb.ready])
    const first = await ra.send('first')
    const second = await ra.send('second')
    await until(() => rb.messages.length === 2, 'bob holds both')
    await a.api.editMessage({
      path: { id: roomId, message_id: first.id },
      body: { content: 'first, edited' },
    })
    await b.api.addReaction({ path: { id: roomId, message_id: first.id, emoji: '👍' } })
    await a.api.deleteMessage({ path: { id: roomId, message_id: second.id } })
    await until(() => {
      const [one, two] = rb.messages
      return one?.content === 'first, edited' && one.reactions[0]?.count === 1 && two?.deleted_at !== null
    }, 'bob sees the edit, the reaction and the deletion')
    expect(rb.messages[0]?.reactions).toEqual([{ emoji: '👍', count: 1, me: true }])
    await until(() => ra.messages[0]?.reactions[0]?.count === 1, 'ada sees the reaction, not hers')
    expect(ra.messages[0]?.reactions).toEqual([{ emoji: '👍', count: 1, me: false }])
    expect(rb.messages[1]?.content).toBe('')
  })
})

describe('gaps, duplicates and cut sockets', () => {
  let proxy: TcpProxy
  beforeAll(async () => {
    proxy = await startTcpProxy(api.url)
  })
  afterAll(async () => {
    await proxy?.close()
  })
  afterEach(() => {
    proxy.drop = null
    proxy.repeat = null
  })

  test('a frame lost on the way: the next one is ahead of a gap, which is read over HTTP', async () => {
    const { b, roomId, ada } = await pair(proxy.url)
    const room = b.room(roomId)
    await room.ready
    await until(() => b.connection.state === 'open', 'bob’s socket is open')
    proxy.dropped = 0
    proxy.drop = (text) => text.includes('"content":"lost on the way"')
    await send(api, roomId, ada, 'before')
    await send(api, roomId, ada, 'lost on the way')
    await send(api, roomId, ada, 'after')
    await until(() => room.messages.length === 3, 'bob holds all three')
    expect(proxy.dropped).toBe(1)
    expect(contents(room.messages)).toEqual(['before', 'lost on the way', 'after'])
    expectContiguous(room.messages)
  })

  test('a send whose own message frame is lost resolves once the ack is heard: the message is read over HTTP', async () => {
    const { a, roomId } = await pair(proxy.url)
    const room = a.room(roomId)
    await room.ready
    await until(() => a.connection.state === 'open', 'ada’s socket is open')
    proxy.dropped = 0
    proxy.drop = (text) => text.includes('"type":"chat_message"') && text.includes('"content":"mine, lost"')
    const sent = await room.send('mine, lost')
    expect(proxy.dropped).toBe(1)
    expect(sent.content).toBe('mine, lost')
    expect(contents(room.messages)).toEqual(['mine, lost'])
    expectContiguous(room.messages)
  })

  test('a closed client follows no more rooms: room() says so instead of giving one whose sends never settle', async () => {
    const { a, roomId } = await pair()
    await a.room(roomId).ready
    a.close()
    expect(() => a.room(roomId)).toThrow(/closed/)
  })

  test('a message the server cannot store (blank, too long, a NUL) rejects once with a sentence and is not sent again', async () => {
    const { a, roomId } = await pair()
    const room = a.room(roomId)
    await room.ready
    // Refused here, by the server's rules, without a round trip.
    for (const content of ['', '   \n ', 'x'.repeat(10_001)]) {
      const error = await room.send(content).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ApiError)
      expect(error).toMatchObject({
        status: 422,
        code: 'invalid',
        detail: expect.stringMatching(/^A message/),
      })
    }
    // 10,000 characters counted as the server counts them: an emoji is one.
    expect((await room.send('😀'.repeat(10_000))).content).toBe('😀'.repeat(10_000))
    // Refused by the server (a NUL cannot be stored): its error names the send, which rejects.
    const refused = await room.send('nul \u0000 inside').catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ApiError)
    expect(refused).toMatchObject({ status: 422, code: 'invalid_frame' })
    // Nothing waits to be sent again after a reconnect: the next send is the only one stored.
    expect((await room.send('after')).content).toBe('after')
    const stored = await a.api.listMessages({ path: { id: roomId }, query: { limit: 10 } })
    expect(stored.map((m) => m.content.length)).toEqual([10_000 * 2, 'after'.length])
  })

  test('edits, deletions and reactions missed while the socket was down are read again after the reconnect', async () => {
    const { b, roomId, ada, bob } = await pair(proxy.url)
    const room = b.room(roomId)
    await room.ready
    await until(() => b.connection.state === 'open', 'bob’s socket is open')
    const first = await send(api, roomId, ada, 'first')
    const second = await send(api, roomId, ada, 'second')
    await until(() => room.messages.length === 2, 'bob holds both')
    // Bob hears nothing of what changes next, as if his socket were down.
    proxy.dropped = 0
    proxy.drop = (text) => /"type":"(message_updated|message_deleted|reaction_added)"/.test(text)
    const path = `${API}/chat/sessions/${roomId}/messages`
    const edit = await api.request('PATCH', `${path}/${first.id}`, {
      body: { content: 'first, edited' },
      token: ada.token,
    })
    expect(edit.status).toBe(200)
    const reaction = await api.put(
      `${path}/${first.id}/reactions/${encodeURIComponent('👍')}`,
      undefined,
      bob.token,
    )
    expect(reaction.status).toBe(204)
    expect((await api.delete(`${path}/${second.id}`, ada.token)).status).toBe(204)
    await until(() => proxy.dropped === 3, 'the three frames are held back')
    expect(contents(room.messages)).toEqual(['first', 'second'])

    proxy.drop = null
    proxy.cut()
    await until(() => room.messages[0]?.content === 'first, edited', 'bob reads the edit again', 10_000)
    await until(() => room.messages[1]?.deleted_at !== null, 'and the deletion')
    expect(room.messages[0]?.reactions).toEqual([{ emoji: '👍', count: 1, me: true }])
    expect(room.messages[1]?.content).toBe('')
    expectContiguous(room.messages)
  })

  test('frames delivered twice: each message held once, and a reply’s piece is not shown twice', async () => {
    fake.mode = { kind: 'answer', reply: 'abcdefghij'.repeat(30), chunkSize: 10, delayMs: 15 }
    const { b, roomId, ada } = await pair(proxy.url, { ai_mode: 'always' })
    const room = b.room(roomId)
    await room.ready
    await until(() => b.connection.state === 'open', 'bob’s socket is open')
    proxy.repeated = 0
    proxy.repeat = (text) => text.includes('"type":"chat_message"') || text.includes('"type":"ai_delta"')
    const seen: string[] = []
    room.on('assistant', (replies) => {
      const text = replies[0]?.text
      if (text !== undefined) seen.push(text)
    })
    await send(api, roomId, ada, 'twice?')
    await until(() => room.messages.some((m) => m.role === 'assistant'), 'the reply is stored')
    expect(proxy.repeated).toBeGreaterThan(3)
    expect(contents(room.messages)).toEqual(['twice?', 'abcdefghij'.repeat(30)])
    expectContiguous(room.messages)
    // Every state of the reply in progress was a prefix of the reply: no piece appeared twice.
    expect(seen.length).toBeGreaterThan(0)
    for (const text of seen) expect('abcdefghij'.repeat(30).startsWith(text)).toBe(true)
  })

  test('sockets cut again and again while both send: every message once in both clients, every send resolved once', async () => {
    const { a, b, roomId } = await pair(proxy.url)
    const [ra, rb] = [a.room(roomId), b.room(roomId)]
    await Promise.all([ra.ready, rb.ready])
    const cutter = setInterval(() => proxy.cut(), 120)
    const resolved: string[] = []
    try {
      const sends: Promise<unknown>[] = []
      for (let i = 0; i < 15; i++) {
        sends.push(ra.send(`a${i}`).then((m) => resolved.push(m.content)))
        sends.push(rb.send(`b${i}`).then((m) => resolved.push(m.content)))
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      await Promise.all(sends)
    } finally {
      clearInterval(cutter)
    }
    expect(resolved.sort()).toEqual(
      [...Array.from({ length: 15 }, (_, i) => [`a${i}`, `b${i}`])].flat().sort(),
    )
    await until(() => ra.messages.length === 30 && rb.messages.length === 30, 'both hold all 30')
    expect(ra.messages.map((m) => m.id)).toEqual(rb.messages.map((m) => m.id))
    expectContiguous(ra.messages)
    expect(new Set(contents(ra.messages)).size).toBe(30)
    const stored = await api.get(
      `/api/v1/chat/sessions/${roomId}/messages?limit=200`,
      (await api.signUp()).token,
    )
    expect(stored.status).not.toBe(200) // an outsider cannot read it: the check below uses a participant
    const all = await b.api.listMessages({ path: { id: roomId }, query: { limit: 200 } })
    expect(all).toHaveLength(30)
  }, 60_000)

  test('a page whose origin the server refuses stops at once and says why, instead of retrying', async () => {
    const { fetch, log } = recordingFetch()
    class ForeignPage extends WebSocket {
      constructor(url: string) {
        super(url, { origin: 'http://evil.example' })
      }
    }
    const user = await api.signUp()
    const client = await clientFor(api.url, user, { fetch, WebSocket: ForeignPage })
    const errors: string[] = []
    client.connection.on('error', (error) => errors.push(error.code))
    const room = await createRoom(api, user)
    await client.room(room.id).ready
    await until(() => client.connection.state === 'closed', 'closed')
    expect(errors).toEqual(['origin_not_allowed'])
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(log.filter((path) => path.endsWith('/ws-ticket'))).toHaveLength(1)
  })

  test('the connection says reconnecting while the network is down and open once it is back', async () => {
    const { a, roomId } = await pair(proxy.url)
    await a.room(roomId).ready
    await until(() => a.connection.state === 'open', 'open')
    const states: string[] = []
    const off = a.connection.on('state', (state) => states.push(state))
    proxy.cut()
    await until(() => states.includes('reconnecting') && a.connection.state === 'open', 'reconnected')
    off()
    expect(states[0]).toBe('reconnecting')
  })
})

describe('the assistant in a room', () => {
  test('its reply streams into assistantReplies, Stop stores what was written, and the stored reply replaces it', async () => {
    fake.mode = { kind: 'answer', reply: 'word '.repeat(400), chunkSize: 5, delayMs: 20 }
    const { a, b, roomId } = await pair(api.url, { ai_mode: 'always' })
    const [ra, rb] = [a.room(roomId), b.room(roomId)]
    await Promise.all([ra.ready, rb.ready])
    const question = await ra.send('tell me a long story')
    await until(() => (rb.assistantReplies[0]?.text.length ?? 0) > 20, 'bob sees the reply being written')
    expect(rb.assistantReplies[0]?.replyTo).toBe(question.id)
    expect(ra.stopAssistant()).toBe(true)
    await until(
      () => [ra, rb].every((r) => r.messages.some((m) => m.role === 'assistant')),
      'the stopped reply is stored and held by both',
    )
    const reply = rb.messages.find((m) => m.role === 'assistant')
    expect(reply?.reply_to).toBe(question.id)
    expect(reply?.content.length).toBeLessThan(2000)
    expect('word '.repeat(400).startsWith(reply?.content ?? 'x')).toBe(true)
    expect(rb.assistantReplies).toEqual([])
    expect(ra.assistantReplies).toEqual([])
  })

  test('a failed reply is an assistantError and nothing is stored', async () => {
    fake.mode = { kind: 'fail', status: 500 }
    const { a, roomId } = await pair(api.url, { ai_mode: 'always' })
    const room = a.room(roomId)
    await room.ready
    const errors: { replyTo: number; detail: string }[] = []
    room.on('assistantError', (error) => errors.push(error))
    const question = await room.send('will this work?')
    await until(() => errors.length === 1, 'the error arrives')
    expect(errors[0]?.replyTo).toBe(question.id)
    expect(errors[0]?.detail).toMatch(/\w+/)
    expect(room.messages.map((m) => m.role)).toEqual(['user'])
    expect(room.assistantReplies).toEqual([])
  })
})

export type { InsurgeClient }
