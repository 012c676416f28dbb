// @insurge/client and the assistant: its searches shown while it writes (each `ai_tool` frame lands on
// the reply in progress, running then done with its result count, and the stored reply then replaces
// it), and `client.api` calls stopped by a `signal` (aborting a catch-up ends the request and the
// server stops asking the model; the web app's Catch-up dialog aborts when it closes).
// Real server on a real port, the model a real OpenAI-compatible server on loopback.
import type { AssistantReply } from '@insurge/client'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { API, closeAppWithModel, startAppWithModel, type TestApi } from '../../test/helpers/app.js'
import { createRoom, send } from '../../test/helpers/chat.js'
import type { FakeOpenAI } from '../../test/helpers/fake-openai.js'
import { clientFor, closeClients, recordingFetch, until } from './helpers.js'

let api: TestApi
let fake: FakeOpenAI
beforeAll(async () => {
  ;({ api, fake } = await startAppWithModel())
})
afterAll(() => closeAppWithModel({ api, fake }))
afterEach(() => closeClients())

test('a reply that searches the room shows each search running then done, then the stored reply with its cost', async () => {
  const ada = await api.signUp()
  const room = await createRoom(api, ada, { session_type: 'private', ai_mode: 'mention' })
  const client = await clientFor(api.url, ada)
  const followed = client.room(room.id)
  await followed.ready
  const settings = await client.api.updateAssistantSettings({
    path: { id: room.id },
    body: { tools_enabled: true },
  })
  expect(settings.tools_enabled).toBe(true)
  await send(api, room.id, ada, 'the launch is on Friday')
  fake.mode = (request) =>
    request.messages.some((m) => m.role === 'tool')
      ? { kind: 'answer', reply: 'It is on Friday.', delayMs: 20 }
      : { kind: 'tools', calls: [{ name: 'search_room_history', arguments: '{"query":"launch"}' }] }

  const shown: AssistantReply[] = []
  followed.on('assistant', (replies) => {
    for (const reply of replies) shown.push(structuredClone(reply))
  })
  await followed.send('@assistant when is the launch?')
  await until(() => followed.messages.some((m) => m.role === 'assistant'), 'the reply is stored')
  // Found: the message that said it, and the question itself.

  const uses = shown.map((reply) => reply.tools ?? [])
  expect(uses).toContainEqual([
    { name: 'search_room_history', arguments: { query: 'launch' }, status: 'running', resultCount: null },
  ])
  expect(uses.at(-1)).toEqual([
    { name: 'search_room_history', arguments: { query: 'launch' }, status: 'done', resultCount: 2 },
  ])
  expect(followed.assistantReplies).toEqual([])
  const reply = followed.messages.at(-1)
  expect(reply?.content).toBe('It is on Friday.')
  expect(reply?.ai_usage?.prompt_tokens).toBeGreaterThan(0)
  const usage = await client.api.getMyAiUsage({})
  expect(usage.replies).toBe(1)
  expect((await api.get(`${API}/users/me/ai-usage`, ada.token)).status).toBe(200)
})

test('aborting a catch-up rejects the call with an AbortError, and the server stops asking the model', async () => {
  const ada = await api.signUp()
  const room = await createRoom(api, ada, { session_type: 'private', ai_mode: 'off' })
  await send(api, room.id, ada, 'the launch moved to Friday')
  const client = await clientFor(api.url, ada)
  fake.mode = { kind: 'hang' }
  const asked = fake.requests.length

  const stop = new AbortController()
  const catchUp = client.api.catchUp({ path: { id: room.id }, body: { after_seq: 0 }, signal: stop.signal })
  const outcome = catchUp.then(
    () => 'answered',
    (error: unknown) => error,
  )
  await until(() => fake.requests.length > asked && fake.inFlight > 0, 'the model is asked')
  stop.abort()
  const error = await outcome
  expect(error).toBeInstanceOf(DOMException)
  expect((error as DOMException).name).toBe('AbortError')
  // The server saw the client go and closed its request to the model.
  await until(() => fake.inFlight === 0, 'the request to the model is closed')
})

test('a call whose signal is already aborted is not sent; one that is not aborted goes through', async () => {
  const ada = await api.signUp()
  const { fetch, log } = recordingFetch()
  const client = await clientFor(api.url, ada, { fetch })
  const sent = log.length

  const reason = new Error('the view closed')
  await expect(client.api.getMe({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
  expect(log.length).toBe(sent)

  const me = await client.api.getMe({ signal: new AbortController().signal })
  expect(me.email).toBe(ada.email)
  expect(log.slice(sent)).toEqual(['200 /api/v1/users/me'])
})

test('client.catchUp streams the summary as it is written; a failure is an ApiError, and a refusal comes before the stream', async () => {
  const ada = await api.signUp()
  const room = await createRoom(api, ada, { session_type: 'private', ai_mode: 'off' })
  for (const text of ['the launch moved to Friday', 'the venue is Hall B', 'doors open at nine'])
    await send(api, room.id, ada, text)
  const client = await clientFor(api.url, ada)

  const summary = 'Friday launch, in Hall B, doors at nine.'
  fake.mode = { kind: 'answer', reply: summary, chunkSize: 4, delayMs: 30 }
  const pieces: string[] = []
  const result = await client.catchUp(room.id, { afterSeq: 0, onText: (text) => pieces.push(text) })
  expect(result).toMatchObject({ from_seq: 1, to_seq: 3, message_count: 3, text: summary })
  expect(result.usage?.prompt_tokens).toBeGreaterThan(0)
  expect(pieces.length).toBeGreaterThan(1)
  expect(pieces.join('')).toBe(summary)

  fake.mode = { kind: 'fail', status: 500 }
  await expect(client.catchUp(room.id, { afterSeq: 0 })).rejects.toMatchObject({
    name: 'ApiError',
    status: 503,
    detail: expect.stringMatching(/could not summarize/),
  })
  const other = await createRoom(api, await api.signUp(), { session_type: 'private', ai_mode: 'off' })
  await expect(client.catchUp(other.id)).rejects.toMatchObject({ name: 'ApiError', status: 404 })
})
