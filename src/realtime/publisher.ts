// Turns domain events into frames and publishes each once on its room's (or user's) channel.
import type { DomainEvent } from '../events.js'
import { frames } from './frames.js'
import type { Hub } from './hub.js'

export function publishEvent(hub: Hub, event: DomainEvent): void {
  const timestamp = new Date().toISOString()
  switch (event.type) {
    case 'message_created':
      hub.publishToRoom(event.sessionId, { s: event.message.seq }, frames.chatMessage(event.message))
      return
    case 'participant_joined':
      hub.publishToRoom(
        event.sessionId,
        {},
        {
          type: 'participant_joined',
          session_id: event.sessionId,
          user_id: event.participant.user_id,
          username: event.participant.username,
          role: event.participant.role,
          participant: event.participant,
          timestamp,
        },
      )
      return
    case 'participant_left':
    case 'participant_removed':
      hub.publishToRoom(
        event.sessionId,
        { drop: event.userId },
        {
          type: event.type,
          session_id: event.sessionId,
          user_id: event.userId,
          username: event.username,
          ...(event.type === 'participant_removed' ? { banned: event.banned } : {}),
          timestamp,
        },
      )
      return
    case 'role_changed':
      hub.publishToRoom(
        event.sessionId,
        { role: [event.participant.user_id, event.participant.role] },
        {
          type: 'role_changed',
          session_id: event.sessionId,
          user_id: event.participant.user_id,
          username: event.participant.username,
          role: event.participant.role,
          previous_role: event.previousRole,
          timestamp,
        },
      )
      return
    case 'session_updated':
      hub.publishToRoom(
        event.sessionId,
        {},
        {
          type: 'session_updated',
          session_id: event.sessionId,
          session: event.session,
          timestamp,
        },
      )
      return
    case 'session_deleted':
      hub.publishToRoom(
        event.sessionId,
        { end: 1 },
        { type: 'session_deleted', session_id: event.sessionId, timestamp },
      )
      return
    case 'message_updated':
      // Shared by every socket: whose reaction is whose comes from the reaction frames, not `me`.
      hub.publishToRoom(
        event.sessionId,
        {},
        {
          ...frames.chatMessage({
            ...event.message,
            reactions: event.message.reactions.map((r) => ({ ...r, me: false })),
          }),
          type: 'message_updated',
        },
      )
      return
    case 'message_deleted':
      hub.publishToRoom(
        event.sessionId,
        {},
        {
          type: 'message_deleted',
          session_id: event.sessionId,
          id: event.id,
          seq: event.seq,
          timestamp,
        },
      )
      return
    case 'reaction_added':
    case 'reaction_removed':
      hub.publishToRoom(
        event.sessionId,
        {},
        {
          type: event.type,
          session_id: event.sessionId,
          message_id: event.messageId,
          emoji: event.emoji,
          user_id: event.userId,
          username: event.username,
          timestamp,
        },
      )
      return
    case 'read':
      hub.publishToRoom(
        event.sessionId,
        {},
        {
          type: 'read',
          session_id: event.sessionId,
          user_id: event.userId,
          seq: event.seq,
          timestamp,
        },
      )
      return
    case 'ai_started':
      hub.publishToRoom(
        event.sessionId,
        {},
        { type: 'ai_start', session_id: event.sessionId, reply_to: event.replyTo },
      )
      return
    case 'ai_delta':
      hub.publishToRoom(
        event.sessionId,
        {},
        {
          type: 'ai_delta',
          session_id: event.sessionId,
          reply_to: event.replyTo,
          delta: event.delta,
          offset: event.offset,
        },
      )
      return
    case 'ai_failed':
      hub.publishToRoom(
        event.sessionId,
        {},
        {
          type: 'ai_error',
          session_id: event.sessionId,
          reply_to: event.replyTo,
          detail: event.detail,
        },
      )
      return
    case 'account_signed_out':
      hub.publishToUser(event.userId, { close: event.reason })
      return
    case 'typing':
      // To the other participants only: the sender's own sockets skip it.
      hub.publishToRoom(
        event.sessionId,
        { x: event.userId },
        {
          type: 'typing',
          session_id: event.sessionId,
          user_id: event.userId,
          username: event.username,
          is_typing: event.isTyping,
        },
      )
      return
    case 'ai_stop_requested':
      // The assistant acts on it; nothing goes to sockets.
      return
    case 'account_renamed':
      hub.publishToUser(event.userId, { name: event.username })
      return
  }
}
