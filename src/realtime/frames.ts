// Reading client frames (validated against protocol.ts) and building the server frames every sender shares.
import type { TSchema } from 'typebox'
import Compile from 'typebox/compile'
import type { MessageView } from '../chat/chat.schemas.js'
import { containsNul, nestsTooDeep, TOO_DEEP } from '../http/json.js'
import { type ClientFrame, type ClientFrameType, clientFrames, type ServerFrameOf } from './protocol.js'

export type { ClientFrame } from './protocol.js'

const validators = Object.fromEntries(
  Object.entries(clientFrames).map(([type, schema]) => [type, Compile(schema as TSchema)]),
) as Record<ClientFrameType, ReturnType<typeof Compile>>

export type ParsedFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: string; detail: string; context?: ErrorContext }

/**
 * Parses one text frame from a client. Never throws: a bad frame is an answer, not a crash.
 * `defaultSessionId` is the room the socket was opened with (?session_id=), if any.
 */
export function parseClientFrame(text: string, defaultSessionId: number | null = null): ParsedFrame {
  if (nestsTooDeep(text)) return { ok: false, code: 'invalid_frame', detail: `Frames ${TOO_DEEP}` }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return { ok: false, code: 'invalid_json', detail: 'Frames must be JSON objects' }
  }
  if (containsNul(text, parsed)) {
    return {
      ok: false,
      code: 'invalid_frame',
      detail: 'Text must not contain the NUL character (U+0000)',
      ...(isObject(parsed) ? { context: errorContextOf(parsed) } : {}),
    }
  }
  if (!isObject(parsed)) {
    return { ok: false, code: 'invalid_frame', detail: 'Frames must be JSON objects with a type' }
  }
  const value = withPythonDefaults(parsed, defaultSessionId)
  const type = value.type
  // An own property: `type in validators` also found "constructor" and "toString" on the prototype.
  if (typeof type !== 'string' || !isClientFrameType(type)) {
    return {
      ok: false,
      code: 'unknown_type',
      detail: `Unknown frame type ${JSON.stringify(type ?? null)}; expected one of ${Object.keys(validators).join(', ')}`,
    }
  }
  const validator = validators[type]
  if (!validator.Check(value)) {
    return {
      ok: false,
      code: 'invalid_frame',
      detail: `Invalid ${type} frame: ${firstProblem(validator, value)}`,
      context: errorContextOf(value),
    }
  }
  return { ok: true, frame: value as ClientFrame }
}

/** The first schema failure as words: "session_id is required", "content must not be blank". */
function firstProblem(validator: ReturnType<typeof Compile>, value: unknown): string {
  const [first] = validator.Errors(value)
  if (!first) return 'frame is invalid'
  const params = first.params as { requiredProperties?: string[]; pattern?: string }
  const missing = first.keyword === 'required' ? params.requiredProperties?.[0] : undefined
  if (missing) return `${missing} is required`
  const field = first.instancePath.slice(1).replaceAll('/', '.') || 'frame'
  if (first.keyword === 'pattern' && params.pattern === '\\S') return `${field} must not be blank`
  return `${field} ${first.message ?? 'is invalid'}`
}

function isClientFrameType(type: string): type is ClientFrameType {
  return Object.hasOwn(clientFrames, type)
}

/**
 * The Python original's clients leave out `type` (it meant chat_message) and, on a socket opened with
 * ?session_id=, leave out `session_id` (it meant that room): fill them in so those clients keep working.
 */
function withPythonDefaults(frame: Record<string, unknown>, defaultSessionId: number | null) {
  const type = frame.type === undefined ? 'chat_message' : frame.type
  const takesRoom =
    typeof type === 'string' && isClientFrameType(type) && 'session_id' in clientFrames[type].properties
  const inRoom = takesRoom && frame.session_id === undefined && defaultSessionId !== null
  return { ...frame, type, ...(inRoom ? { session_id: defaultSessionId } : {}) }
}

const now = () => new Date().toISOString()

/** The error frame's optional fields: those of the client frame that failed, when it had them. */
type ErrorContext = Partial<Pick<ServerFrameOf<'error'>, 'session_id' | 'client_msg_id'>>

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The room and client_msg_id of a frame that failed (its validation, or what it asked), where they are
 * valid themselves: a client can then tell which of its sends or subscribes was refused.
 */
export function errorContextOf(value: object): ErrorContext {
  const { session_id: sessionId, client_msg_id: clientMsgId } = value as Record<string, unknown>
  return {
    ...(typeof sessionId === 'number' &&
    Number.isInteger(sessionId) &&
    sessionId >= 1 &&
    sessionId <= 2_147_483_647
      ? { session_id: sessionId }
      : {}),
    ...(typeof clientMsgId === 'string' && clientMsgId.length >= 1 && clientMsgId.length <= 100
      ? { client_msg_id: clientMsgId }
      : {}),
  }
}

export const frames = {
  system(sessionId: number | null, content: string): ServerFrameOf<'system_message'> {
    return { type: 'system_message', content, session_id: sessionId, timestamp: now() }
  },
  /** The Message fields at top level, so `msg.username` and `msg.content` work as in the seed's example. */
  chatMessage(message: MessageView): ServerFrameOf<'chat_message'> {
    return { type: 'chat_message', ...message, timestamp: message.created_at }
  },
  /** Shared by every socket: whose reaction is whose comes from the reaction frames, not `me`. */
  messageUpdated(message: MessageView): ServerFrameOf<'message_updated'> {
    return {
      ...frames.chatMessage({ ...message, reactions: message.reactions.map((r) => ({ ...r, me: false })) }),
      type: 'message_updated',
    }
  },
  ack(message: MessageView): ServerFrameOf<'ack'> {
    return {
      type: 'ack',
      session_id: message.session_id,
      client_msg_id: message.client_msg_id,
      id: message.id,
      seq: message.seq,
    }
  },
  aiStart(sessionId: number, replyTo: number): ServerFrameOf<'ai_start'> {
    return { type: 'ai_start', session_id: sessionId, reply_to: replyTo }
  },
  aiDelta(sessionId: number, replyTo: number, delta: string, offset: number): ServerFrameOf<'ai_delta'> {
    return { type: 'ai_delta', session_id: sessionId, reply_to: replyTo, delta, offset }
  },
  presence(
    sessionId: number,
    user: { id: number; username: string },
    status: ServerFrameOf<'presence'>['status'],
  ): ServerFrameOf<'presence'> {
    return { type: 'presence', session_id: sessionId, user_id: user.id, username: user.username, status }
  },
  error(code: string, detail: string, context: ErrorContext = {}): ServerFrameOf<'error'> {
    return { type: 'error', code, detail, ...context }
  },
  pong(): ServerFrameOf<'pong'> {
    return { type: 'pong', content: 'pong', timestamp: now() }
  },
}
