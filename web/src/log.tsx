// The log of messages: older pages load when scrolled to the top (the view stays where it was), new
// ones keep it at the bottom when it was there; the assistant's replies stream in at the end.
import type { AssistantReply, AssistantToolUse, Message, Room } from '@insurge/client'
import { useSignal } from '@preact/signals'
import { useLayoutEffect, useRef } from 'preact/hooks'
import { showError } from './alerts.js'
import { Avatar, MessageItem, type MessagePermissions } from './message.js'
import type { AssistantFailure } from './room-state.js'

export interface PendingSend {
  key: string
  content: string
}

interface LogProps {
  room: Room | null
  title: string
  messages: readonly Message[]
  hasOlder: boolean
  replies: readonly AssistantReply[]
  failures: AssistantFailure[]
  pending: PendingSend[]
  myId: number | null
  canSend: boolean
  canModerate: boolean
  /** Changes when the person sends: the log goes to the bottom. */
  sentCount: number
}

const GROUP_MS = 5 * 60_000
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' })

export function MessageLog(props: LogProps) {
  const ref = useRef<HTMLDivElement>(null)
  const atBottom = useRef(true)
  const anchor = useRef<{ height: number; top: number } | null>(null)
  const loadingOlder = useSignal(false)

  const loadOlder = async () => {
    const el = ref.current
    const room = props.room
    if (!el || !room || loadingOlder.value || !room.hasOlder) return
    anchor.current = { height: el.scrollHeight, top: el.scrollTop }
    loadingOlder.value = true
    try {
      await room.loadOlder()
    } catch (error) {
      anchor.current = null
      showError(error)
    } finally {
      loadingOlder.value = false
    }
  }

  const onScroll = () => {
    const el = ref.current
    if (!el) return
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 48
    if (el.scrollTop < 150) void loadOlder()
  }

  useLayoutEffect(() => {
    const el = ref.current
    if (!el) return
    if (anchor.current) {
      el.scrollTop = anchor.current.top + (el.scrollHeight - anchor.current.height)
      anchor.current = null
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight
    }
    // A first page shorter than the window shows no scroll bar to pull the next one with.
    if (el.scrollHeight <= el.clientHeight && props.hasOlder && props.messages.length > 0) void loadOlder()
  }, [props.messages, props.replies, props.failures, props.pending])

  useLayoutEffect(() => {
    const el = ref.current
    if (!el || props.sentCount === 0) return
    atBottom.current = true
    el.scrollTop = el.scrollHeight
  }, [props.sentCount])

  const may = (message: Message): MessagePermissions => ({
    mine: message.user_id !== null && message.user_id === props.myId,
    canReact: props.canSend,
    canModerate: props.canModerate,
  })

  let previous: Message | undefined
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard
    <div ref={ref} class="log" role="log" aria-label="Messages" tabIndex={0} onScroll={onScroll}>
      <div class="log-start">
        {props.hasOlder ? (
          <span class="muted">{loadingOlder.value ? 'Loading older messages…' : ''}</span>
        ) : (
          <p class="muted">This is the beginning of {props.title}.</p>
        )}
      </div>
      {props.messages.map((message) => {
        const before = previous
        previous = message
        const newDay = !before || dayOf(before.created_at) !== dayOf(message.created_at)
        const grouped =
          !newDay &&
          before !== undefined &&
          before.deleted_at === null &&
          before.username === message.username &&
          Date.parse(message.created_at) - Date.parse(before.created_at) < GROUP_MS
        return (
          <div key={message.id} class="log-item">
            {newDay && (
              <div class="day">
                <span>{dayFormat.format(new Date(message.created_at))}</span>
              </div>
            )}
            <MessageItem message={message} grouped={grouped} may={may(message)} />
          </div>
        )
      })}
      {props.pending.map((send) => (
        <div key={send.key} class="msg pending">
          <Avatar name="?" hidden />
          <div class="msg-main">
            <p class="msg-text">{send.content}</p>
            <span class="hint">Sending…</span>
          </div>
        </div>
      ))}
      {props.replies.map((reply) => (
        <article key={`reply-${reply.replyTo}`} class="msg from-assistant streaming" aria-busy="true">
          <Avatar name="assistant" assistant />
          <div class="msg-main">
            <div class="msg-meta">
              <span class="author">assistant</span> <span class="hint">is writing…</span>
            </div>
            {reply.tools?.map((use, i) => (
              <p key={i} class="hint tool-use">
                {toolLine(use)}
              </p>
            ))}
            <p class="msg-text">
              {reply.text}
              <span class="caret" aria-hidden="true" />
            </p>
          </div>
          {props.canSend && (
            <div class="msg-actions shown">
              <button type="button" class="small" onClick={() => props.room?.stopAssistant()}>
                Stop
              </button>
            </div>
          )}
        </article>
      ))}
      {props.failures.map((failure) => (
        <div key={`${failure.replyTo}-${failure.at}`} class="msg-error">
          <span aria-hidden="true">⚠</span> <span class="visually-hidden">The assistant failed:</span>{' '}
          {failure.detail}
        </div>
      ))}
    </div>
  )
}

/** An `ai_tool` use as a sentence: "Searching the room's history for “launch”…", then what it found. */
function toolLine(use: AssistantToolUse): string {
  const query = typeof use.arguments.query === 'string' ? `“${use.arguments.query}”` : 'something'
  if (use.name !== 'search_room_history') return `Using ${use.name}…`
  if (use.status === 'running') return `Searching the room’s history for ${query}…`
  const found = use.resultCount ?? 0
  return `Searched the room’s history for ${query}: ${found === 1 ? '1 message' : `${found} messages`} found`
}

const dayOf = (iso: string): string => new Date(iso).toDateString()
