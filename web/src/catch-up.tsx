// "Catch-up": the assistant's summary, for this person alone, of what the room said after their read marker
// as it was when they opened the room (DESIGN section 10), shown as the model writes it. Nothing is posted.
import type { ResultOf } from '@insurge/client'
import { signal, useSignal } from '@preact/signals'
import { useEffect, useRef } from 'preact/hooks'
import { showError } from './alerts.js'
import { Dialog } from './dialogs.js'
import { client } from './session.js'

type CatchUp = ResultOf<'catchUp'>

/**
 * Whether the server has an assistant (GET /health `ai`). A catch-up needs one, whatever the room's
 * `ai_mode` (that only says when the assistant answers in the room), so the button follows this alone.
 */
export const assistantConfigured = signal(false)

export async function readAssistantConfigured(api: NonNullable<typeof client.value>['api']): Promise<void> {
  try {
    assistantConfigured.value = (await api.getHealth()).ai === 'configured'
  } catch {
    // Unknown (the health check failed): offer it, and let the server's sentence say if it cannot.
    assistantConfigured.value = true
  }
}

const count = new Intl.NumberFormat()

export function CatchUpDialog(props: { sessionId: number; afterSeq: number; onClose: () => void }) {
  const result = useSignal<CatchUp | null>(null)
  // The summary so far, while it is being written.
  const written = useSignal('')
  const busy = useSignal(false)
  const failed = useSignal(false)
  // Aborted when the dialog closes: the request ends, and the server stops asking the model.
  const asking = useRef(new AbortController())

  const ask = async () => {
    const current = client.value
    if (!current) return
    const { signal } = asking.current
    busy.value = true
    failed.value = false
    written.value = ''
    try {
      const answer = await current.catchUp(props.sessionId, {
        afterSeq: props.afterSeq,
        signal,
        onText: (text) => {
          written.value += text
        },
      })
      if (!signal.aborted) result.value = answer
    } catch (error) {
      // Closed before the answer came: the person has moved on and is not told of it.
      if (signal.aborted) return
      failed.value = true
      showError(error)
    } finally {
      busy.value = false
    }
  }

  useEffect(() => {
    void ask()
    return () => asking.current.abort()
  }, [])

  const answer = result.value
  const status = busy.value
    ? 'Summarizing…'
    : !answer
      ? ''
      : answer.message_count === 0
        ? 'Nothing new since you last read.'
        : `Summary of ${count.format(answer.message_count)} ${answer.message_count === 1 ? 'message' : 'messages'}`
  // The summary, or what the model has written of it so far.
  const shown = answer ? (answer.message_count > 0 ? answer.text : '') : busy.value ? written.value : ''
  return (
    <Dialog title="Catch-up" onClose={props.onClose} wide>
      <div class="stack">
        {/* Present from the start, so that a screen reader announces the change from busy to done. */}
        <p role="status" class="muted">
          {status}
        </p>
        {shown && (
          <section aria-label="Summary" aria-busy={!answer}>
            <p class="catch-up-text">{shown}</p>
          </section>
        )}
        {failed.value && !busy.value && (
          <div class="actions">
            <button type="button" onClick={() => void ask()}>
              Try again
            </button>
          </div>
        )}
      </div>
    </Dialog>
  )
}
