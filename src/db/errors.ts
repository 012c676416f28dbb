// Recognises PostgreSQL errors that are expected outcomes rather than bugs. Both drivers wrap them in a cause.

/** The name of the unique constraint (or index) a failed insert/update violated, if that is what happened. */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; constraint?: unknown; cause?: unknown } | undefined; e; ) {
    if (e.code === '23505') return typeof e.constraint === 'string' ? e.constraint : ''
    e = e.cause as typeof e | undefined
  }
  return undefined
}
