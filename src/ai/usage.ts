// What the assistant costs: tokens per day (UTC) per user and per room, the daily budgets checked before
// any provider call, and the counts the usage endpoints show.
import { and, eq, sql } from 'drizzle-orm'
import type { Config } from '../config.js'
import type { Executor } from '../db/connect.js'
import { type AiUsage, aiUsageDays } from '../db/schema.js'
import type { DomainEvents } from '../events.js'
import type { ChatTurn, TokenUsage } from './provider.js'

export type UsageScope = 'user' | 'room'

export interface DailyUsage {
  /** The UTC day, YYYY-MM-DD. */
  day: string
  tokens_used: number
  /** The budget in tokens for the day; 0 = unlimited. */
  tokens_limit: number
  /** Replies and catch-ups that were charged today. */
  replies: number
}

/** The UTC day of `now`, as YYYY-MM-DD. */
export function utcDay(now = new Date()): string {
  return now.toISOString().slice(0, 10)
}

/** When today's budgets reset: the next UTC midnight. */
export function nextReset(now = new Date()): string {
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1))
  return next.toISOString()
}

/**
 * Tokens as the provider reported them, or estimated as characters / 4 (rounded up) when it reported
 * none: a provider that says nothing is not free.
 */
export function accountedUsage(
  reported: TokenUsage | undefined,
  promptChars: number,
  completionChars: number,
  model: string,
): AiUsage {
  return {
    prompt_tokens: reported?.prompt_tokens ?? Math.ceil(promptChars / 4),
    completion_tokens: reported?.completion_tokens ?? Math.ceil(completionChars / 4),
    model,
  }
}

export interface UsageBook {
  /**
   * Why the assistant may not be asked on behalf of `userId` in `sessionId` today (a sentence naming the
   * budget and when it resets), or undefined. One query for both budgets.
   */
  refusal(userId: number, sessionId: number): Promise<string | undefined>
  /** Adds a reply's (or catch-up's) tokens to today's counts of the user and the room, in one statement. */
  charge(userId: number, sessionId: number, tokens: number): Promise<void>
  /** Today's use of one user or one room. */
  today(scope: UsageScope, id: number): Promise<DailyUsage>
}

export function createUsageBook(db: Executor, config: Config): UsageBook {
  const limitOf = (scope: UsageScope) =>
    scope === 'user' ? config.AI_DAILY_TOKENS_PER_USER : config.AI_DAILY_TOKENS_PER_ROOM

  return {
    async refusal(userId, sessionId) {
      const userLimit = limitOf('user')
      const roomLimit = limitOf('room')
      if (userLimit === 0 && roomLimit === 0) return undefined
      const day = utcDay()
      const rows = await db
        .select({ scope: aiUsageDays.scope, tokens: aiUsageDays.tokens })
        .from(aiUsageDays)
        .where(
          sql`${aiUsageDays.day} = ${day} and ((${aiUsageDays.scope} = 'user' and ${aiUsageDays.scopeId} = ${userId})
              or (${aiUsageDays.scope} = 'room' and ${aiUsageDays.scopeId} = ${sessionId}))`,
        )
      const used = (scope: UsageScope) => rows.find((row) => row.scope === scope)?.tokens ?? 0
      const resets = nextReset()
      if (userLimit > 0 && used('user') >= userLimit)
        return `You have used your daily assistant budget of ${userLimit} tokens; it resets at ${resets}`
      if (roomLimit > 0 && used('room') >= roomLimit)
        return `This room has used its daily assistant budget of ${roomLimit} tokens; it resets at ${resets}`
      return undefined
    },

    async charge(userId, sessionId, tokens) {
      const day = utcDay()
      await db
        .insert(aiUsageDays)
        .values([
          { day, scope: 'user', scopeId: userId, tokens, replies: 1 },
          { day, scope: 'room', scopeId: sessionId, tokens, replies: 1 },
        ])
        .onConflictDoUpdate({
          target: [aiUsageDays.scope, aiUsageDays.scopeId, aiUsageDays.day],
          set: {
            tokens: sql`${aiUsageDays.tokens} + excluded.tokens`,
            replies: sql`${aiUsageDays.replies} + 1`,
          },
        })
    },

    async today(scope, id) {
      const day = utcDay()
      const [row] = await db
        .select({ tokens: aiUsageDays.tokens, replies: aiUsageDays.replies })
        .from(aiUsageDays)
        .where(and(eq(aiUsageDays.scope, scope), eq(aiUsageDays.scopeId, id), eq(aiUsageDays.day, day)))
      return { day, tokens_used: row?.tokens ?? 0, tokens_limit: limitOf(scope), replies: row?.replies ?? 0 }
    },
  }
}

/** The cost of one reply or catch-up, over its provider requests (several with tool rounds). */
export interface Meter {
  /** Whether any request produced something (text, a tool call or reported usage): only then is it charged. */
  readonly asked: boolean
  /** A request about to be made with these turns; tell it what came back. */
  request(turns: ChatTurn[]): { reported(usage: TokenUsage): void; wrote(text: string): void }
  /** The first text arrived (only the first call counts). */
  firstText(): void
  /** The total: each request as reported, or estimated (characters / 4) when it reported nothing. */
  usage(model: string): AiUsage
  firstTokenSeconds(): number | null
  seconds(): number
}

export function createMeter(): Meter {
  const startedAt = performance.now()
  let firstAt: number | null = null
  const requests: AiUsage[] = []
  return {
    get asked() {
      return requests.length > 0
    },
    request(turns) {
      const promptChars = turns.reduce(
        (sum, turn) =>
          sum +
          turn.content.length +
          ('tool_calls' in turn ? (turn.tool_calls ?? []) : []).reduce(
            (n, call) => n + call.name.length + call.arguments.length,
            0,
          ),
        0,
      )
      let reported: TokenUsage | undefined
      return {
        reported(usage) {
          reported = usage
        },
        wrote(text) {
          if (reported || text.length > 0)
            requests.push(accountedUsage(reported, promptChars, text.length, ''))
        },
      }
    },
    firstText() {
      firstAt ??= performance.now()
    },
    usage(model) {
      return {
        prompt_tokens: requests.reduce((sum, r) => sum + r.prompt_tokens, 0),
        completion_tokens: requests.reduce((sum, r) => sum + r.completion_tokens, 0),
        model,
      }
    },
    firstTokenSeconds() {
      return firstAt === null ? null : (firstAt - startedAt) / 1000
    },
    seconds() {
      return (performance.now() - startedAt) / 1000
    },
  }
}

/**
 * After a reply or a catch-up: tells the metrics (`ai_measured`) and charges the user and the room for
 * what the provider produced. A failure to record is logged: the answer was already given.
 */
export async function settleUsage(
  parts: { events: DomainEvents; book: UsageBook; log: { error(obj: object, msg: string): void } },
  userId: number,
  sessionId: number,
  model: string,
  meter: Meter,
): Promise<void> {
  const spent = meter.usage(model)
  parts.events.emit({
    type: 'ai_measured',
    model,
    usage: meter.asked ? spent : null,
    firstTokenSeconds: meter.firstTokenSeconds(),
    seconds: meter.seconds(),
  })
  if (!meter.asked) return
  try {
    await parts.book.charge(userId, sessionId, spent.prompt_tokens + spent.completion_tokens)
  } catch (error) {
    parts.log.error({ err: error, sessionId }, 'the assistant’s usage could not be recorded')
  }
}
