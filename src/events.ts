// Domain events, emitted by services after their transaction commits. The realtime layer decides who
// receives them; nothing here knows about sockets.
import type { AssistantSettingsView } from './ai/settings.schemas.js'
import type { MessageView, ParticipantView, SessionView } from './chat/chat.schemas.js'

export type ChatEvent =
  | {
      type: 'message_created'
      sessionId: number
      message: MessageView
      /** The room as the send statement found it: what the assistant decides on, with no query of its own. */
      room: { aiMode: SessionView['ai_mode']; title: string }
    }
  | { type: 'participant_joined'; sessionId: number; participant: ParticipantView }
  | { type: 'participant_left'; sessionId: number; userId: number; username: string }
  | { type: 'participant_removed'; sessionId: number; userId: number; username: string; banned: boolean }
  | {
      type: 'role_changed'
      sessionId: number
      participant: ParticipantView
      previousRole: ParticipantView['role']
    }
  | {
      type: 'session_updated'
      sessionId: number
      session: Omit<SessionView, 'my_role' | 'last_read_seq' | 'unread_count'>
      /** When the room's assistant settings are what changed. */
      assistant?: AssistantSettingsView
    }
  | { type: 'session_deleted'; sessionId: number }
  | { type: 'message_updated'; sessionId: number; message: MessageView }
  | { type: 'message_deleted'; sessionId: number; id: number; seq: number }
  | {
      type: 'reaction_added' | 'reaction_removed'
      sessionId: number
      messageId: number
      emoji: string
      userId: number
      username: string
    }
  | { type: 'read'; sessionId: number; userId: number; seq: number }

/** The user's logins were ended (logout-all, password change, deactivation): their sockets close too. */
export type AccountEvent =
  | { type: 'account_signed_out'; userId: number; reason: string }
  /** The user's new username, for what their open sockets still say in their name (typing, presence). */
  | { type: 'account_renamed'; userId: number; username: string }

/** The assistant's reply to message `replyTo`, while it is generated. */
export type AiEvent =
  | { type: 'ai_started'; sessionId: number; replyTo: number }
  /** `offset`: the reply's length in UTF-16 code units before this delta. */
  | { type: 'ai_delta'; sessionId: number; replyTo: number; delta: string; offset: number }
  | { type: 'ai_failed'; sessionId: number; replyTo: number; detail: string }
  /** The assistant uses a tool while writing the reply (`resultCount` once it is done). */
  | {
      type: 'ai_tool'
      sessionId: number
      replyTo: number
      name: string
      arguments: Record<string, unknown>
      resultCount: number | null
    }
  /** One provider call finished or failed (a reply's or a catch-up's): what the metrics count. */
  | {
      type: 'ai_measured'
      model: string
      usage: { prompt_tokens: number; completion_tokens: number } | null
      /** From the request to the first text; null when no text came. */
      firstTokenSeconds: number | null
      seconds: number
    }

/** Signals to a room that are not stored (src/chat/signals.service.ts). */
export type SignalEvent =
  | { type: 'typing'; sessionId: number; userId: number; username: string; isTyping: boolean }
  /** Someone who may send asked the assistant to stop its replies in the room. */
  | { type: 'ai_stop_requested'; sessionId: number }
  /** The user was online in the room on an instance that crashed: they are offline now. */
  | { type: 'presence_lapsed'; sessionId: number; userId: number; username: string }

export type DomainEvent = ChatEvent | AccountEvent | AiEvent | SignalEvent

export type DomainEventListener = (event: DomainEvent) => void

export interface DomainEvents {
  emit(event: DomainEvent): void
  /** Returns the function that unsubscribes. */
  subscribe(listener: DomainEventListener): () => void
}

/** A listener that throws is reported and skipped: one bad subscriber must not undo a committed change. */
export function createDomainEvents(
  onListenerError: (error: unknown, event: DomainEvent) => void,
): DomainEvents {
  const listeners = new Set<DomainEventListener>()
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
