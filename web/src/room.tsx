// A room: header, search results, the log, who is typing, and the message box.
import type { Message, Room } from '@insurge/client'
import { useSignal } from '@preact/signals'
import { useEffect, useRef } from 'preact/hooks'
import { attempt, showError } from './alerts.js'
import { AssistantSettingsDialog } from './assistant-settings.js'
import { CatchUpDialog } from './catch-up.js'
import { Composer } from './composer.js'
import { MessageLog, type PendingSend } from './log.js'
import { MembersDialog } from './members.js'
import { RoomHeader } from './room-header.js'
import { canModerate, canSend, type RoomDetails, useRoomState } from './room-state.js'
import { refreshRooms } from './rooms.js'
import { roomGeneration } from './route.js'
import { SearchResults, useSearch } from './search.js'
import { client } from './session.js'
import { SettingsDialog } from './settings.js'

export function RoomView(props: { id: number }) {
  const state = useRoomState(props.id)
  const search = useSearch()
  const pending = useSignal<PendingSend[]>([])
  const sentCount = useSignal(0)
  const showMembers = useSignal(false)
  const showSettings = useSignal(false)
  const showAssistant = useSignal(false)
  const showCatchUp = useSignal(false)
  const typing = useRef(false)
  const myId = client.value?.userId ?? null
  const details = state.details.value
  const role = details?.my_role ?? null
  const title = details?.title ?? ''

  // The read marker as it was when the room was opened (the first reading of the room, taken before the
  // room is marked read): "Catch up" summarizes what came after it.
  const unreadFrom = useRef<number | null>(null)
  if (details && unreadFrom.current === null) unreadFrom.current = details.last_read_seq
  useMarkRead(state.room.value, state.messages.value, details !== null)

  const room = state.room.value
  useEffect(
    () => () => {
      if (typing.current) room?.setTyping(false)
      typing.current = false
    },
    [room],
  )

  useEffect(() => {
    if (details) document.title = `${details.title} · Insurge`
    return () => {
      document.title = 'Insurge'
    }
  }, [details?.title])

  const send = (content: string) => {
    const room = state.room.value
    if (!room) return
    const key = `${Date.now()}-${Math.random()}`
    pending.value = [...pending.value, { key, content }]
    sentCount.value += 1
    room
      .send(content)
      .catch(showError)
      .finally(() => {
        pending.value = pending.value.filter((p) => p.key !== key)
      })
  }

  return (
    <section class="room" aria-labelledby="room-title">
      <RoomHeader
        id={props.id}
        room={state.room.value}
        details={details}
        memberCount={state.participants.value.length}
        search={search}
        onMembers={() => {
          showMembers.value = true
        }}
        onSettings={() => {
          showSettings.value = true
        }}
        onAssistant={() => {
          showAssistant.value = true
        }}
        onCatchUp={() => {
          showCatchUp.value = true
        }}
      />
      <SearchResults room={state.room.value} state={search} />
      <MessageLog
        room={state.room.value}
        title={title}
        messages={state.messages.value}
        hasOlder={state.hasOlder.value}
        replies={state.replies.value}
        failures={state.failures.value}
        pending={pending.value}
        myId={myId}
        canSend={canSend(role)}
        canModerate={canModerate(role)}
        sentCount={sentCount.value}
      />
      <TypingLine names={state.typing.value} />
      {details && role === null ? (
        <JoinBar details={details} onJoined={state.reload} />
      ) : details && !canSend(role) ? (
        <p class="read-only">You can read this room but not write in it (your role is viewer).</p>
      ) : (
        <Composer room={state.room.value} title={title} onSend={send} typing={typing} />
      )}
      {showSettings.value && details && (
        <SettingsDialog
          details={details}
          onSaved={state.reload}
          onClose={() => {
            showSettings.value = false
          }}
        />
      )}
      {showAssistant.value && details && (
        <AssistantSettingsDialog
          details={details}
          settings={state.assistant}
          onClose={() => {
            showAssistant.value = false
          }}
        />
      )}
      {showCatchUp.value && details && (
        <CatchUpDialog
          sessionId={details.id}
          afterSeq={unreadFrom.current ?? details.last_read_seq}
          onClose={() => {
            showCatchUp.value = false
          }}
        />
      )}
      {showMembers.value && details && (
        <MembersDialog
          details={details}
          participants={state.participants.value}
          onChanged={state.reload}
          onClose={() => {
            showMembers.value = false
          }}
        />
      )}
    </section>
  )
}

/** A public room opened by someone not in it yet (a shared link): it can be joined from here. */
function JoinBar(props: { details: RoomDetails; onJoined: () => Promise<void> }) {
  const join = async () => {
    const api = client.value?.api
    if (!api) return
    const joined = await attempt(() => api.joinSession({ path: { id: props.details.id } }))
    if (joined === undefined) return
    await refreshRooms()
    // The room is followed afresh now that it may be read.
    roomGeneration.value += 1
  }
  return (
    <div class="read-only join-bar">
      <span>You are not in this room yet.</span>
      <button type="button" class="primary" aria-describedby="room-title" onClick={() => void join()}>
        Join
      </button>
    </div>
  )
}

function TypingLine(props: { names: string[] }) {
  const [first, second] = props.names
  const text =
    props.names.length === 0
      ? ''
      : props.names.length === 1
        ? `${first} is typing…`
        : props.names.length === 2
          ? `${first} and ${second} are typing…`
          : 'Several people are typing…'
  return (
    <div class="typing" aria-live="polite">
      {text}
    </div>
  )
}

/**
 * Moves the read marker while the room is on screen, then reads the room list again (its unread count).
 * Not before `ready` (the room's first reading has come), so that reading still shows the marker as it was.
 */
function useMarkRead(room: Room | null, messages: readonly Message[], ready: boolean) {
  const visible = useSignal(document.visibilityState === 'visible')
  const marked = useRef(0)
  useEffect(() => {
    const onChange = () => {
      visible.value = document.visibilityState === 'visible'
    }
    document.addEventListener('visibilitychange', onChange)
    return () => document.removeEventListener('visibilitychange', onChange)
  }, [])
  useEffect(() => {
    if (!room || !ready || !visible.value || room.seq <= marked.current) return
    marked.current = room.seq
    room
      .markRead()
      .then(() => refreshRooms())
      .catch(showError)
  }, [room, messages, ready, visible.value])
}
