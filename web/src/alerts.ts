// The one place API errors go: a sentence shown in the alert region, never swallowed.
import { ApiError } from '@insurge/client'
import { signal } from '@preact/signals'

export const alertText = signal('')
let clearTimer: ReturnType<typeof setTimeout> | undefined

/** Shows what went wrong as a sentence (the server's `detail` when there is one). */
export function showError(error: unknown): void {
  const text =
    error instanceof ApiError ? error.detail : error instanceof Error ? error.message : String(error)
  alertText.value = text
  clearTimeout(clearTimer)
  clearTimer = setTimeout(() => {
    if (alertText.value === text) alertText.value = ''
  }, 12_000)
}

export function dismissAlert(): void {
  alertText.value = ''
}

/** Runs an action, showing its failure; resolves with its result or undefined. */
export async function attempt<T>(action: () => Promise<T>): Promise<T | undefined> {
  try {
    return await action()
  } catch (error) {
    showError(error)
    return undefined
  }
}
