// The one place API errors go: a sentence shown in the alert region, never swallowed.
import { ApiError } from '@insurge/client'
import { signal } from '@preact/signals'

export const alertText = signal('')
/** What the shown alert is about: an action's name, 'network' for an unreachable server, or ''. */
let alertSource = ''
let clearTimer: ReturnType<typeof setTimeout> | undefined

/**
 * Shows what went wrong as a sentence (the server's `detail` when there is one). `source` names the
 * action, so that its later success can take the alert down (see `clearError`).
 */
export function showError(error: unknown, source = ''): void {
  const text =
    error instanceof ApiError ? error.detail : error instanceof Error ? error.message : String(error)
  alertText.value = text
  alertSource = source || (error instanceof ApiError && error.code === 'network' ? 'network' : '')
  clearTimeout(clearTimer)
  clearTimer = setTimeout(() => {
    if (alertText.value === text) dismissAlert()
  }, 12_000)
}

export function dismissAlert(): void {
  alertText.value = ''
  alertSource = ''
}

/** Takes the alert down if it is about `source` (an action that has now worked, or 'network' once back). */
export function clearError(source: string): void {
  if (source && alertSource === source) dismissAlert()
}

/**
 * Runs an action, showing its failure; resolves with its result or undefined. With a `source`, a
 * success takes down the alert an earlier failure of the same action left.
 */
export async function attempt<T>(action: () => Promise<T>, source = ''): Promise<T | undefined> {
  try {
    const result = await action()
    clearError(source)
    return result
  } catch (error) {
    showError(error, source)
    return undefined
  }
}
