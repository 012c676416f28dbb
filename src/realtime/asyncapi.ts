// The AsyncAPI 3.0 description of /ws, served at /asyncapi.json, generated from the frame schemas.
import type { TSchema } from 'typebox'
import { clientFrames, serverFrames } from './protocol.js'

/** Client and server both have chat_message and typing frames, so message keys carry the direction. */
const messageKey = (direction: 'client' | 'server', type: string) => `${direction}_${type}`

function messagesOf(direction: 'client' | 'server', schemas: Record<string, TSchema>) {
  return Object.fromEntries(
    Object.entries(schemas).map(([type, schema]) => [
      messageKey(direction, type),
      {
        name: type,
        title: type,
        summary: (schema as { description?: string }).description,
        contentType: 'application/json',
        payload: schema,
      },
    ]),
  )
}

/** Operations point at the channel's messages (AsyncAPI 3 requires it), which point at the components. */
function channelRefs(keys: string[]) {
  return keys.map((key) => ({ $ref: `#/channels/ws/messages/${key}` }))
}

export function buildAsyncApiDocument(version: string) {
  const clientMessages = messagesOf('client', clientFrames)
  const serverMessages = messagesOf('server', serverFrames)
  const allKeys = [...Object.keys(clientMessages), ...Object.keys(serverMessages)]
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Insurge WebSocket API',
      version,
      description:
        'One socket carries every room a client follows. Every frame is one JSON object with `type`. ' +
        'The guide, with ordering, resume and close codes, is docs/websocket.md.',
    },
    defaultContentType: 'application/json',
    channels: {
      ws: {
        address: '/ws',
        title: 'The WebSocket',
        description:
          'A bad token or ticket, or a room the user cannot read, closes the socket with 1008 and a reason.',
        messages: Object.fromEntries(allKeys.map((key) => [key, { $ref: `#/components/messages/${key}` }])),
        bindings: {
          ws: {
            method: 'GET',
            query: {
              type: 'object',
              properties: {
                token: { type: 'string', description: 'An access token (a refresh token is refused)' },
                ticket: {
                  type: 'string',
                  description: 'Instead of token: single-use, 60 s, from POST /api/v1/auth/ws-ticket',
                },
                session_id: {
                  type: 'integer',
                  minimum: 1,
                  description: 'A room to subscribe to at once; more can be followed with subscribe',
                },
                after_seq: {
                  type: 'integer',
                  minimum: 0,
                  description: 'With session_id: replay the stored messages after this seq first',
                },
              },
            },
            bindingVersion: '0.1.0',
          },
        },
      },
    },
    operations: {
      receiveClientFrames: {
        action: 'receive',
        title: 'Client frames',
        summary: 'What a client may send; a bad frame is answered with error and the socket stays open',
        channel: { $ref: '#/channels/ws' },
        messages: channelRefs(Object.keys(clientMessages)),
      },
      sendServerFrames: {
        action: 'send',
        title: 'Server frames',
        summary: 'What the server sends: greetings, room events, answers to client frames',
        channel: { $ref: '#/channels/ws' },
        messages: channelRefs(Object.keys(serverMessages)),
      },
    },
    components: { messages: { ...clientMessages, ...serverMessages } },
  }
}
