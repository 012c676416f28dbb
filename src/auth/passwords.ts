// bcrypt on libuv's thread pool (its async API), so hashing never blocks the event loop.
import bcrypt from 'bcrypt'

export interface Passwords {
  hash(password: string): Promise<string>
  verify(password: string, hash: string): Promise<boolean>
  /** Spends the same time as a real comparison, for logins with an unknown email. Always false. */
  verifyNothing(password: string): Promise<false>
}

export function createPasswords(rounds: number): Passwords {
  // Made at start-up, at the configured cost, so that comparing against it takes as long as a real comparison.
  const dummyHash = bcrypt.hash('insurge-timing-equaliser', rounds)
  return {
    hash: (password) => bcrypt.hash(password, rounds),
    async verify(password, hash) {
      try {
        return await bcrypt.compare(password, hash)
      } catch {
        return false // a malformed stored hash never matches
      }
    },
    async verifyNothing(password) {
      await bcrypt.compare(password, await dummyHash)
      return false
    },
  }
}
