// Sends that arrive together are stored together, like a database's group commit. At most
// STATEMENTS_IN_FLIGHT send statements run at once; sends that arrive while they run wait, and the
// next statement takes all of them (up to SEND_BATCH_MAX, any rooms), so under load the database
// commits once for many messages instead of once each. A lone send on an idle server goes at once, as
// the single statement it always was. Each caller hears back only after the commit that stored its
// message.
import type { Executor } from '../db/connect.js'
import { insertMessage, insertMessages, type NewMessage, SEND_BATCH_MAX } from './message-queries.js'

type Stored = Awaited<ReturnType<typeof insertMessage>>

interface Pending {
  message: NewMessage & { userId: number }
  resolve(stored: Stored): void
  reject(error: unknown): void
}

/** Send statements one database runs at once; the rest of the pool stays free for everything else. */
const STATEMENTS_IN_FLIGHT = 4

interface Queue {
  waiting: Pending[]
  inFlight: number
  scheduled: boolean
}

const queues = new WeakMap<Executor, Queue>()

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
  let queue = queues.get(db)
  if (!queue) {
    queue = { waiting: [], inFlight: 0, scheduled: false }
    queues.set(db, queue)
  }
  const promise = new Promise<Stored>((resolve, reject) => queue.waiting.push({ message, resolve, reject }))
  schedule(db, queue)
  return promise
}

/** Starts statements at the end of this turn of the event loop, so that sends arriving together go together. */
function schedule(db: Executor, queue: Queue): void {
  if (queue.scheduled || queue.inFlight >= STATEMENTS_IN_FLIGHT || queue.waiting.length === 0) return
  queue.scheduled = true
  setImmediate(() => {
    queue.scheduled = false
    while (queue.inFlight < STATEMENTS_IN_FLIGHT && queue.waiting.length > 0) {
      queue.inFlight++
      store(db, queue.waiting.splice(0, SEND_BATCH_MAX)).finally(() => {
        queue.inFlight--
        schedule(db, queue)
      })
    }
  })
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
      for (const [i, pending] of batch.entries()) pending.resolve(stored[i])
      return
    } catch {
      // Nothing was stored (one statement). Most often a retry's client_msg_id that is already stored;
      // one at a time, each caller gets its own answer (the first message back, or its own error).
    }
  }
  await Promise.all(
    batch.map((pending) => insertMessage(db, pending.message).then(pending.resolve, pending.reject)),
  )
}
