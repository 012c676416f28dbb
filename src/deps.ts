// What services need, built once by buildApp and passed down; services never import Fastify.
import type { Redis } from 'ioredis'
import type { AiProvider } from './ai/provider.js'
import type { Holds } from './ai/quota.js'
import type { ReplyStore } from './ai/reply-store.js'
import type { Slots } from './ai/slots.js'
import type { UsageBook } from './ai/usage.js'
import type { Passwords } from './auth/passwords.js'
import type { Tokens } from './auth/tokens.js'
import type { Presence } from './chat/presence.js'
import type { Config } from './config.js'
import type { Database, DatabaseHandle } from './db/connect.js'
import type { DomainEvents } from './events.js'
import type { Limits } from './limits.js'

export interface Deps {
  /** The package version, reported by / and /health. */
  version: string
  config: Config
  db: Database
  database: DatabaseHandle
  redis: Redis | undefined
  passwords: Passwords
  tokens: Tokens
  /** Changes, emitted after commit; the realtime layer subscribes. */
  events: DomainEvents
  presence: Presence
  /** The assistant's replies being written, with their text so far (Redis when configured). */
  replies: ReplyStore
  /** The model the assistant and catch-ups ask; undefined when none is configured. */
  provider: AiProvider | undefined
  /** The assistant's tokens per day, per user and per room, and the budgets they are held to. */
  aiUsage: UsageBook
  /** The AI_CONCURRENCY slots of this instance, which replies and catch-ups share. */
  aiSlots: Slots
  /** Each user's replies and catch-ups running or waiting (`userHoldKey`), across instances with Redis. */
  aiHolds: Holds
  /** Per-user and per-account limits; every service that writes counts its action here. */
  limits: Limits
}
