// Per-user limits on every write a user makes, and the per-account login limit. Services call them, so
// HTTP, the WebSocket and anything else that reaches a service share one count per user. Counters live
// in Redis when it is configured (one limit for N instances), in memory otherwise; a Redis that fails
// falls back to this instance's memory rather than letting everything through or refusing everything.
import type { Redis } from 'ioredis'
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible'
import { AppError } from './errors.js'

/** Actions per user per window. Set so that a person never meets them and a script soon does. */
export const USER_LIMITS = {
  send: { points: 60, seconds: 10, what: 'messages' },
  edit: { points: 30, seconds: 60, what: 'edits' },
  reaction: { points: 60, seconds: 60, what: 'reactions' },
  create_room: { points: 10, seconds: 60, what: 'new rooms' },
  invite: { points: 30, seconds: 60, what: 'invitations' },
  ws_ticket: { points: 30, seconds: 60, what: 'WebSocket tickets' },
  read_marker: { points: 120, seconds: 60, what: 'read markers' },
  search: { points: 30, seconds: 60, what: 'searches' },
  /** Each one is a provider call (tokens against the daily budgets besides): fewer than searches. */
  catch_up: { points: 10, seconds: 60, what: 'catch-up summaries' },
  typing: { points: 20, seconds: 10, what: 'typing notifications' },
  /** Attempts, counted before bcrypt runs: a wrong current password costs as much as a right one. */
  password_change: { points: 5, seconds: 15 * 60, what: 'password changes' },
  /** Joins, leaves, room settings, role changes, removals, profile changes, logout-all, stopping the assistant. */
  manage: { points: 60, seconds: 60, what: 'changes' },
} as const

export type UserAction = keyof typeof USER_LIMITS

/**
 * Failed logins. An address that fails `perAddress` times for one account waits out the window; an
 * account that fails `perAccount` times from anywhere refuses every address that has not logged in to it
 * successfully in the last `knownAddressDays` days, so a guesser with many addresses is stopped while
 * the owner, from an address they used before, still gets in.
 */
export const LOGIN_LIMITS = {
  perAddress: { points: 5, seconds: 15 * 60 },
  perAccount: { points: 20, seconds: 15 * 60 },
  /** At most 24 days: the in-memory store keeps each key with a timer, and Node's timers stop at 2^31 ms. */
  knownAddressDays: 14,
} as const

export interface Limits {
  /** Counts one action by the user; throws rate_limited (with Retry-After) past the limit. */
  hit(action: UserAction, userId: number): Promise<void>
  /** Throws rate_limited when this address may not try this account now; call before checking a password. */
  checkLogin(email: string, address: string): Promise<void>
  loginFailed(email: string, address: string): Promise<void>
  loginSucceeded(email: string, address: string): Promise<void>
}

export const NO_LIMITS: Limits = {
  hit: async () => {},
  checkLogin: async () => {},
  loginFailed: async () => {},
  loginSucceeded: async () => {},
}

export function createLimits(redis: Redis | undefined, prefix: string): Limits {
  const limiter = (name: string, points: number, seconds: number): RateLimiterAbstract => {
    const options = { keyPrefix: `${prefix}:limit:${name}`, points, duration: seconds }
    if (!redis) return new RateLimiterMemory(options)
    return new RateLimiterRedis({
      ...options,
      storeClient: redis,
      // Do not wait for a Redis that is away: count in this instance's memory meanwhile.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(options),
    })
  }
  const perUser = Object.fromEntries(
    Object.entries(USER_LIMITS).map(([action, l]) => [action, limiter(action, l.points, l.seconds)]),
  ) as Record<UserAction, RateLimiterAbstract>
  const failedByPair = limiter('login:pair', LOGIN_LIMITS.perAddress.points, LOGIN_LIMITS.perAddress.seconds)
  const failedByAccount = limiter(
    'login:account',
    LOGIN_LIMITS.perAccount.points,
    LOGIN_LIMITS.perAccount.seconds,
  )
  const knownSeconds = LOGIN_LIMITS.knownAddressDays * 24 * 60 * 60
  const known = limiter('login:known', 1, knownSeconds)

  const account = (email: string) => email.toLowerCase()
  const pair = (email: string, address: string) => `${account(email)}|${address}`
  const refuseLogin = (res: RateLimiterRes): never => {
    const seconds = retrySeconds(res)
    throw new AppError(
      'rate_limited',
      `Too many failed logins for this account; try again in ${seconds} seconds`,
      undefined,
      seconds,
    )
  }

  return {
    async hit(action, userId) {
      try {
        await perUser[action].consume(String(userId))
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection
        const seconds = retrySeconds(rejection)
        throw new AppError(
          'rate_limited',
          `Too many ${USER_LIMITS[action].what}; try again in ${seconds} seconds`,
          undefined,
          seconds,
        )
      }
    },

    async checkLogin(email, address) {
      const [byPair, byAccount] = await Promise.all([
        failedByPair.get(pair(email, address)),
        failedByAccount.get(account(email)),
      ])
      if (byPair && byPair.consumedPoints >= LOGIN_LIMITS.perAddress.points) refuseLogin(byPair)
      if (byAccount && byAccount.consumedPoints >= LOGIN_LIMITS.perAccount.points) {
        if (!(await known.get(pair(email, address)))) refuseLogin(byAccount)
      }
    },

    async loginFailed(email, address) {
      await Promise.all([failedByPair.penalty(pair(email, address)), failedByAccount.penalty(account(email))])
    },

    async loginSucceeded(email, address) {
      await Promise.all([
        failedByPair.delete(pair(email, address)),
        known.set(pair(email, address), 1, knownSeconds),
      ])
    },
  }
}

function retrySeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000))
}
