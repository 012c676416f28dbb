// The frames a client has sent that the server has read but not yet handled: held from the moment the
// socket opens (authentication and the replay come first), bounded in frames and in bytes. A client
// that sends faster than its frames are handled is simply not read any more: TCP pushes back on it.
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

export interface InboundQueue {
  /** Holds one frame read from the socket (text, and its payload size in bytes). */
  push(text: string, bytes: number): void
  /**
   * Starts handling the held frames, one at a time, in order, and every frame read after them.
   * `handle` reports its own failures: it must not reject.
   */
  start(handle: (text: string) => Promise<void>): void
  /**
   * The socket closed. Frames held while it was being set up are let go of (nobody is left to answer
   * them); once handling has started, what was read is still handled.
   */
  close(): void
}

interface Held {
  text: string
  bytes: number
}

export function createInboundQueue(
  socket: WebSocket,
  tally: InboundTally,
  onOverflow: (held: { frames: number; bytes: number }) => void,
): InboundQueue {
  const held: Held[] = []
  let heldBytes = 0
  let handle: ((text: string) => Promise<void>) | undefined
  let draining = false
  let paused = false
  let closed = false

  function release(frame: Held): void {
    heldBytes -= frame.bytes
    tally.heldBytes -= frame.bytes
  }

  function resumeIfDrained(): void {
    if (!paused) return
    if (held.length > INBOUND_LIMITS.pauseFrames / 2 || heldBytes > INBOUND_LIMITS.pauseBytes / 2) return
    paused = false
    socket.resume()
  }

  async function drain(): Promise<void> {
    if (draining || !handle) return
    draining = true
    // Frames already read are handled even if the socket closes meanwhile: a message sent just before
    // a client went away is still stored (its retry with the same client_msg_id finds it).
    for (let frame = held[0]; frame; frame = held[0]) {
      await handle(frame.text)
      held.shift()
      release(frame)
      resumeIfDrained()
    }
    draining = false
  }

  return {
    push(text, bytes) {
      // What ws still emits from a socket already closing (data read before a pause) has nobody to answer.
      if (closed || socket.readyState !== socket.OPEN) return
      if (held.length + 1 > INBOUND_LIMITS.maxFrames || heldBytes + bytes > INBOUND_LIMITS.maxBytes) {
        onOverflow({ frames: held.length + 1, bytes: heldBytes + bytes })
        socket.terminate()
        return
      }
      held.push({ text, bytes })
      heldBytes += bytes
      tally.heldBytes += bytes
      tally.peakBytes = Math.max(tally.peakBytes, heldBytes)
      if (!paused && (held.length >= INBOUND_LIMITS.pauseFrames || heldBytes >= INBOUND_LIMITS.pauseBytes)) {
        paused = true
        socket.pause()
      }
      void drain()
    },
    start(next) {
      if (closed || socket.readyState !== socket.OPEN) return
      handle = next
      void drain()
    },
    close() {
      closed = true
      if (!handle) for (const frame of held.splice(0)) release(frame)
    },
  }
}
