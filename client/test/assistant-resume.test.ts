// @insurge/client joining a room while the assistant writes: the reply shows once, from its text so far
// (sent by the server at offset 0 after the replay), grown by the live pieces, and then as the stored
// message. Real server on a real port, the model a real OpenAI-compatible server on loopback.
import type { AssistantReply } from '@insurge/client'
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest'
import { closeAppWithModel, startAppWithModel, type TestApi } from '../../test/helpers/app.js'
import { createRoom, invite, send } from '../../test/helpers/chat.js'
import type { FakeOpenAI } from '../../test/helpers/fake-openai.js'
import { clientFor, closeClients, until } from './helpers.js'

/** About 3 s of writing: 100 chunks of 4 characters, one every 30 ms. */
const REPLY = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ')

let api: TestApi
let fake: FakeOpenAI
beforeAll(async () => {
  ;({ api, fake } = await startAppWithModel())
  fake.mode = { kind: 'answer', reply: REPLY, chunkSize: 4, delayMs: 30 }
})
afterAll(() => closeAppWithModel({ api, fake }))
afterEach(() => closeClients())

test('a client that starts following a room mid-reply shows the complete reply, once', async () => {
  const [ada, bob] = await Promise.all([api.signUp(), api.signUp()])
  const room = await createRoom(api, ada, { session_type: 'invite_only', ai_mode: 'always' })
  await invite(api, room.id, ada, bob)
  const question = await send(api, room.id, ada, 'a long answer, please')
  const client = await clientFor(api.url, bob)
  // The reply is well under way.
  await expect
    .poll(
      async () => {
        const replies = await client.api.listAssistantReplies({ path: { id: room.id } })
        return replies[0]?.text.length ?? 0
      },
      { timeout: 15_000, interval: 20 },
    )
    .toBeGreaterThanOrEqual(40)

  const followed = client.room(room.id)
  const shown: AssistantReply[][] = []
  followed.on('assistant', (replies) => shown.push(replies.map((reply) => ({ ...reply }))))
  await followed.ready
  await until(() => followed.messages.some((m) => m.role === 'assistant'), 'the reply is stored')

  // One reply in progress at a time, always the one asked for, only ever growing: announced (empty),
  // then at once as long as what was written when the client joined, and always a prefix of the reply.
  const texts = shown.filter((replies) => replies.length > 0).map((replies) => replies[0]?.text ?? '')
  expect(shown.every((replies) => replies.length <= 1)).toBe(true)
  expect(shown.flat().every((reply) => reply.replyTo === question.id && reply.complete)).toBe(true)
  expect(texts[0]).toBe('')
  expect(texts[1]?.length).toBeGreaterThanOrEqual(40)
  for (const [i, text] of texts.entries()) {
    expect(REPLY.startsWith(text)).toBe(true)
    expect(text.length).toBeGreaterThanOrEqual(texts[i - 1]?.length ?? 0)
  }
  // Every piece arrived before the stored reply: the text in progress was the whole reply.
  expect(texts.at(-1)).toBe(REPLY)
  expect(shown.at(-1)).toEqual([])
  expect(followed.assistantReplies).toEqual([])
  expect(followed.messages.map((m) => [m.role, m.content])).toEqual([
    ['user', 'a long answer, please'],
    ['assistant', REPLY],
  ])
})
