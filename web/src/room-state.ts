// Everything a room view shows, as signals fed by the SDK's room: messages, the assistant's replies,
// who is typing, the room and its participants (kept current from the room's events).
import {
  ApiError,
  type AssistantReply,
  type Message,
  type Participant,
  type ResultOf,
  type Room,
} from '@insurge/client'
import { type Signal, useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { showError } from './alerts.js'
import type { AssistantSettings } from './assistant-settings.js'
import { refreshRooms } from './rooms.js'
import { navigate } from './route.js'
import { client } from './session.js'

export type RoomDetails = ResultOf<'getSession'>
export type Role = 'owner' | 'admin' | 'member' | 'viewer'

export interface AssistantFailure {
  replyTo: number
  detail: string
  at: number
}

export interface RoomState {
  room: Signal<Room | null>
  details: Signal<RoomDetails | null>
  participants: Signal<Participant[]>
  messages: Signal<readonly Message[]>
  replies: Signal<readonly AssistantReply[]>
  failures: Signal<AssistantFailure[]>
  typing: Signal<string[]>
  hasOlder: Signal<boolean>
  /** The assistant's settings once read (by the settings view), kept current from `session_updated`. */
  assistant: Signal<AssistantSettings | null>
  /** Reads the room and its participants again (after a membership change). */
  reload: () => Promise<void>
}

const TYPING_TIMEOUT_MS = 6_000

export function useRoomState(id: number): RoomState {
  const room = useSignal<Room | null>(null)
  const details = useSignal<RoomDetails | null>(null)
  const participants = useSignal<Participant[]>([])
  const messages = useSignal<readonly Message[]>([])
  const replies = useSignal<readonly AssistantReply[]>([])
  const failures = useSignal<AssistantFailure[]>([])
  const typing = useSignal<string[]>([])
  const hasOlder = useSignal(true)
  const assistant = useSignal<AssistantSettings | null>(null)
  const sdk = client.value

  const reload = async () => {
    if (!sdk) return
    try {
      const read = await sdk.api.getSession({ path: { id } })
      details.value = read
      participants.value = read.participants
    } catch (error) {
      showError(error)
    }
  }

  useEffect(() => {
    if (!sdk) return
    let gone = false
    const followed = sdk.room(id)
    const typers = new Map<number, { username: string; timer: ReturnType<typeof setTimeout> }>()
    const showTypers = () => {
      typing.value = [...typers.values()].map((typer) => typer.username)
    }
    const sync = () => {
      messages.value = [...followed.messages]
      hasOlder.value = followed.hasOlder
    }
    void reload()
    const offs = [
      followed.on('messages', sync),
      followed.on('assistant', (now) => {
        replies.value = now
      }),
      followed.on('assistantError', ({ replyTo, detail }) => {
        failures.value = [...failures.value, { replyTo, detail, at: Date.now() }]
      }),
      followed.on('message', (message) => {
        // Whoever sent a message has stopped typing.
        const typer = message.user_id === null ? undefined : typers.get(message.user_id)
        if (typer && message.user_id !== null) {
          clearTimeout(typer.timer)
          typers.delete(message.user_id)
          showTypers()
        }
      }),
      followed.on('typing', (frame) => {
        if (frame.user_id === sdk.userId) return
        const before = typers.get(frame.user_id)
        clearTimeout(before?.timer)
        typers.delete(frame.user_id)
        if (frame.is_typing) {
          const timer = setTimeout(() => {
            typers.delete(frame.user_id)
            showTypers()
          }, TYPING_TIMEOUT_MS)
          typers.set(frame.user_id, { username: frame.username, timer })
        }
        showTypers()
      }),
      followed.on('presence', (frame) => {
        participants.value = participants.value.map((p) =>
          p.user_id === frame.user_id ? { ...p, is_online: frame.status === 'online' } : p,
        )
      }),
      followed.on('event', (frame) => {
        // The room's end is told by `ended`; reading it again would only find it gone.
        if (frame.type === 'read' || frame.type === 'session_deleted') return
        if (
          (frame.type === 'participant_left' || frame.type === 'participant_removed') &&
          frame.user_id === sdk.userId
        )
          return
        if (frame.type === 'session_updated') {
          // A change of the assistant's settings comes with them (the SDK's frame type does not name them).
          const settings = (frame as { assistant?: AssistantSettings }).assistant
          if (settings) assistant.value = settings
          else if (assistant.value) assistant.value = { ...assistant.value, mode: frame.session.ai_mode }
          if (details.value) {
            details.value = { ...details.value, ...frame.session }
            return
          }
        }
        void reload()
      }),
      followed.on('error', showError),
      followed.on('ended', (error) => {
        if (gone) return
        showError(error)
        void refreshRooms()
        navigate('#/')
      }),
    ]
    room.value = followed
    sync()
    replies.value = followed.assistantReplies
    followed.ready.then(sync, (error: unknown) => {
      // 403: a public room not joined yet; the room view offers "Join" instead.
      if (gone || (error instanceof ApiError && error.status === 403)) return
      showError(error)
    })
    return () => {
      gone = true
      for (const off of offs) off()
      for (const typer of typers.values()) clearTimeout(typer.timer)
    }
  }, [sdk, id])

  return { room, details, participants, messages, replies, failures, typing, hasOlder, assistant, reload }
}

export const canSend = (role: Role | null | undefined): boolean =>
  role === 'owner' || role === 'admin' || role === 'member'
export const canModerate = (role: Role | null | undefined): boolean => role === 'owner' || role === 'admin'
