// @insurge/client showing the assistant's searches while it writes: each `ai_tool` frame lands on the
// reply in progress (running, then done with its result count), and the stored reply then replaces it.
// Real server on a real port, the model a real OpenAI-compatible server on loopback.
import type { AssistantReply } from '@insurge/client'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { API, closeAppWithModel, startAppWithModel, type TestApi } from '../../test/helpers/app.js'
import { createRoom, send } from '../../test/helpers/chat.js'
import type { FakeOpenAI } from '../../test/helpers/fake-openai.js'
import { clientFor, closeClients, until } from './helpers.js'

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
