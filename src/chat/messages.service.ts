// Messages: the one send function (HTTP, WebSocket and the assistant all come through it) and history.
import type { Actor } from '../auth/actor.js'
import type { Executor } from '../db/connect.js'
import { violatedUniqueConstraint } from '../db/errors.js'
import type { AiUsage } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { loadJoinedSession } from './access.js'
import type { MessageCreateInput, MessagesQueryInput, MessageView } from './chat.schemas.js'
import { findByClientMsgId, insertMessage, selectPage } from './message-queries.js'
import { assertCan } from './permissions.js'
import { storeUserMessage } from './send-batcher.js'

type ChatDeps = Pick<Deps, 'db' | 'events' | 'limits'>

export interface SendResult {
  message: MessageView
  /** False when `client_msg_id` matched an earlier message: the retry gets that one back. */
  created: boolean
}

/** Stores a user message with the room's next seq (if the sender may send), then emits it. */
export async function sendMessage(
  deps: ChatDeps,
  actor: Pick<Actor, 'id'>,
  sessionId: number,
  input: MessageCreateInput,
): Promise<SendResult> {
  await deps.limits.hit('send', actor.id)
  const clientMsgId = input.client_msg_id ?? null
  let stored: Awaited<ReturnType<typeof insertMessage>>
  try {
    stored = await storeUserMessage(deps.db, {
      sessionId,
      userId: actor.id,
      content: input.content,
      clientMsgId,
      replyTo: null,
    })
  } catch (error) {
    // The same client_msg_id again: the statement rolled back whole (no seq taken); answer with the first.
    if (clientMsgId !== null && violatedUniqueConstraint(error) === 'chat_messages_client_msg_id_key') {
      const first = await findByClientMsgId(deps.db, sessionId, actor.id, clientMsgId)
      if (!first) throw new Error('client_msg_id conflict without a matching message')
      return { message: first, created: false }
    }
    throw error
  }
  if (!stored) throw await whyNotSent(deps, actor, sessionId)
  const { message, ai_mode, title } = stored
  deps.events.emit({ type: 'message_created', sessionId, message, room: { aiMode: ai_mode, title } })
  return { message, created: true }
}

/**
 * Stores the assistant's reply to `replyTo` with the room's next seq, like any message, and emits it.
 * Returns null when the room was deleted meanwhile.
 */
export async function storeAssistantReply(
  deps: Pick<Deps, 'db' | 'events'>,
  sessionId: number,
  replyTo: number,
  content: string,
  aiUsage: AiUsage,
): Promise<MessageView | null> {
  const stored = await insertMessage(deps.db, {
    sessionId,
    userId: null,
    content,
    clientMsgId: null,
    replyTo,
    aiUsage,
  })
  if (!stored) return null
  const { message, ai_mode, title } = stored
  deps.events.emit({ type: 'message_created', sessionId, message, room: { aiMode: ai_mode, title } })
  return message
}

/**
 * A page of history, oldest first. Without a cursor: the newest `limit`; `before_seq`: the newest
 * `limit` before it; `after_seq`: the oldest `limit` after it; `skip` counts back from the newest.
 */
export async function listMessages(
  deps: ChatDeps,
  actor: Actor,
  sessionId: number,
  query: MessagesQueryInput,
): Promise<MessageView[]> {
  // The access check rides in the page's query; only an empty page needs to find out why.
  const page = await selectPage(deps.db, sessionId, query, actor.id)
  if (page.length === 0) await loadJoinedSession(deps.db, actor, sessionId)
  return page
}

/**
 * Stored messages of a room with seq > afterSeq, oldest first: the WebSocket replay and gap fill.
 * No access check: the caller has already checked the socket's right to the room.
 */
export function listMessagesAfter(db: Executor, sessionId: number, afterSeq: number, limit: number) {
  return selectPage(db, sessionId, { after_seq: afterSeq, limit, skip: 0 })
}

/** The newest `limit` stored messages of a room with seq < beforeSeq, oldest first: the assistant's context. */
export function listMessagesBefore(db: Executor, sessionId: number, beforeSeq: number, limit: number) {
  return selectPage(db, sessionId, { before_seq: beforeSeq, limit, skip: 0 })
}

/** The send statement stored nothing: say why, with the same rules as every other room access. */
async function whyNotSent(deps: ChatDeps, actor: Pick<Actor, 'id'>, sessionId: number): Promise<AppError> {
  try {
    const { role } = await loadJoinedSession(deps.db, actor, sessionId)
    assertCan(role, 'send_message')
    return new AppError('conflict', 'The message could not be stored; try again')
  } catch (error) {
    if (error instanceof AppError) return error
    throw error
  }
}
