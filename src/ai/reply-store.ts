// The text so far of the assistant's replies being written, per room (DESIGN section 10): what a socket
// that follows a room mid-reply is sent before the live pieces, and GET …/assistant/replies. In Redis
// when configured, so that every instance reads what any instance writes; in process memory otherwise.
//
// It follows the domain events itself, and must be subscribed before the realtime layer's publisher
// (app.ts): listeners run in subscription order, so a piece is in the store before its frame is
// published, and a socket that reads the store once it follows the room's channel gets every piece,
// in what it read or live behind it (duplicates are told apart by offset).
import type { Redis } from 'ioredis'
import type { DomainEvents } from '../events.js'

export interface ReplyInProgress {
  /** The id of the message being answered. */
  replyTo: number
  text: string
  startedAt: Date
}

export interface ReplyStore {
  /**
   * The room's replies being written now, oldest first. Never rejects: a store that cannot be read is
   * reported and answers none (the live pieces still come).
   */
  inRoom(sessionId: number): Promise<readonly ReplyInProgress[]>
}

/**
 * How long an entry outlives its last write: a reply still being written writes again within
 * AI_TIMEOUT_MS (it is aborted then), so only the entries of a crashed instance, or of a reply whose
 * end was never announced (its room deleted meanwhile), outlive this.
 */
export const replyTtlMs = (aiTimeoutMs: number) => aiTimeoutMs + 30_000

interface ReplyWriter {
  start(sessionId: number, replyTo: number, startedAt: number): void
  append(sessionId: number, replyTo: number, delta: string): void
  remove(sessionId: number, replyTo: number): void
  removeRoom(sessionId: number): void
}

function follow(events: DomainEvents, writer: ReplyWriter): void {
  events.subscribe((event) => {
    switch (event.type) {
      case 'ai_started':
        writer.start(event.sessionId, event.replyTo, Date.now())
        return
      case 'ai_delta':
        writer.append(event.sessionId, event.replyTo, event.delta)
        return
      case 'ai_failed':
        writer.remove(event.sessionId, event.replyTo)
        return
      case 'message_created':
        if (event.message.role === 'assistant' && event.message.reply_to !== null)
          writer.remove(event.sessionId, event.message.reply_to)
        return
      case 'session_deleted':
        writer.removeRoom(event.sessionId)
        return
    }
  })
}

export interface ReplyStoreOptions {
  events: DomainEvents
  redis: Redis | undefined
  prefix: string
  ttlMs: number
  onError: (error: unknown, what: string) => void
}

export function createReplyStore(options: ReplyStoreOptions): ReplyStore {
  const { redis, ...rest } = options
  return redis ? createRedisReplyStore({ ...rest, redis }) : createMemoryReplyStore(rest)
}

interface MemoryEntry {
  startedAt: number
  text: string
  writtenAt: number
}

export function createMemoryReplyStore({
  events,
  ttlMs,
}: Pick<ReplyStoreOptions, 'events' | 'ttlMs'>): ReplyStore {
  const rooms = new Map<number, Map<number, MemoryEntry>>()
  const NONE: Promise<readonly ReplyInProgress[]> = Promise.resolve(Object.freeze([]))

  follow(events, {
    start(sessionId, replyTo, startedAt) {
      const room = rooms.get(sessionId) ?? new Map<number, MemoryEntry>()
      rooms.set(sessionId, room)
      room.set(replyTo, { startedAt, text: '', writtenAt: startedAt })
    },
    append(sessionId, replyTo, delta) {
      const entry = rooms.get(sessionId)?.get(replyTo)
      if (!entry) return
      entry.text += delta
      entry.writtenAt = Date.now()
    },
    remove(sessionId, replyTo) {
      const room = rooms.get(sessionId)
      if (room?.delete(replyTo) && room.size === 0) rooms.delete(sessionId)
    },
    removeRoom(sessionId) {
      rooms.delete(sessionId)
    },
  })

  return {
    inRoom(sessionId) {
      // The path of nearly every subscribe: one lookup, no allocation.
      const room = rooms.get(sessionId)
      if (!room) return NONE
      const now = Date.now()
      const replies: ReplyInProgress[] = []
      for (const [replyTo, entry] of room) {
        if (entry.writtenAt + ttlMs < now) room.delete(replyTo)
        else replies.push({ replyTo, text: entry.text, startedAt: new Date(entry.startedAt) })
      }
      if (room.size === 0) rooms.delete(sessionId)
      return Promise.resolve(replies)
    },
  }
}

/**
 * Per room, a hash `<prefix>:ai:replies:<room>` (reply_to -> started_at in ms) lists the replies, and
 * each reply's text is a string `<prefix>:ai:reply:<room>:<reply_to>` that grows by APPEND. Both expire
 * ttlMs after their last write; a listed reply whose text has expired is not reported.
 *
 * Order: the writes go on the shared client, the one connection the Redis bus publishes frames on
 * (realtime/bus.ts). ioredis writes one connection's commands in the order they are called (or queues
 * them, in that order, while it reconnects), and Redis runs one connection's commands in order, so a
 * piece's APPEND runs before the PUBLISH of its frame, and an entry's removal before the PUBLISH of the
 * stored reply or ai_error. Writes are single commands, not MULTI or pipelines, whose sending ioredis
 * may defer.
 */
export function createRedisReplyStore({
  events,
  redis,
  prefix,
  ttlMs,
  onError,
}: Omit<ReplyStoreOptions, 'redis'> & { redis: Redis }): ReplyStore {
  const roomKey = (sessionId: number) => `${prefix}:ai:replies:${sessionId}`
  const textKey = (sessionId: number, replyTo: number) => `${prefix}:ai:reply:${sessionId}:${replyTo}`
  // One report per event, not one per command: a Redis that is away fails every command of it.
  const report = (what: string) => (error: unknown) => onError(error, what)

  follow(events, {
    start(sessionId, replyTo, startedAt) {
      Promise.all([
        redis.set(textKey(sessionId, replyTo), '', 'PX', ttlMs),
        redis.hset(roomKey(sessionId), String(replyTo), String(startedAt)),
        redis.pexpire(roomKey(sessionId), ttlMs),
      ]).catch(report('start'))
    },
    append(sessionId, replyTo, delta) {
      const key = textKey(sessionId, replyTo)
      Promise.all([
        redis.append(key, delta),
        redis.pexpire(key, ttlMs),
        redis.pexpire(roomKey(sessionId), ttlMs),
      ]).catch(report('append'))
    },
    remove(sessionId, replyTo) {
      Promise.all([
        redis.hdel(roomKey(sessionId), String(replyTo)),
        redis.del(textKey(sessionId, replyTo)),
      ]).catch(report('remove'))
    },
    // The texts expire on their own; without the list nothing finds them.
    removeRoom(sessionId) {
      redis.del(roomKey(sessionId)).catch(report('remove room'))
    },
  })

  return {
    async inRoom(sessionId) {
      try {
        // One command when the room has no reply in progress, as nearly always.
        const listed = Object.entries(await redis.hgetall(roomKey(sessionId)))
        if (listed.length === 0) return []
        const texts = await redis.mget(listed.map(([replyTo]) => textKey(sessionId, Number(replyTo))))
        const replies: ReplyInProgress[] = []
        listed.forEach(([replyTo, startedAt], i) => {
          const text = texts[i]
          if (typeof text === 'string')
            replies.push({ replyTo: Number(replyTo), text, startedAt: new Date(Number(startedAt)) })
        })
        return replies.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.replyTo - b.replyTo)
      } catch (error) {
        onError(error, 'read')
        return []
      }
    },
  }
}
