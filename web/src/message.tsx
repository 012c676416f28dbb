// One message in the log: author, time, text (or the tombstone), "(edited)", reactions, and the
// actions the person may take on it (Edit and Delete their own, Delete others' as a moderator, react).
import { ApiError, type Message, type Reaction } from '@insurge/client'
import { useSignal } from '@preact/signals'
import type { TargetedKeyboardEvent } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import { attempt, showError } from './alerts.js'
import { COMPOSER_ID } from './focus.js'
import { client } from './session.js'

export const QUICK_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '👀'] as const

export interface MessagePermissions {
  mine: boolean
  canReact: boolean
  canModerate: boolean
}

export function MessageItem(props: { message: Message; grouped: boolean; may: MessagePermissions }) {
  const { message, may } = props
  const editing = useSignal(false)
  const picking = useSignal(false)
  const deleted = message.deleted_at !== null
  const assistant = message.role === 'assistant'
  const sessionId = message.session_id
  // The button that opened the editor or the picker takes focus back when it closes (not the page's body).
  const reactButton = useRef<HTMLButtonElement>(null)
  const refocusEdit = useRef(false)
  // The Edit button is shown afresh when the editor closes: it takes focus then if the editor had it.
  const editButton = (button: HTMLButtonElement | null) => {
    if (!button || !refocusEdit.current) return
    refocusEdit.current = false
    queueMicrotask(() => button.focus())
  }

  const remove = async () => {
    const done = await attempt(async () => {
      await requireApi().deleteMessage({ path: { id: sessionId, message_id: message.id } })
      return true
    })
    // The Delete button is gone with the message: the person carries on in the message box.
    if (done) document.getElementById(COMPOSER_ID)?.focus()
  }

  return (
    <article
      class={`msg${props.grouped ? ' grouped' : ''}${assistant ? ' from-assistant' : ''}${deleted ? ' deleted' : ''}`}
      id={`msg-${message.seq}`}
    >
      <Avatar name={message.username} assistant={assistant} hidden={props.grouped} />
      <div class="msg-main">
        <div class={props.grouped ? 'msg-meta visually-hidden' : 'msg-meta'}>
          <span class="author">{message.username}</span> <MessageTime iso={message.created_at} />
          {message.ai_usage && (
            <>
              {' '}
              <Cost usage={message.ai_usage} />
            </>
          )}
        </div>
        {editing.value ? (
          <EditForm
            message={message}
            onDone={() => {
              refocusEdit.current = true
              editing.value = false
            }}
          />
        ) : deleted ? (
          <p class="msg-text tombstone">This message was deleted</p>
        ) : (
          <p class="msg-text">
            {message.content}
            {message.edited_at && <span class="edited"> (edited)</span>}
          </p>
        )}
        {!deleted && message.reactions.length > 0 && <Reactions message={message} canReact={may.canReact} />}
        {picking.value && (
          <EmojiPicker
            message={message}
            onClose={() => {
              // "Add reaction" stays on screen while the picker is open.
              reactButton.current?.focus()
              picking.value = false
            }}
          />
        )}
      </div>
      {!deleted && !editing.value && (may.canReact || may.mine || may.canModerate) && (
        <div class="msg-actions">
          {may.canReact && (
            <button
              type="button"
              ref={reactButton}
              class="icon small"
              aria-expanded={picking.value}
              onClick={() => {
                picking.value = !picking.value
              }}
              title="Add reaction"
            >
              <span aria-hidden="true">☺</span>
              <span class="visually-hidden">Add reaction</span>
            </button>
          )}
          {may.mine && !assistant && (
            <button
              type="button"
              ref={editButton}
              class="small"
              onClick={() => {
                editing.value = true
              }}
            >
              Edit
            </button>
          )}
          {(may.mine || may.canModerate) && (
            <button type="button" class="small danger" onClick={() => void remove()}>
              Delete
            </button>
          )}
        </div>
      )}
    </article>
  )
}

function requireApi() {
  const api = client.value?.api
  if (!api) throw new ApiError(0, 'signed_out', 'You are not logged in')
  return api
}

export function Avatar(props: { name: string; assistant?: boolean; hidden?: boolean }) {
  return (
    <span
      class={`avatar${props.assistant ? ' assistant' : ''}${props.hidden ? ' invisible' : ''}`}
      aria-hidden="true"
      style={props.assistant ? undefined : { backgroundColor: colorOf(props.name) }}
    >
      {props.assistant ? '✦' : props.name.slice(0, 1).toUpperCase()}
    </span>
  )
}

