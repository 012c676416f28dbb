// HTTP with the logged-in person's tokens: the access token is refreshed before it expires (one refresh
// at a time, however many requests wait for it), and a 401 refreshes once and retries once.
import { ApiError, errorFromResponse, unreachable } from './errors.js'
import { later } from './timers.js'
import type { Tokens } from './types.js'

export interface RequestSpec {
  method: string
  path: string
  query?: Record<string, unknown> | undefined
  body?: unknown
  auth: boolean
  headers?: Record<string, string>
  /** Stops the request: the call rejects with the signal's reason (an `AbortError` unless given one). */
  signal?: AbortSignal | undefined
}

interface Held extends Tokens {
  /**
   * When the access token expires by this device's clock (ms since the epoch): its lifetime (`exp` -
   * `iat`) from when it was received, so that a clock set wrong does not make every token look expired.
   */
  expiresAt: number
  userId: number
}

/** Refresh this long before the access token expires (or at 80% of a shorter lifetime). */
const REFRESH_LEAD_MS = 60_000
const MIN_REFRESH_DELAY_MS = 1_000

export interface TransportEvents {
  tokens: Tokens | null
}

export class Transport {
  private held: Held | null = null
  private refreshing: Promise<void> | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private closed = false

  constructor(
    readonly baseUrl: string,
    private readonly fetcher: typeof fetch,
    /** Told of every new pair (to store them) and of `null` when the login ended. */
    private readonly onTokens: (tokens: Tokens | null) => void,
  ) {}

  get userId(): number | null {
    return this.held?.userId ?? null
  }

  get tokens(): Tokens | null {
    return this.held ? { access_token: this.held.access_token, refresh_token: this.held.refresh_token } : null
  }

  /**
   * `fresh`: just issued by the server (a login or a refresh), so its whole lifetime is ahead; tokens
   * kept from earlier (`createClient({tokens})`) may be older, and their `exp` counts too.
   */
  setTokens(tokens: Tokens | null, fresh = true): void {
    clearTimeout(this.timer)
    this.held = tokens ? { ...tokens, ...readAccessToken(tokens.access_token, fresh) } : null
    this.onTokens(this.tokens)
    if (!this.held || this.closed) return
    const lifetime = this.held.expiresAt - Date.now()
    const lead = Math.min(REFRESH_LEAD_MS, lifetime * 0.2)
    // Never sooner than a second: whatever the token says, refreshes cannot follow each other in a loop.
    this.timer = later(Math.max(MIN_REFRESH_DELAY_MS, lifetime - lead), () => {
      this.refresh().catch(() => this.retryRefreshSoon())
    })
  }

  /** A refresh that failed for a reason other than the login ending (server down): try again shortly. */
  private retryRefreshSoon(): void {
    if (!this.held || this.closed) return
    clearTimeout(this.timer)
    this.timer = later(5_000, () => {
      this.refresh().catch(() => this.retryRefreshSoon())
    })
  }

  /** The access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    if (this.held && this.held.expiresAt - Date.now() < 5_000) await this.refresh()
    if (!this.held) throw new ApiError(401, 'unauthenticated', 'Log in first')
    return this.held.access_token
  }

  /** Trades the refresh token for a new pair; concurrent callers share one request. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null
    })
    return this.refreshing
  }

  private async doRefresh(): Promise<void> {
    const held = this.held
    if (!held) throw new ApiError(401, 'unauthenticated', 'Log in first')
    const response = await this.send({
      method: 'POST',
      path: '/api/v1/auth/refresh',
      body: { refresh_token: held.refresh_token },
      auth: false,
    })
    if (!response.ok) {
      const error = await errorFromResponse(response)
      // The login is over (expired, revoked, logged out everywhere): nothing will bring it back.
      if (response.status === 401 && this.held === held) this.setTokens(null)
      throw error
    }
    if (this.held !== held) return // logged out or in again meanwhile
    this.setTokens((await response.json()) as Tokens)
  }

  /** Sends one request and returns its parsed body (undefined for 204), or throws an ApiError. */
  async request<T>(spec: RequestSpec): Promise<T> {
    const response = await this.respond(spec)
    if (response.status === 204) return undefined as T
    const text = await response.text()
    return (text ? JSON.parse(text) : undefined) as T
  }

  /**
   * Sends one request (refreshing the access token once on a 401) and returns the successful response
   * with its body unread, for a caller that reads it as a stream; throws an ApiError otherwise.
   */
  async respond(spec: RequestSpec): Promise<Response> {
    spec.signal?.throwIfAborted()
    let token = spec.auth ? await this.accessToken() : undefined
    let response = await this.send(spec, token)
    if (response.status === 401 && token !== undefined) {
      // Another request may have refreshed already; otherwise refresh now. Then one retry.
      if (this.held?.access_token === token) await this.refresh().catch(() => {})
      if (this.held && this.held.access_token !== token) {
        token = this.held.access_token
        response = await this.send(spec, token)
      }
    }
    if (!response.ok) throw await errorFromResponse(response)
    return response
  }

  private async send(spec: RequestSpec, token?: string): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers }
    if (token) headers.authorization = `Bearer ${token}`
    let body: string | undefined
    if (spec.body !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(spec.body)
    }
    try {
      return await this.fetcher(this.url(spec.path, spec.query), {
        method: spec.method,
        headers,
        body,
        ...(spec.signal ? { signal: spec.signal } : {}),
      })
    } catch (error) {
      // Stopped by the caller: not the server being unreachable.
      if (spec.signal?.aborted) throw spec.signal.reason
      throw unreachable(error)
    }
  }

  url(path: string, query?: Record<string, unknown>): string {
    const search = new URLSearchParams()
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) search.set(name, String(value))
    }
    const qs = search.toString()
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
  }
}

/**
 * When the access token expires by this device's clock, and its `sub`, read without checking it (the
 * server checks it; this only schedules the refresh).
 */
function readAccessToken(token: string, fresh: boolean): { expiresAt: number; userId: number } {
  const payload = token.split('.')[1]
  if (!payload) throw new ApiError(0, 'invalid_token', 'The access token is not a JWT')
  const base64 = payload.replace(/-/g, '+').replace(/_/g, '/')
  const claims = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='))) as {
    exp?: number
    iat?: number
    sub?: string | number
  }
  const exp = (claims.exp ?? 0) * 1000
  const userId = Number(claims.sub)
  if (claims.iat === undefined) return { expiresAt: exp, userId }
  const fromNow = Date.now() + exp - claims.iat * 1000
  // A fresh token has its whole lifetime ahead, whatever this clock says; a kept one at most that.
  return { expiresAt: fresh ? fromNow : Math.min(fromNow, exp), userId }
}
