// Usernames nobody may register or rename to: the assistant's own name (its messages are signed
// `assistant`) and names people would read as the server or its staff speaking.
import { AppError } from '../errors.js'

const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  'assistant',
  'system',
  'admin',
  'root',
  'moderator',
  'insurge',
])

/** Reserved in any case: "Admin" would impersonate as well as "admin". */
export function isReservedUsername(username: string): boolean {
  return RESERVED_USERNAMES.has(username.toLowerCase())
}

/** Refuses a reserved username as invalid input on `body.username`. */
export function assertUsernameNotReserved(username: string): void {
  if (!isReservedUsername(username)) return
  throw new AppError('invalid', `The username "${username}" is reserved; choose another`, [
    { path: 'body.username', message: 'is reserved' },
  ])
}