/** A stable, dark enough (white text on it passes 4.5:1) color per name. */
function colorOf(name: string): string {
  let hash = 0
  for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0
  return `hsl(${hash % 360} 55% 36%)`
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' })
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

export function MessageTime(props: { iso: string }) {
  const date = new Date(props.iso)
  return (
    <time class="time" dateTime={props.iso} title={fullFormat.format(date)}>
      {timeFormat.format(date)}
    </time>
  )
}

const tokens = new Intl.NumberFormat()

/** What an assistant's reply cost, discreetly: the tokens in all, the model and the split on hover. */
function Cost(props: { usage: NonNullable<Message['ai_usage']> }) {
  const { prompt_tokens: prompt, completion_tokens: completion, model } = props.usage
  return (
    <span
      class="cost"
      title={`${model}: ${tokens.format(prompt)} tokens read, ${tokens.format(completion)} written`}
    >
      {tokens.format(prompt + completion)} tokens
    </span>
  )
}

function EditForm(props: { message: Message; onDone: () => void }) {
  const text = useSignal(props.message.content)
  const busy = useSignal(false)
  const save = async () => {
    const content = text.value.trim()
    if (!content) {
      showError('A message cannot be empty: delete it instead.')
      return
    }
    if (content === props.message.content) {
      props.onDone()
      return
    }
    busy.value = true
    const saved = await attempt(() =>
      requireApi().editMessage({
        path: { id: props.message.session_id, message_id: props.message.id },
        body: { content },
      }),
    )
    busy.value = false
    if (saved) props.onDone()
  }
  const onKeyDown = (event: TargetedKeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      event.stopPropagation()
      props.onDone()
    } else if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      void save()
    }
  }
  const id = `edit-${props.message.id}`
  const box = useRef<HTMLTextAreaElement>(null)
  useEffect(() => {
    box.current?.focus()
  }, [])
  return (
    <form
      class="edit-form"
      onSubmit={(event) => {
        event.preventDefault()
        void save()
      }}
    >
      <label for={id} class="visually-hidden">
        Edit message
      </label>
      <textarea
        id={id}
        ref={box}
        rows={2}
        value={text.value}
        onInput={(event) => {
          text.value = event.currentTarget.value
        }}
        onKeyDown={onKeyDown}
      />
      <div class="edit-actions">
        <button type="submit" class="primary small" disabled={busy.value}>
          Save
        </button>
        <button type="button" class="small" onClick={props.onDone}>
          Cancel
        </button>
        <span class="hint">Enter to save, Escape to cancel</span>
      </div>
    </form>
  )
}

function toggleReaction(message: Message, emoji: string, mine: boolean) {
  const path = { id: message.session_id, message_id: message.id, emoji }
  return attempt(() => (mine ? requireApi().removeReaction({ path }) : requireApi().addReaction({ path })))
}

function Reactions(props: { message: Message; canReact: boolean }) {
  return (
    <ul class="reactions" aria-label="Reactions">
      {props.message.reactions.map((reaction: Reaction) => (
        <li key={reaction.emoji}>
          <button
            type="button"
            class={reaction.me ? 'chip mine' : 'chip'}
            aria-pressed={reaction.me}
            disabled={!props.canReact}
            aria-label={`${reaction.emoji} ${reaction.count}`}
            title={reaction.me ? 'Remove your reaction' : `React with ${reaction.emoji}`}
            onClick={() => void toggleReaction(props.message, reaction.emoji, reaction.me)}
          >
            <span aria-hidden="true">{reaction.emoji}</span> {reaction.count}
          </button>
        </li>
      ))}
    </ul>
  )
}

function EmojiPicker(props: { message: Message; onClose: () => void }) {
  const ref = useRef<HTMLFieldSetElement>(null)
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('[data-first]')?.focus()
  }, [])
  return (
    <fieldset
      ref={ref}
      class="picker"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation()
          props.onClose()
        }
      }}
    >
      <legend class="visually-hidden">Pick a reaction</legend>
      {QUICK_EMOJI.map((emoji, index) => {
        const mine = props.message.reactions.some((r) => r.emoji === emoji && r.me)
        return (
          <button
            type="button"
            key={emoji}
            class="icon"
            aria-label={`React with ${emoji}`}
            data-first={index === 0 || undefined}
            onClick={() => {
              props.onClose()
              void toggleReaction(props.message, emoji, mine)
            }}
          >
            {emoji}
          </button>
        )
      })}
    </fieldset>
  )
}
