// Domain events of the chat feature, emitted after their transaction commits. The realtime layer
// decides who receives them; nothing here knows about sockets.
import type { MessageView, ParticipantView, SessionView } from './chat.schemas.js'

export type ChatEvent =
  | { type: 'message_created'; sessionId: number; message: MessageView }
  | { type: 'participant_joined'; sessionId: number; participant: ParticipantView }
  | { type: 'participant_left'; sessionId: number; userId: number; username: string }
  | { type: 'participant_removed'; sessionId: number; userId: number; username: string; banned: boolean }
  | {
      type: 'role_changed'
      sessionId: number
      participant: ParticipantView
      previousRole: ParticipantView['role']
    }
  | { type: 'session_updated'; sessionId: number; session: Omit<SessionView, 'my_role'> }
  | { type: 'session_deleted'; sessionId: number }

export type ChatEventListener = (event: ChatEvent) => void

export interface ChatEvents {
  emit(event: ChatEvent): void
  /** Returns the function that unsubscribes. */
  subscribe(listener: ChatEventListener): () => void
}

/** A listener that throws is reported and skipped: one bad subscriber must not undo a committed change. */
export function createChatEvents(onListenerError: (error: unknown, event: ChatEvent) => void): ChatEvents {
  const listeners = new Set<ChatEventListener>()
  return {
    emit(event) {
      for (const listener of listeners) {
        try {
          listener(event)
        } catch (error) {
          onListenerError(error, event)
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
