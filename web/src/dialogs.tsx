// A modal dialog on the native <dialog> (focus kept inside, Escape closes), and the "New room" dialog.
import { useSignal } from '@preact/signals'
import type { ComponentChildren, TargetedSubmitEvent } from 'preact'
import { useEffect, useId, useRef } from 'preact/hooks'
import { AlertRegion, openDialogs } from './alert-region.js'
import { attempt, showError } from './alerts.js'
import { composerFocus } from './focus.js'
import { ASSISTANT_MODES, Options, ROOM_TYPES } from './room-choices.js'
import { refreshRooms } from './rooms.js'
import { navigate, roomHref } from './route.js'
import { client } from './session.js'

export function Dialog(props: {
  title: string
  onClose: () => void
  children: ComponentChildren
  wide?: boolean
}) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  const onClose = useRef(props.onClose)
  onClose.current = props.onClose
  useEffect(() => {
    const dialog = ref.current
    if (!dialog) return
    const opener = document.activeElement as HTMLElement | null
    dialog.showModal()
    dialog.querySelector<HTMLElement>('[data-autofocus]')?.focus()
    openDialogs.value = openDialogs.value + 1
    const closed = () => onClose.current()
    dialog.addEventListener('close', closed)
    return () => {
      dialog.removeEventListener('close', closed)
      if (dialog.open) dialog.close()
      openDialogs.value = openDialogs.value - 1
      opener?.focus()
    }
  }, [])
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: a backdrop click; the keyboard closes the dialog with Escape
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      class={props.wide ? 'dialog wide' : 'dialog'}
      onClick={(event) => {
        // A click on the backdrop (the dialog element itself, outside its content) closes it.
        if (event.target === ref.current) ref.current?.close()
      }}
    >
      <div class="dialog-body">
        <header class="dialog-header">
          <h2 id={titleId}>{props.title}</h2>
          <button type="button" class="icon" aria-label="Close" onClick={() => ref.current?.close()}>
            ×
          </button>
        </header>
        <AlertRegion inDialog />
        {props.children}
      </div>
    </dialog>
  )
}

type SessionType = 'public' | 'invite_only' | 'private'
type AiMode = 'off' | 'mention' | 'always'

export function NewRoomDialog(props: { onClose: () => void }) {
  const busy = useSignal(false)
  const type = useSignal<SessionType>('public')
  const aiMode = useSignal<AiMode | null>(null)
  // The server's default: the assistant answers every message in a private room, mentions elsewhere.
  const shownAiMode: AiMode = aiMode.value ?? (type.value === 'private' ? 'always' : 'mention')

  const create = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault()
    const api = client.value?.api
    if (!api) return
    const form = event.currentTarget
    const title = String(new FormData(form).get('title') ?? '').trim()
    if (!title) {
      // `required` lets spaces through, and the server would refuse them: say so here, with no request.
      showError('A room needs a title: spaces alone are not one')
      form.querySelector<HTMLInputElement>('[name="title"]')?.focus()
      return
    }
    busy.value = true
    const room = await attempt(() =>
      api.createSession({ body: { title, session_type: type.value, ai_mode: shownAiMode } }),
    )
    busy.value = false
    if (!room) return
    await refreshRooms()
    // The new room's message box takes focus, not "New room" (where the dialog would put it back).
    composerFocus.want()
    props.onClose()
    navigate(roomHref(room.id))
  }

  return (
    <Dialog title="New room" onClose={props.onClose}>
      <form class="stack" onSubmit={create}>
        <div class="field">
          <label for="new-room-title">Title</label>
          <input
            id="new-room-title"
            name="title"
            required
            maxLength={200}
            autocomplete="off"
            data-autofocus
          />
        </div>
        <div class="field">
          <label for="new-room-type">Type</label>
          <select
            id="new-room-type"
            value={type.value}
            onChange={(event) => {
              type.value = event.currentTarget.value as SessionType
            }}
          >
            <Options choices={ROOM_TYPES} />
          </select>
          <small class="hint">
            {type.value === 'public'
              ? 'Listed: anyone may join.'
              : type.value === 'invite_only'
                ? 'Not listed: owners and admins add people.'
                : 'Only you: notes or a personal assistant chat.'}
          </small>
        </div>
        <div class="field">
          <label for="new-room-ai">Assistant</label>
          <select
            id="new-room-ai"
            value={shownAiMode}
            onChange={(event) => {
              aiMode.value = event.currentTarget.value as AiMode
            }}
          >
            <Options choices={ASSISTANT_MODES} />
          </select>
        </div>
        <div class="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy.value}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  )
}
