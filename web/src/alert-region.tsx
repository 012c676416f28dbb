// The alert region: in the open dialog when there is one (the page behind it is inert), else in the page.
import { signal } from '@preact/signals'
import { alertText, dismissAlert } from './alerts.js'

export const openDialogs = signal(0)

export function AlertRegion(props: { inDialog?: boolean }) {
  const here = props.inDialog ? openDialogs.value > 0 : openDialogs.value === 0
  if (!here || !alertText.value) return null
  return (
    <div class="alert">
      <div role="alert">{alertText.value}</div>
      <button type="button" class="icon" aria-label="Dismiss" onClick={dismissAlert}>
        ×
      </button>
    </div>
  )
}
