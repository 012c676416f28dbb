// The login: one SDK client at a time, its tokens kept in localStorage, the person logged in.
import { ApiError, createClient, type InsurgeClient, type Tokens, type User } from '@insurge/client'
import { signal } from '@preact/signals'
import { clearError, showError } from './alerts.js'
import { refreshRooms } from './rooms.js'

const TOKENS_KEY = 'insurge.tokens'

export const client = signal<InsurgeClient | null>(null)
export const me = signal<User | null>(null)
/** "Reconnecting…" once the socket was open and is down again. */
export const reconnecting = signal(false)
export const restoring = signal(true)

function readTokens(): Tokens | undefined {
  try {
    const stored = JSON.parse(localStorage.getItem(TOKENS_KEY) ?? 'null') as Tokens | null
    return stored?.access_token && stored.refresh_token ? stored : undefined
  } catch {
    return undefined
  }
}

function startClient(tokens?: Tokens): InsurgeClient {
  const next = createClient({ baseUrl: location.origin, tokens })
  next.on('tokens', (fresh) => {
    if (fresh) localStorage.setItem(TOKENS_KEY, JSON.stringify(fresh))
    else localStorage.removeItem(TOKENS_KEY)
  })
  // Added to a room (an invitation): list it now, not at the next poll.
  next.on('joined', () => {
    if (client.value === next) void refreshRooms()
  })
  next.on('signedOut', () => {
    if (client.value !== next) return
    endSession()
    showError('Your login has ended: log in again.')
  })
  let wasOpen = false
  next.connection.on('state', (state) => {
    if (state === 'open') {
      wasOpen = true
      // Connected again: "Could not reach the server" is no longer true.
      clearError('network')
    }
    reconnecting.value = state === 'reconnecting' || (wasOpen && state === 'connecting')
  })
  return next
}

function endSession(): void {
  client.value?.close()
  client.value = null
  me.value = null
  reconnecting.value = false
  localStorage.removeItem(TOKENS_KEY)
}

/** Carries on with the tokens of an earlier visit, if they still work. */
export async function restoreSession(): Promise<void> {
  const tokens = readTokens()
  try {
    if (!tokens) return
    const restored = startClient(tokens)
    try {
      me.value = await restored.api.getMe()
      client.value = restored
      restored.connect()
    } catch (error) {
      restored.close()
      localStorage.removeItem(TOKENS_KEY)
      if (!(error instanceof ApiError && error.status === 401)) showError(error)
    }
  } finally {
    restoring.value = false
  }
}

export async function logIn(email: string, password: string): Promise<void> {
  const next = startClient()
  try {
    await next.login(email, password)
    me.value = await next.api.getMe()
    client.value = next
    next.connect()
  } catch (error) {
    next.close()
    throw error
  }
}

export async function signUp(email: string, username: string, password: string): Promise<void> {
  const next = startClient()
  try {
    await next.register({ email, username, password })
  } finally {
    next.close()
  }
  await logIn(email, password)
}

export async function logOut(): Promise<void> {
  const current = client.value
  if (current) await current.logout().catch(showError)
  endSession()
  location.hash = '#/'
}
