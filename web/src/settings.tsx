// "Room settings" for owners and admins: title, description, type, assistant; the owner may delete the room.
import { useSignal } from '@preact/signals'
import type { TargetedSubmitEvent } from 'preact'
import { attempt } from './alerts.js'
import { Dialog } from './dialogs.js'
import { ASSISTANT_MODES, Options, ROOM_TYPES } from './room-choices.js'
import type { RoomDetails } from './room-state.js'
import { refreshRooms } from './rooms.js'
import { navigate } from './route.js'
import { client } from './session.js'

type SessionType = RoomDetails['session_type']
type AiMode = RoomDetails['ai_mode']

export function SettingsDialog(props: {
  details: RoomDetails
  onSaved: () => Promise<void>
  onClose: () => void
}) {
  const { details } = props
  const busy = useSignal(false)

  const save = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault()
    const api = client.value?.api
    if (!api) return
    const data = new FormData(event.currentTarget)
    const description = String(data.get('description') ?? '').trim()
    busy.value = true
    const saved = await attempt(() =>
      api.updateSession({
        path: { id: details.id },
        body: {
          title: String(data.get('title') ?? '').trim(),
          description: description || null,
          session_type: String(data.get('type')) as SessionType,
          ai_mode: String(data.get('ai')) as AiMode,
        },
      }),
    )
    busy.value = false
    if (saved === undefined) return
    await Promise.all([props.onSaved(), refreshRooms()])
    props.onClose()
  }

  const remove = async () => {
    const api = client.value?.api
    if (!api || !window.confirm(`Delete “${details.title}” for everyone? This cannot be undone.`)) return
    const deleted = await attempt(() => api.deleteSession({ path: { id: details.id } }).then(() => true))
    if (!deleted) return
    props.onClose()
    await refreshRooms()
    navigate('#/')
  }

  return (
    <Dialog title="Room settings" onClose={props.onClose}>
      <form class="stack" onSubmit={save}>
        <div class="field">
          <label for="settings-title">Title</label>
          <input
            id="settings-title"
            name="title"
            required
            maxLength={200}
            value={details.title}
            data-autofocus
          />
        </div>
        <div class="field">
          <label for="settings-description">Description</label>
          <input
            id="settings-description"
            name="description"
            maxLength={1000}
            value={details.description ?? ''}
          />
        </div>
        <div class="field">
          <label for="settings-type">Type</label>
          <select id="settings-type" name="type" value={details.session_type}>
            <Options choices={ROOM_TYPES} />
          </select>
        </div>
        <div class="field">
          <label for="settings-ai">Assistant</label>
          <select id="settings-ai" name="ai" value={details.ai_mode}>
            <Options choices={ASSISTANT_MODES} />
          </select>
        </div>
        <div class="actions">
          {details.my_role === 'owner' && (
            <button type="button" class="danger push-left" onClick={() => void remove()}>
              Delete room
            </button>
          )}
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy.value}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  )
}
