// The message box: Enter sends, Shift+Enter starts a new line; typing is told to the others.
import type { Room } from '@insurge/client'
import { useSignal } from '@preact/signals'
import type { RefObject, TargetedKeyboardEvent } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import { COMPOSER_ID, composerFocus } from './focus.js'

const TYPING_IDLE_MS = 3_000
const MAX_LENGTH = 10_000

interface ComposerProps {
  room: Room | null
  title: string
  onSend: (content: string) => void
  /** Whether the others were told this person is typing (the room view tells them it stopped when it closes). */
  typing: RefObject<boolean>
}

export function Composer(props: ComposerProps) {
  const text = useSignal('')
  const typing = props.typing
  const idle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const box = useRef<HTMLTextAreaElement>(null)

  const stopTyping = () => {
    clearTimeout(idle.current)
    if (typing.current) props.room?.setTyping(false)
    typing.current = false
  }
  // Unmounted because the role changed to viewer: no more typing frames (the server would refuse them).
  useEffect(() => () => clearTimeout(idle.current), [])
  // In a room just created, or after a delete, the message box is where the person carries on.
  useEffect(() => {
    if (composerFocus.take()) box.current?.focus()
  }, [])

  const onInput = (value: string) => {
    text.value = value
    if (!value.trim()) {
      stopTyping()
      return
    }
    if (!typing.current) typing.current = props.room?.setTyping(true) ?? false
    clearTimeout(idle.current)
    idle.current = setTimeout(stopTyping, TYPING_IDLE_MS)
  }

  const send = () => {
    const content = text.value.trim()
    if (!content) return
    props.onSend(content)
    text.value = ''
    stopTyping()
    box.current?.focus()
  }

  const onKeyDown = (event: TargetedKeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      send()
    }
  }

  const lines = Math.min(8, text.value.split('\n').length)
  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault()
        send()
      }}
    >
      <label for={COMPOSER_ID} class="visually-hidden">
        Message
      </label>
      <textarea
        id={COMPOSER_ID}
        ref={box}
        rows={lines}
        maxLength={MAX_LENGTH}
        placeholder={`Message ${props.title}`}
        value={text.value}
        onInput={(event) => onInput(event.currentTarget.value)}
        onKeyDown={onKeyDown}
        aria-describedby="composer-hint"
      />
      <button type="submit" class="primary" disabled={!text.value.trim()}>
        Send
      </button>
      <span id="composer-hint" class="visually-hidden">
        Enter sends, Shift+Enter starts a new line. Mention @assistant to ask the assistant.
      </span>
    </form>
  )
}
