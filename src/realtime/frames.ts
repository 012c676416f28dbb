// The WebSocket contract: client frames (validated) and the server frames built from domain events.
import Type, { type Static, type TSchema } from 'typebox'
import Compile from 'typebox/compile'
import type { MessageView } from '../chat/chat.schemas.js'
import { containsNul } from '../http/json.js'

const SessionId = Type.Integer({ minimum: 1, maximum: 2_147_483_647 })
const Seq = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })

const clientFrames = {
  chat_message: Type.Object({
    type: Type.Literal('chat_message'),
    session_id: SessionId,
    content: Type.String({ minLength: 1, maxLength: 10_000, pattern: '\\S' }),
    client_msg_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  }),
  typing: Type.Object({ type: Type.Literal('typing'), session_id: SessionId, is_typing: Type.Boolean() }),
  subscribe: Type.Object({
    type: Type.Literal('subscribe'),
    session_id: SessionId,
    after_seq: Type.Optional(Seq),
  }),
  unsubscribe: Type.Object({ type: Type.Literal('unsubscribe'), session_id: SessionId }),
  ai_stop: Type.Object({ type: Type.Literal('ai_stop'), session_id: SessionId }),
  ping: Type.Object({ type: Type.Literal('ping') }),
} satisfies Record<string, TSchema>

export type ClientFrameType = keyof typeof clientFrames
export type ClientFrame = { [K in ClientFrameType]: Static<(typeof clientFrames)[K]> }[ClientFrameType]

const validators = Object.fromEntries(
  Object.entries(clientFrames).map(([type, schema]) => [type, Compile(schema as TSchema)]),
) as Record<ClientFrameType, ReturnType<typeof Compile>>

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; code: string; detail: string }

/** Parses one text frame from a client. Never throws: a bad frame is an answer, not a crash. */
export function parseClientFrame(text: string): ParsedFrame {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, code: 'invalid_json', detail: 'Frames must be JSON objects' }
  }
  if (containsNul(text, value)) {
    return { ok: false, code: 'invalid_frame', detail: 'Text must not contain the NUL character (U+0000)' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'invalid_frame', detail: 'Frames must be JSON objects with a type' }
  }
  const type = (value as { type?: unknown }).type
  if (typeof type !== 'string' || !(type in validators)) {
    return {
      ok: false,
      code: 'unknown_type',
      detail: `Unknown frame type ${JSON.stringify(type ?? null)}; expected one of ${Object.keys(validators).join(', ')}`,
    }
  }
  const validator = validators[type as ClientFrameType]
  if (!validator.Check(value)) {
    const [first] = validator.Errors(value)
    const field = first?.instancePath ? first.instancePath.slice(1).replaceAll('/', '.') : 'frame'
    const blank = first?.keyword === 'pattern' && (first.params as { pattern?: string }).pattern === '\\S'
    const message = blank ? 'must not be blank' : (first?.message ?? 'is invalid')
    return { ok: false, code: 'invalid_frame', detail: `Invalid ${type} frame: ${field} ${message}` }
  }
  return { ok: true, frame: value as ClientFrame }
}

const now = () => new Date().toISOString()

export const frames = {
  system(sessionId: number | null, content: string) {
    return { type: 'system_message', content, session_id: sessionId, timestamp: now() }
  },
  /** The Message fields at top level, so `msg.username` and `msg.content` work as in the seed's example. */
  chatMessage(message: MessageView) {
    return { type: 'chat_message', ...message, timestamp: message.created_at }
  },
  error(code: string, detail: string, extra: Record<string, unknown> = {}) {
    return { type: 'error', code, detail, ...extra }
  },
  pong() {
    return { type: 'pong', content: 'pong', timestamp: now() }
  },
}
