// Sign up and log in: two tabs over one card; signing up logs in at once.
import { useSignal } from '@preact/signals'
import type { TargetedSubmitEvent } from 'preact'
import { showError } from './alerts.js'
import { logIn, signUp } from './session.js'

type Mode = 'signup' | 'login'

export function AuthScreen() {
  const mode = useSignal<Mode>(location.hash === '#/login' ? 'login' : 'signup')
  const busy = useSignal(false)

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault()
    const data = new FormData(event.currentTarget)
    const field = (name: string) => String(data.get(name) ?? '')
    busy.value = true
    try {
      if (mode.value === 'signup')
        await signUp(field('email').trim(), field('username').trim(), field('password'))
      else await logIn(field('email').trim(), field('password'))
    } catch (error) {
      showError(error)
    } finally {
      busy.value = false
    }
  }

  const tab = (value: Mode, label: string) => (
    <button
      type="button"
      role="tab"
      id={`tab-${value}`}
      aria-selected={mode.value === value}
      aria-controls="auth-panel"
      tabIndex={mode.value === value ? 0 : -1}
      class="auth-tab"
      onClick={() => {
        mode.value = value
      }}
      onKeyDown={(event) => {
        if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
          const other: Mode = value === 'signup' ? 'login' : 'signup'
          mode.value = other
          document.getElementById(`tab-${other}`)?.focus()
        }
      }}
    >
      {label}
    </button>
  )

  const signingUp = mode.value === 'signup'
  return (
    <main class="auth">
      <div class="auth-card">
        <h1 class="brand">
          <span class="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Insurge
        </h1>
        <p class="muted">Chat rooms with people and an assistant.</p>
        <div role="tablist" aria-label="Account" class="auth-tabs">
          {tab('signup', 'Create account')}
          {tab('login', 'I have an account')}
        </div>
        <div id="auth-panel" role="tabpanel" aria-labelledby={`tab-${mode.value}`}>
          <form class="stack" onSubmit={submit} key={mode.value}>
            <div class="field">
              <label for="auth-email">Email</label>
              <input id="auth-email" name="email" type="email" autocomplete="email" required />
            </div>
            {signingUp && (
              <div class="field">
                <label for="auth-username">Username</label>
                <input
                  id="auth-username"
                  name="username"
                  autocomplete="username"
                  required
                  aria-describedby="username-hint"
                />
                <small id="username-hint" class="hint">
                  3 to 50 letters, digits, dots, underscores or hyphens
                </small>
              </div>
            )}
            <div class="field">
              <label for="auth-password">Password</label>
              <input
                id="auth-password"
                name="password"
                type="password"
                autocomplete={signingUp ? 'new-password' : 'current-password'}
                required
                aria-describedby={signingUp ? 'password-hint' : undefined}
              />
              {signingUp && (
                <small id="password-hint" class="hint">
                  At least 8 characters
                </small>
              )}
            </div>
            <button type="submit" class="primary" disabled={busy.value}>
              {signingUp ? 'Sign up' : 'Log in'}
            </button>
          </form>
        </div>
      </div>
    </main>
  )
}
