// One socket catching up on a room it follows with after_seq: the stored messages it missed go first,
// at the pace its reader reads, while the room's live frames wait behind them (bounded); then the
// assistant's replies being written, each as its text so far; then what waited, skipping what the
// replay already sent; then the socket is live. It sees every message once and in order, and every
// reply in progress whole.
import type { ReplyInProgress } from '../ai/reply-store.js'
import type { MessageView } from '../chat/chat.schemas.js'
import { type Connection, type Queued, type Subscription, subscriptionOf } from './connections.js'
import { frames } from './frames.js'

/** Stored messages read from the database at a time (replays and gap fills). */
export const READ_PAGE = 200
/** Live frames one socket may have waiting behind its replay; in bytes the bound is maxBufferedBytes. */
const MAX_WAITING_FRAMES = 1024

export interface ReplayOptions {
  /** Stored messages of a room with seq > afterSeq, oldest first (at most `limit`). */
  loadMessagesAfter(sessionId: number, afterSeq: number, limit: number): Promise<MessageView[]>
  /** Writes when the socket has room; false once it is gone (see connections.ts). */
  writePaced(connection: Connection, data: Buffer): Promise<boolean>
  log: { warn(obj: object, msg: string): void }
  maxBufferedBytes: number
  /** The room's assistant replies being written now, oldest first; never rejects (ai/reply-store.ts). */
  repliesInProgress(sessionId: number): Promise<readonly ReplyInProgress[]>
}

export interface Replays {
  /** Keeps a live frame for a socket whose replay is still running (or drops the socket: see below). */
  hold(connection: Connection, subscription: Subscription, queued: Queued): void
  /**
   * Sends the stored messages after `afterSeq`, then `ai_start` and the text so far (one `ai_delta` at
   * offset 0) of each reply being written, then what waited, then makes the subscription live.
   * Stored messages are read up to `newest`, the room's newest seq this instance has delivered: those
   * after it reach the socket live (they wait behind the replay), so reading them too is wasted; a
   * socket that connects without after_seq reads nothing at all.
   */
  replay(connection: Connection, sessionId: number, afterSeq: number, newest: number): Promise<void>
}

export function createReplays(options: ReplayOptions): Replays {
  const { writePaced, log } = options

  return {
    /**
     * Presence frames are kept apart, the latest per user (see Subscription.waitingPresence).
     * A replay goes at the pace its reader reads; a room that produces more than the bound meanwhile
     * (MAX_WAITING_FRAMES, or maxBufferedBytes: the same measure as a slow reader's send buffer) has
     * outrun that reader, which is dropped as too slow rather than held for without bound. Only frames
     * with a seq could be read again from the database; the others (typing, edits, reactions, presence)
     * could not, and sending them without the messages around them would break the order, so the
     * socket goes, and resumes with after_seq: the database has everything it missed.
     */
    hold(connection, subscription, queued) {
      const waiting = subscription.waiting as Queued[]
      const { socket } = connection
      if (socket.readyState !== socket.OPEN) return
      if (queued.presenceOf !== undefined) {
        // The latest state per user: bounded by the room's members, not by how often they come and go.
        subscription.waitingPresence ??= new Map()
        const earlier = subscription.waitingPresence.get(queued.presenceOf)
        subscription.waitingBytes += queued.data.length - (earlier?.length ?? 0)
        subscription.waitingPresence.set(queued.presenceOf, queued.data)
      } else {
        waiting.push(queued)
        subscription.waitingBytes += queued.data.length
      }
      if (waiting.length <= MAX_WAITING_FRAMES && subscription.waitingBytes <= options.maxBufferedBytes)
        return
      log.warn(
        { userId: connection.userId, waiting: waiting.length, bytes: subscription.waitingBytes },
        'dropping a websocket whose replay the room outran',
      )
      waiting.length = 0
      subscription.waitingPresence = undefined
      subscription.waitingBytes = 0
      socket.terminate()
    },

    async replay(connection, sessionId, afterSeq, newest) {
      // Read now that the socket follows the room's channel (the hub subscribed it first), while the
      // stored messages go: the store has each piece of a reply before its frame is published, so every
      // piece is in what this reads or among the live frames waiting behind the replay.
      const replies = options.repliesInProgress(sessionId)
      /** Replies this replay sent as stored messages: their entry may not be gone yet. */
      let stored: Set<number> | undefined
      let cursor = afterSeq
      while (cursor < newest) {
        if (!subscriptionOf(connection, sessionId)) return
        const page = await options.loadMessagesAfter(sessionId, cursor, READ_PAGE)
        for (const message of page) {
          if (!(await writePaced(connection, Buffer.from(JSON.stringify(frames.chatMessage(message))))))
            return
          cursor = message.seq
          if (message.role === 'assistant' && message.reply_to !== null) {
            stored ??= new Set()
            stored.add(message.reply_to)
          }
        }
        if (page.length < READ_PAGE) break
      }
      for (const reply of await replies) {
        if (stored?.has(reply.replyTo) || !subscriptionOf(connection, sessionId)) continue
        const start = frames.aiStart(sessionId, reply.replyTo)
        if (!(await writePaced(connection, Buffer.from(JSON.stringify(start))))) return
        if (reply.text === '') continue
        const soFar = frames.aiDelta(sessionId, reply.replyTo, reply.text, 0)
        if (!(await writePaced(connection, Buffer.from(JSON.stringify(soFar))))) return
      }
      const subscription = subscriptionOf(connection, sessionId)
      if (!subscription) return
      subscription.lastSeq = Math.max(subscription.lastSeq, cursor)
      // What arrived live meanwhile, skipping what the replay already sent; new frames keep queueing
      // behind until the queue is empty.
      const waiting = subscription.waiting ?? []
      for (;;) {
        const queued = waiting.shift()
        if (queued) {
          subscription.waitingBytes -= queued.data.length
          if (queued.seq !== undefined && queued.seq <= subscription.lastSeq) continue
          if (queued.seq !== undefined) subscription.lastSeq = queued.seq
          if (!(await writePaced(connection, queued.data))) return
          continue
        }
        // Then who came and went meanwhile, the latest per user (more may arrive while these go).
        const presence = subscription.waitingPresence
        if (!presence) break
        subscription.waitingPresence = undefined
        for (const data of presence.values()) {
          subscription.waitingBytes -= data.length
          if (!(await writePaced(connection, data))) return
        }
      }
      subscription.waiting = null
    },
  }
}
