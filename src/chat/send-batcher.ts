// Sends that arrive together are stored together. A user's send waits for the end of the current turn
// of the event loop; everything submitted by then goes to PostgreSQL as one statement (up to
// SEND_BATCH_MAX, any rooms), so under load the database commits once for many messages instead of
// once each. A lone send is the single statement it always was. Each caller still hears back only
// after the commit that stored its message.
import type { Executor } from '../db/connect.js'
import { insertMessage, insertMessages, type NewMessage, SEND_BATCH_MAX } from './message-queries.js'

type Stored = Awaited<ReturnType<typeof insertMessage>>

interface Pending {
  message: NewMessage & { userId: number }
  resolve(stored: Stored): void
  reject(error: unknown): void
}

const queues = new WeakMap<Executor, Pending[]>()

/** Per database: batch statements that stored messages, and the messages they stored (for /metrics). */
export interface SendBatchStats {
  batches: number
  messages: number
}
const stats = new WeakMap<Executor, SendBatchStats>()

export function sendBatchStats(db: Executor): SendBatchStats {
  return stats.get(db) ?? { batches: 0, messages: 0 }
}

/** The message stored with its room's next seq; undefined when the room is gone or the sender may not send. */
export function storeUserMessage(db: Executor, message: NewMessage & { userId: number }): Promise<Stored> {
  return new Promise((resolve, reject) => {
    let queue = queues.get(db)
    if (!queue) {
      queue = []
      queues.set(db, queue)
      setImmediate(() => flush(db))
    }
    queue.push({ message, resolve, reject })
  })
}

function flush(db: Executor): void {
  const queue = queues.get(db) ?? []
  queues.delete(db)
  for (let i = 0; i < queue.length; i += SEND_BATCH_MAX) void store(db, queue.slice(i, i + SEND_BATCH_MAX))
}

async function store(db: Executor, batch: Pending[]): Promise<void> {
  if (batch.length > 1) {
    try {
      const stored = await insertMessages(
        db,
        batch.map((pending) => pending.message),
      )
      const counted = sendBatchStats(db)
      stats.set(db, { batches: counted.batches + 1, messages: counted.messages + batch.length })
      batch.forEach((pending, i) => pending.resolve(stored[i]))
      return
    } catch {
      // Nothing was stored (one statement). Most often a retry's client_msg_id that is already stored;
      // one at a time, each caller gets its own answer (the first message back, or its own error).
    }
  }
  for (const pending of batch) insertMessage(db, pending.message).then(pending.resolve, pending.reject)
}
