// Every failure the SDK reports is an ApiError: the server's `{detail, code}` or what went wrong on the way.

export interface FieldError {
  path: string
  message: string
}

export class ApiError extends Error {
  override readonly name = 'ApiError'
  /** The HTTP status; 0 when the server could not be reached. */
  readonly status: number
  /** The server's code (`unauthenticated`, `forbidden`, `not_found`, `invalid`, `rate_limited`…), or `network`. */
  readonly code: string
  /** The server's sentence, fit to show to a person. */
  readonly detail: string
  /** For 422: which field, and what is wrong with it. */
  readonly errors: FieldError[]

  constructor(status: number, code: string, detail: string, errors: FieldError[] = []) {
    super(detail)
    this.status = status
    this.code = code
    this.detail = detail
    this.errors = errors
  }
}

/** The server's error body, or a sentence made from the status when the body is not the server's. */
export async function errorFromResponse(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => undefined)) as
    | { detail?: unknown; code?: unknown; errors?: unknown }
    | undefined
  const detail =
    typeof body?.detail === 'string'
      ? body.detail
      : `The server answered ${response.status} ${response.statusText}`
  const code = typeof body?.code === 'string' ? body.code : `http_${response.status}`
  const errors = Array.isArray(body?.errors) ? (body.errors as FieldError[]) : []
  return new ApiError(response.status, code, detail, errors)
}

export const unreachable = (cause: unknown): ApiError => {
  const error = new ApiError(0, 'network', 'Could not reach the server')
  ;(error as { cause?: unknown }).cause = cause
  return error
}
