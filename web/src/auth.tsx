// Sign up and log in on one card; the link-like button under the form switches between them (what was
// typed is kept). Signing up logs in at once.
import { useSignal } from '@preact/signals'
import type { TargetedSubmitEvent } from 'preact'
import { useEffect, useRef } from 'preact/hooks'
import { dismissAlert, showError } from './alerts.js'
import { startFocus } from './focus.js'
import { logIn, signUp } from './session.js'

type Mode = 'signup' | 'login'

export function AuthScreen() {
  const mode = useSignal<Mode>(location.hash === '#/login' ? 'login' : 'signup')
  const email = useSignal('')
  const username = useSignal('')
  const password = useSignal('')
  const busy = useSignal(false)
  const heading = useRef<HTMLHeadingElement>(null)
  const signingUp = mode.value === 'signup'

  const switched = useRef(false)
  useEffect(() => {
    if (switched.current) heading.current?.focus()
    switched.current = true
  }, [mode.value])

  const submit = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault()
    busy.value = true
    // This screen goes away on success: focus goes on to the workspace, not to the page's body.
    startFocus.want()
    try {
      if (signingUp) await signUp(email.value.trim(), username.value.trim(), password.value)
      else await logIn(email.value.trim(), password.value)
      dismissAlert()
    } catch (error) {
      startFocus.take()
      showError(error)
    } finally {
      busy.value = false
    }
  }

  return (
    <main class="auth">
      <div class="auth-card">
        <p class="brand">
          <span class="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Insurge
        </p>
        <h1 class="auth-title" ref={heading} tabIndex={-1}>
          {signingUp ? 'Create your account' : 'Welcome back'}
        </h1>
        <p class="muted auth-lead">
          {signingUp ? 'Chat rooms with people and an assistant.' : 'Log in to your rooms.'}
        </p>
        <form class="stack" onSubmit={submit}>
          <div class="field">
            <label for="auth-email">Email</label>
            <input
              id="auth-email"
              type="email"
              autocomplete="email"
              required
              maxLength={254}
              value={email.value}
              onInput={(event) => {
                email.value = event.currentTarget.value
              }}
            />
          </div>
          {signingUp && (
            <div class="field">
              <label for="auth-username">Username</label>
              <input
                id="auth-username"
                autocomplete="username"
                required
                // The server's rules (users.schemas.ts Username), checked before sending. The pattern is
                // compiled with the v flag, where a class's hyphen must be escaped.
                minLength={3}
                maxLength={50}
                pattern="[A-Za-z0-9._\-]+"
                aria-describedby="username-hint"
                value={username.value}
                onInput={(event) => {
                  username.value = event.currentTarget.value
                }}
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
              type="password"
              autocomplete={signingUp ? 'new-password' : 'current-password'}
              required
              // 8 characters for a new one (its 72 bytes in UTF-8 are the server's to say: no attribute counts bytes).
              minLength={signingUp ? 8 : undefined}
              aria-describedby={signingUp ? 'password-hint' : undefined}
              value={password.value}
              onInput={(event) => {
                password.value = event.currentTarget.value
              }}
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
        <p class="auth-switch muted">
          {signingUp ? 'Already have an account?' : 'New here?'}{' '}
          <button
            type="button"
            class="link"
            onClick={() => {
              mode.value = signingUp ? 'login' : 'signup'
            }}
          >
            {signingUp ? 'Log in' : 'Sign up'}
          </button>
        </p>
      </div>
    </main>
  )
}
