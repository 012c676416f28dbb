// The WebSocket frames the SDK reads and writes (docs/websocket.md; /asyncapi.json describes them all).
import type { AssistantSettings, Message, Participant, Session } from './types.js'

interface InRoom {
  session_id: number
}

export type ServerFrame =
  | ({ type: 'system_message'; content: string; timestamp: string } & { session_id: number | null })
  | ({ type: 'chat_message' | 'message_updated'; timestamp: string } & Message)
  | (InRoom & { type: 'ack'; client_msg_id: string; id: number; seq: number })
  | (InRoom & { type: 'typing'; user_id: number; username: string; is_typing: boolean })
  | (InRoom & { type: 'presence'; user_id: number; username: string; status: 'online' | 'offline' })
  | (InRoom & {
      type: 'participant_joined'
      user_id: number
      username: string
      role: string
      participant: Participant
    })
  | (InRoom & { type: 'participant_left'; user_id: number; username: string })
  | (InRoom & { type: 'participant_removed'; user_id: number; username: string; banned: boolean })
  | (InRoom & {
      type: 'role_changed'
      user_id: number
      username: string
      role: string
      previous_role: string
    })
  | (InRoom & {
      type: 'session_updated'
      session: Omit<Session, 'my_role'>
      /** The room's assistant settings, when they are what changed. */
      assistant?: AssistantSettings
    })
  | (InRoom & { type: 'session_deleted' })
  | (InRoom & { type: 'message_deleted'; id: number; seq: number; timestamp: string })
  | (InRoom & {
      type: 'reaction_added' | 'reaction_removed'
      message_id: number
      emoji: string
      user_id: number
      username: string
    })
  | (InRoom & { type: 'read'; user_id: number; seq: number })
  | (InRoom & { type: 'ai_start'; reply_to: number })
  | (InRoom & { type: 'ai_delta'; reply_to: number; delta: string; offset: number })
  | (InRoom & { type: 'ai_error'; reply_to: number; detail: string })
  | (InRoom & {
      type: 'ai_tool'
      reply_to: number
      name: string
      arguments: Record<string, unknown>
      status: 'running' | 'done'
      result_count: number | null
    })
  | { type: 'error'; code: string; detail: string; session_id?: number; client_msg_id?: string }
  | { type: 'pong'; content: string; timestamp: string }

export type ClientFrame =
  | { type: 'chat_message'; session_id: number; content: string; client_msg_id: string }
  | { type: 'subscribe'; session_id: number; after_seq: number }
  | { type: 'unsubscribe'; session_id: number }
  | { type: 'typing'; session_id: number; is_typing: boolean }
  | { type: 'ai_stop'; session_id: number }
  | { type: 'ping' }

/** Room frames other than messages, acks and the assistant's: what `room.on('event')` hands out. */
export type RoomEventFrame = Extract<
  ServerFrame,
  {
    type:
      | 'participant_joined'
      | 'participant_left'
      | 'participant_removed'
      | 'role_changed'
      | 'session_updated'
      | 'session_deleted'
      | 'read'
  }
>
export type TypingFrame = Extract<ServerFrame, { type: 'typing' }>
export type PresenceFrame = Extract<ServerFrame, { type: 'presence' }>
