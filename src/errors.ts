// Expected failures as data: a machine code and a human sentence. Only http/errors.ts knows statuses.
export type ErrorCode =
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'invalid'
  | 'rate_limited'
  | 'unavailable'

export interface FieldError {
  path: string
  message: string
}

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** For rate_limited: when to try again (sent as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(detail)
    this.name = 'AppError'
  }
}
