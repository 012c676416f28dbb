// "Catch-up": the assistant's summary, for this person alone, of what the room said after their read marker
// as it was when they opened the room (DESIGN section 10). Nothing is posted; the server answers once.
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
  const busy = useSignal(false)
  const failed = useSignal(false)
  // Aborted when the dialog closes: the request ends, and the server stops asking the model.
  const asking = useRef(new AbortController())

  const ask = async () => {
    const api = client.value?.api
    if (!api) return
    const { signal } = asking.current
    busy.value = true
    failed.value = false
    try {
      const answer = await api.catchUp({
        path: { id: props.sessionId },
        body: { after_seq: props.afterSeq },
        signal,
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
  return (
    <Dialog title="Catch-up" onClose={props.onClose} wide>
      <div class="stack">
        {/* Present from the start, so that a screen reader announces the change from busy to done. */}
        <p role="status" class="muted">
          {status}
        </p>
        {answer && answer.message_count > 0 && <p class="catch-up-text">{answer.text}</p>}
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
