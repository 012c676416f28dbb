// /asyncapi.json: a valid AsyncAPI 3.0.0 document that names exactly the frames docs/websocket.md lists.
import { readFile } from 'node:fs/promises'
import specs from '@asyncapi/specs'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { startTestApp, type TestApi } from '../helpers/app.js'
import { createRoom } from '../helpers/chat.js'
import { connect, type Frame } from '../helpers/ws.js'

interface AsyncApi {
  asyncapi: string
  info: { title: string; version: string }
  channels: Record<string, { address: string; bindings: { ws: { query: { properties: object } } } }>
  operations: Record<string, { action: string; messages: { $ref: string }[] }>
  components: { messages: Record<string, { name: string; payload: object }> }
}

let api: TestApi
let doc: AsyncApi
beforeAll(async () => {
  api = await startTestApp()
  const res = await api.get('/asyncapi.json')
  if (res.status !== 200) throw new Error(`GET /asyncapi.json: ${res.status} ${await res.text()}`)
  doc = (await res.json()) as AsyncApi
})
afterAll(() => api?.close())

test('the document is valid AsyncAPI 3.0.0, for this version of the server', async () => {
  // The official schema is draft-07, with keywords Ajv's strict mode does not know, and carries its own
  // copy of the draft-07 meta-schema: Ajv's built-in one under the same $id would make refs ambiguous.
  const ajv = new Ajv({ strict: false, allErrors: true, meta: false, validateSchema: false })
  addFormats.default(ajv)
  const validate = ajv.compile(specs.schemas['3.0.0'])
  expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 5), null, 1)).toBe(true)

  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
  expect(doc.info).toMatchObject({ title: 'Insurge WebSocket API', version })
  expect(doc.channels.ws?.address).toBe('/ws')
  expect(Object.keys(doc.channels.ws?.bindings.ws.query.properties ?? {})).toEqual([
    'token',
    'ticket',
    'session_id',
    'after_seq',
  ])
})

test('/asyncapi.json is not an operation in /openapi.json', async () => {
  const openapi = await (await api.get('/openapi.json')).json()
  expect(Object.keys(openapi.paths)).not.toContain('/asyncapi.json')
})

test('the frames are exactly those docs/websocket.md lists, in each direction', async () => {
  const guide = await readFile(new URL('../../docs/websocket.md', import.meta.url), 'utf8')
  expect(framesOf(doc, 'receive')).toEqual(documentedFrames(guide, 'Client → server frames'))
  expect(framesOf(doc, 'send')).toEqual(documentedFrames(guide, 'Server → client frames'))
})

test('the frames a client meets match their payload schemas in the document', async () => {
  const owner = await api.signUp()
  const room = await createRoom(api, owner)
  const socket = await connect(api, { token: owner.token, sessionId: room.id })
  try {
    const seen: Frame[] = [await socket.nextOf('system_message', room.id)]
    socket.send({ type: 'chat_message', session_id: room.id, content: 'hi', client_msg_id: 'a-1' })
    seen.push(await socket.nextOf('ack', room.id), await socket.nextOf('chat_message', room.id))
    socket.send({ type: 'ping' })
    seen.push(await socket.nextOf('pong'))
    socket.send({ type: 'typing', session_id: room.id })
    seen.push(await socket.nextOf('error'))

    const ajv = new Ajv({ strict: false, allErrors: true })
    addFormats.default(ajv)
    for (const frame of seen) {
      const payload = doc.components.messages[`server_${frame.type}`]?.payload
      expect(payload, `no server message for ${frame.type}`).toBeDefined()
      const validate = ajv.compile(payload ?? {})
      expect(validate(frame), `${frame.type}: ${JSON.stringify(validate.errors)}`).toBe(true)
    }
  } finally {
    await socket.close()
  }
})

/** The frame names of the operation with this action (receive: client frames; send: server frames). */
function framesOf(doc: AsyncApi, action: 'receive' | 'send'): string[] {
  const operations = Object.values(doc.operations).filter((op) => op.action === action)
  expect(operations).toHaveLength(1)
  return (operations[0]?.messages ?? [])
    .map(({ $ref }) => {
      const key = $ref.split('/').at(-1) ?? ''
      const message = doc.components.messages[key]
      if (!message) throw new Error(`${$ref} names no message in components`)
      return message.name
    })
    .sort()
}

/**
 * The names in the first column of the table under this `##` heading: rows such as
 * "| `reaction_added`, `reaction_removed` | …" name every frame they list in backticks.
 */
function documentedFrames(guide: string, heading: string): string[] {
  const section = guide.split(/^## /m).find((part) => part.startsWith(`${heading}\n`))
  if (!section) throw new Error(`docs/websocket.md has no "## ${heading}"`)
  const rows = section.split('\n').filter((line) => line.startsWith('| `'))
  const names = rows.flatMap((row) =>
    [...(row.split('|')[1] ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1] ?? ''),
  )
  expect(names.length).toBeGreaterThan(0)
  return names.sort()
}
