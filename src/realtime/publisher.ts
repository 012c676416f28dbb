// Turns domain events into frames and publishes each once on its room's (or user's) channel.
import type { DomainEvent } from '../events.js'
import { frames } from './frames.js'
import type { ServerFrameOf } from './protocol.js'
import type { Hub } from './rooms.js'

export function publishEvent(hub: Hub, event: DomainEvent): void {
  const timestamp = new Date().toISOString()
  switch (event.type) {
    case 'message_created':
      hub.publishToRoom(event.sessionId, { s: event.message.seq }, frames.chatMessage(event.message))
      return
    case 'participant_joined': {
      const frame = {
        type: 'participant_joined',
        session_id: event.sessionId,
        user_id: event.participant.user_id,
        username: event.participant.username,
        role: event.participant.role,
        participant: event.participant,
        timestamp,
      } satisfies ServerFrameOf<'participant_joined'>
      hub.publishToRoom(event.sessionId, {}, frame)
      // The new participant's own sockets follow other rooms (or none): they learn of this one at once.
      hub.publishToUser(event.participant.user_id, { outside: event.sessionId }, frame)
      return
    }
    case 'participant_left':
      hub.publishToRoom(event.sessionId, { drop: event.userId }, {
        type: 'participant_left',
        session_id: event.sessionId,
        user_id: event.userId,
        username: event.username,
        timestamp,
      } satisfies ServerFrameOf<'participant_left'>)
      return
    case 'participant_removed':
      hub.publishToRoom(event.sessionId, { drop: event.userId }, {
        type: 'participant_removed',
        session_id: event.sessionId,
        user_id: event.userId,
        username: event.username,
        banned: event.banned,
        timestamp,
      } satisfies ServerFrameOf<'participant_removed'>)
      return
    case 'role_changed':
      hub.publishToRoom(event.sessionId, { role: [event.participant.user_id, event.participant.role] }, {
        type: 'role_changed',
        session_id: event.sessionId,
        user_id: event.participant.user_id,
        username: event.participant.username,
        role: event.participant.role,
        previous_role: event.previousRole,
        timestamp,
      } satisfies ServerFrameOf<'role_changed'>)
      return
    case 'session_updated':
      hub.publishToRoom(event.sessionId, {}, {
        type: 'session_updated',
        session_id: event.sessionId,
        session: event.session,
        ...(event.assistant && { assistant: event.assistant }),
        timestamp,
      } satisfies ServerFrameOf<'session_updated'>)
      return
    case 'session_deleted':
      hub.publishToRoom(event.sessionId, { end: 1 }, {
        type: 'session_deleted',
        session_id: event.sessionId,
        timestamp,
      } satisfies ServerFrameOf<'session_deleted'>)
      return
    case 'message_updated':
      hub.publishToRoom(event.sessionId, {}, frames.messageUpdated(event.message))
      return
    case 'message_deleted':
      hub.publishToRoom(event.sessionId, {}, {
        type: 'message_deleted',
        session_id: event.sessionId,
        id: event.id,
        seq: event.seq,
        timestamp,
      } satisfies ServerFrameOf<'message_deleted'>)
      return
    case 'reaction_added':
    case 'reaction_removed':
      hub.publishToRoom(event.sessionId, {}, {
        type: event.type,
        session_id: event.sessionId,
        message_id: event.messageId,
        emoji: event.emoji,
        user_id: event.userId,
        username: event.username,
        timestamp,
      } satisfies ServerFrameOf<'reaction_added' | 'reaction_removed'>)
      return
    case 'read':
      hub.publishToRoom(event.sessionId, {}, {
        type: 'read',
        session_id: event.sessionId,
        user_id: event.userId,
        seq: event.seq,
        timestamp,
      } satisfies ServerFrameOf<'read'>)
      return
    case 'ai_started':
      hub.publishToRoom(event.sessionId, {}, frames.aiStart(event.sessionId, event.replyTo))
      return
    case 'ai_delta':
      hub.publishToRoom(
        event.sessionId,
        {},
        frames.aiDelta(event.sessionId, event.replyTo, event.delta, event.offset),
      )
      return
    case 'ai_failed':
      hub.publishToRoom(event.sessionId, {}, {
        type: 'ai_error',
        session_id: event.sessionId,
        reply_to: event.replyTo,
        detail: event.detail,
      } satisfies ServerFrameOf<'ai_error'>)
      return
    case 'ai_tool':
      hub.publishToRoom(event.sessionId, {}, {
        type: 'ai_tool',
        session_id: event.sessionId,
        reply_to: event.replyTo,
        name: event.name,
        arguments: event.arguments,
        status: event.resultCount === null ? 'running' : 'done',
        result_count: event.resultCount,
      } satisfies ServerFrameOf<'ai_tool'>)
      return
    case 'ai_measured':
      // For the metrics only.
      return
    case 'account_signed_out':
      hub.publishToUser(event.userId, { close: event.reason })
      return
    case 'typing':
      // To the other participants only: the sender's own sockets skip it.
      hub.publishToRoom(event.sessionId, { x: event.userId }, {
        type: 'typing',
        session_id: event.sessionId,
        user_id: event.userId,
        username: event.username,
        is_typing: event.isTyping,
      } satisfies ServerFrameOf<'typing'>)
      return
    case 'ai_stop_requested':
      // The assistant acts on it; nothing goes to sockets.
      return
    case 'presence_lapsed':
      hub.publishToRoom(
        event.sessionId,
        { p: event.userId },
        frames.presence(event.sessionId, { id: event.userId, username: event.username }, 'offline'),
      )
      return
    case 'account_renamed':
      hub.publishToUser(event.userId, { name: event.username })
      return
  }
}
