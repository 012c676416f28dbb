// The text of one assistant reply as the model writes it: capped at AI_MAX_REPLY_CHARS, and passed on to
// the room in pieces no more often than every DELTA_INTERVAL_MS, each with its offset in the reply.

/**
 * A model streams tokens (a few characters each) as fast as it can: one frame per token would be
 * thousands of frames per reply for every socket of the room. A piece every 50 ms (20 a second) still
 * reads as live typing.
 */
export const DELTA_INTERVAL_MS = 50

export interface ReplyText {
  /** The reply so far: at most the cap. */
  readonly text: string
  /** Adds what the model wrote. Returns false once the reply is full: what did not fit is dropped. */
  append(delta: string): boolean
  /** Passes on what is waiting now (before the reply is stored or reported failed) and stops the timer. */
  flush(): void
}

/**
 * `emit` gets each piece with its offset: the reply's length in UTF-16 code units before it, so a client
 * can tell a repeated or missing piece. The first piece goes at once, so the first words show without
 * delay; after that, what arrives within an interval waits and goes as one piece.
 */
export function createReplyText(
  maxChars: number,
  emit: (delta: string, offset: number) => void,
  intervalMs = DELTA_INTERVAL_MS,
): ReplyText {
  let text = ''
  let sent = 0
  let lastSentAt = Number.NEGATIVE_INFINITY
  let timer: NodeJS.Timeout | undefined

  function flush(): void {
    if (timer) {
      clearTimeout(timer)
      timer = undefined
    }
    if (sent === text.length) return
    const offset = sent
    sent = text.length
    lastSentAt = performance.now()
    emit(text.slice(offset), offset)
  }

  return {
    get text() {
      return text
    },
    append(delta) {
      const room = maxChars - text.length
      const kept = delta.length <= room ? delta : cutAt(delta, room)
      text += kept
      if (!timer && sent < text.length) {
        const wait = lastSentAt + intervalMs - performance.now()
        if (wait <= 0) flush()
        else timer = setTimeout(flush, wait)
      }
      return kept === delta && text.length < maxChars
    },
    flush,
  }
}

/** The first `length` code units of `text`, one fewer if that would split a surrogate pair (an emoji). */
function cutAt(text: string, length: number): string {
  const code = text.charCodeAt(length - 1)
  const splitsPair = length > 0 && code >= 0xd800 && code <= 0xdbff
  return text.slice(0, splitsPair ? length - 1 : length)
}
