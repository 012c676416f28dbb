// "Assistant settings": when the room's assistant answers, the room's own instructions to it, its model,
// how much of the room it reads and whether it may search the room's history (DESIGN section 10), and
// what the room used today. Owners and admins change them; the room's other people may read them.
import type { ResultOf } from '@insurge/client'
import { type Signal, useSignal } from '@preact/signals'
import type { TargetedSubmitEvent } from 'preact'
import { useEffect } from 'preact/hooks'
import { attempt } from './alerts.js'
import { Dialog } from './dialogs.js'
import { ASSISTANT_MODES, Options } from './room-choices.js'
import { canModerate, type RoomDetails } from './room-state.js'
import { client } from './session.js'

export type AssistantSettings = ResultOf<'getAssistantSettings'>
type Usage = ResultOf<'getRoomAiUsage'>
type AiMode = AssistantSettings['mode']

/** The settings' limits, as the server checks them (src/ai/settings.schemas.ts). */
const MAX_INSTRUCTIONS = 4000
const MAX_CONTEXT_MESSAGES = 100

/** What the form shows, as its controls hold it (a number field holds text until it is saved). */
interface Form {
  mode: AiMode
  instructions: string
  model: string
  context_messages: string
  tools_enabled: boolean
}

const formOf = (settings: AssistantSettings): Form => ({
  mode: settings.mode,
  instructions: settings.instructions,
  model: settings.model,
  context_messages: String(settings.context_messages),
  tools_enabled: settings.tools_enabled,
})

/** The fields `edits` changed from `settings`: a save sends only those, so it undoes no one else's change. */
function changesOf(settings: AssistantSettings, edits: Partial<Form>) {
  const changes: {
    mode?: AiMode
    instructions?: string
    model?: string
    context_messages?: number
    tools_enabled?: boolean
  } = {}
  if (edits.mode !== undefined && edits.mode !== settings.mode) changes.mode = edits.mode
  if (edits.instructions !== undefined && edits.instructions !== settings.instructions)
    changes.instructions = edits.instructions
  if (edits.model !== undefined && edits.model !== settings.model) changes.model = edits.model
  const context = edits.context_messages === undefined ? undefined : Number(edits.context_messages)
  if (context !== undefined && context !== settings.context_messages) changes.context_messages = context
  if (edits.tools_enabled !== undefined && edits.tools_enabled !== settings.tools_enabled)
    changes.tools_enabled = edits.tools_enabled
  return changes
}

const count = new Intl.NumberFormat()

export function AssistantSettingsDialog(props: {
  details: RoomDetails
  /** The room's settings as last read or announced (`session_updated` keeps it current). */
  settings: Signal<AssistantSettings | null>
  onClose: () => void
}) {
  const { details, settings } = props
  const canChange = canModerate(details.my_role)
  /** The fields this person changed and has not saved; the others follow the room's settings live. */
  const edits = useSignal<Partial<Form>>({})
  const usage = useSignal<Usage | null>(null)
  const busy = useSignal(false)

  useEffect(() => {
    const api = client.value?.api
    if (!api) return
    void attempt(() => api.getAssistantSettings({ path: { id: details.id } })).then((read) => {
      if (read) settings.value = read
    })
  }, [details.id])

  useEffect(() => {
    const api = client.value?.api
    if (!api || !canChange) return
    void attempt(() => api.getRoomAiUsage({ path: { id: details.id } })).then((read) => {
      if (read) usage.value = read
    })
  }, [details.id, canChange])

  const current = settings.value
  const edit = (change: Partial<Form>) => {
    edits.value = { ...edits.value, ...change }
  }

  const save = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault()
    const api = client.value?.api
    if (!api || !current) return
    const changes = changesOf(current, edits.value)
    if (Object.keys(changes).length > 0) {
      busy.value = true
      const saved = await attempt(() =>
        api.updateAssistantSettings({ path: { id: details.id }, body: changes }),
      )
      busy.value = false
      if (saved === undefined) return
      settings.value = saved
    }
    edits.value = {}
    props.onClose()
  }

  if (!current)
    return (
      <Dialog title="Assistant settings" onClose={props.onClose} wide>
        <p class="muted">Loading…</p>
      </Dialog>
    )

  const form = { ...formOf(current), ...edits.value }
  return (
    <Dialog title="Assistant settings" onClose={props.onClose} wide>
      <form class="stack" onSubmit={save}>
        {!canChange && <p class="muted">Only the room’s owner and admins can change these.</p>}
        <fieldset class="stack plain" disabled={!canChange || busy.value}>
          <legend class="visually-hidden">The room’s assistant</legend>
          <div class="field">
            <label for="assistant-mode">Mode</label>
            <select
              id="assistant-mode"
              value={form.mode}
              onChange={(event) => edit({ mode: event.currentTarget.value as AiMode })}
            >
              <Options choices={ASSISTANT_MODES} />
            </select>
          </div>
          <div class="field">
            <label for="assistant-instructions">Instructions</label>
            <textarea
              id="assistant-instructions"
              rows={5}
              maxLength={MAX_INSTRUCTIONS}
              value={form.instructions}
              aria-describedby="assistant-instructions-hint"
              onInput={(event) => edit({ instructions: event.currentTarget.value })}
            />
            <small id="assistant-instructions-hint" class="hint split">
              <span>Given to the assistant with every reply in this room.</span>
              <span>
                {count.format(form.instructions.length)} of {count.format(MAX_INSTRUCTIONS)} characters
              </span>
            </small>
          </div>
          <div class="field-row">
            <div class="field grow">
              <label for="assistant-model">Model</label>
              <select
                id="assistant-model"
                value={form.model}
                onChange={(event) => edit({ model: event.currentTarget.value })}
              >
                <Options choices={current.available_models.map((model) => [model, model] as const)} />
              </select>
            </div>
            <div class="field">
              <label for="assistant-context">Context messages</label>
              <input
                id="assistant-context"
                type="number"
                required
                min={1}
                max={MAX_CONTEXT_MESSAGES}
                step={1}
                value={form.context_messages}
                aria-describedby="assistant-context-hint"
                onInput={(event) => edit({ context_messages: event.currentTarget.value })}
              />
            </div>
          </div>
          <small id="assistant-context-hint" class="hint">
            How many of the room’s newest messages the assistant reads (1 to {MAX_CONTEXT_MESSAGES}).
          </small>
          <div class="check">
            <input
              id="assistant-tools"
              type="checkbox"
              checked={form.tools_enabled}
              aria-describedby="assistant-tools-hint"
              onChange={(event) => edit({ tools_enabled: event.currentTarget.checked })}
            />
            <div>
              <label for="assistant-tools">Search the room’s history</label>
              <small id="assistant-tools-hint" class="hint block">
                The assistant may look up older messages of this room when a question needs them.
              </small>
            </div>
          </div>
        </fieldset>
        {canChange && <UsageLine usage={usage.value} />}
        {canChange && (
          <div class="actions">
            <button type="button" onClick={props.onClose}>
              Cancel
            </button>
            <button type="submit" class="primary" disabled={busy.value}>
              Save
            </button>
          </div>
        )}
      </form>
    </Dialog>
  )
}

function UsageLine(props: { usage: Usage | null }) {
  const { usage } = props
  if (!usage) return null
  const used = count.format(usage.tokens_used)
  return (
    <p class="usage">
      Used today:{' '}
      {usage.tokens_limit === 0
        ? `${used} tokens, no daily limit`
        : `${used} of ${count.format(usage.tokens_limit)} tokens`}
    </p>
  )
}
