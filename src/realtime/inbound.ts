// The frames a client has sent that the server has read but not yet handled: held from the moment the
// socket opens (authentication and the replay come first), bounded in frames and in bytes. A client
// that sends faster than its frames are handled is simply not read any more: TCP pushes back on it.
// An idle socket holds nothing here: its queue is a few fields, and the functions are the instance's.
import type { WebSocket } from 'ws'

export const INBOUND_LIMITS = {
  /** Reading from the socket pauses once this many frames wait… */
  pauseFrames: 256,
  /** …or once their payloads add up to this many bytes (four frames of the 64 KiB maximum). */
  pauseBytes: 256 * 1024,
  /**
   * ws still emits the frames of data it had already read when the pause came: at most one read from
   * TCP (64 KiB) plus one frame cut across two reads (under 64 KiB). Tiny frames packed into that data
   * are what could pass this count: a socket that gets there is closed, not buffered.
   */
  maxFrames: 1024,
  /** The hard bound on bytes held per socket: the pause bound plus those two 64 KiB reads. */
  maxBytes: 256 * 1024 + 2 * 64 * 1024,
} as const

/** What the frames read from this instance's sockets hold right now, for metrics. */
export interface InboundTally {
  /** Payload bytes of frames read but not yet handled, over every socket of the instance. */
  heldBytes: number
  /** The most one socket has held at once since start (at most INBOUND_LIMITS.maxBytes). */
  peakBytes: number
}

export function createInboundTally(): InboundTally {
  return { heldBytes: 0, peakBytes: 0 }
}

/** One socket's queue; `T` is what its frames are handled for (the gateway's connection). */
export interface InboundQueue<T> {
  readonly socket: WebSocket
  /** Set by the owner once it exists (the socket is authenticated); frames wait for `start` all the same. */
  target: T | undefined
  /** Frames are handled from `start` on; until then they are only held. */
  started: boolean
  /** Frames in arrival order, the first being handled; null when none wait (an idle socket). */
  held: Held[] | null
  heldBytes: number
  draining: boolean
  paused: boolean
  closed: boolean
}

interface Held {
  text: string
  bytes: number
}

export interface Inbound<T> {
  /** A queue for a socket that has just opened. */
  open(socket: WebSocket): InboundQueue<T>
  /** Holds one frame read from the socket (text, and its payload size in bytes). */
  push(queue: InboundQueue<T>, text: string, bytes: number): void
  /**
   * Starts handling the held frames for the queue's target, one at a time, in order, and every frame
   * read after them.
   */
  start(queue: InboundQueue<T>): void
  /**
   * The socket closed. Frames held while it was being set up are let go of (nobody is left to answer
   * them); once handling has started, what was read is still handled.
   */
  close(queue: InboundQueue<T>): void
}

/**
 * The instance's frame queues: `handle` takes one frame of a started queue (it reports its own failures:
 * it must not reject); `onOverflow` hears of a socket closed for sending more than is held.
 */
export function createInbound<T>(
  tally: InboundTally,
  handle: (target: T, text: string) => Promise<void>,
  onOverflow: (held: { frames: number; bytes: number }) => void,
): Inbound<T> {
  function release(queue: InboundQueue<T>, frame: Held): void {
    queue.heldBytes -= frame.bytes
    tally.heldBytes -= frame.bytes
  }

  function resumeIfDrained(queue: InboundQueue<T>, frames: number): void {
    if (!queue.paused) return
    if (frames > INBOUND_LIMITS.pauseFrames / 2 || queue.heldBytes > INBOUND_LIMITS.pauseBytes / 2) return
    queue.paused = false
    queue.socket.resume()
  }

  async function drain(queue: InboundQueue<T>): Promise<void> {
    const { target, held } = queue
    if (queue.draining || !queue.started || target === undefined || !held) return
    queue.draining = true
    // Frames already read are handled even if the socket closes meanwhile: a message sent just before
    // a client went away is still stored (its retry with the same client_msg_id finds it).
    for (let frame = held[0]; frame; frame = held[0]) {
      await handle(target, frame.text)
      held.shift()
      release(queue, frame)
      resumeIfDrained(queue, held.length)
    }
    // Empty again: an idle socket keeps no array.
    queue.held = null
    queue.draining = false
  }

  return {
    open: (socket) => ({
      socket,
      target: undefined,
      started: false,
      held: null,
      heldBytes: 0,
      draining: false,
      paused: false,
      closed: false,
    }),

    push(queue, text, bytes) {
      const { socket } = queue
      // What ws still emits from a socket already closing (data read before a pause) has nobody to answer.
      if (queue.closed || socket.readyState !== socket.OPEN) return
      const frames = (queue.held?.length ?? 0) + 1
      if (frames > INBOUND_LIMITS.maxFrames || queue.heldBytes + bytes > INBOUND_LIMITS.maxBytes) {
        onOverflow({ frames, bytes: queue.heldBytes + bytes })
        socket.terminate()
        return
      }
      queue.held ??= []
      queue.held.push({ text, bytes })
      queue.heldBytes += bytes
      tally.heldBytes += bytes
      tally.peakBytes = Math.max(tally.peakBytes, queue.heldBytes)
      if (
        !queue.paused &&
        (frames >= INBOUND_LIMITS.pauseFrames || queue.heldBytes >= INBOUND_LIMITS.pauseBytes)
      ) {
        queue.paused = true
        socket.pause()
      }
      void drain(queue)
    },

    start(queue) {
      const { socket } = queue
      if (queue.closed || socket.readyState !== socket.OPEN) return
      queue.started = true
      void drain(queue)
    },

    close(queue) {
      queue.closed = true
      if (queue.started || !queue.held) return
      for (const frame of queue.held) release(queue, frame)
      queue.held = null
    },
  }
}
