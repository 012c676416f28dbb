// A catch-up as server-sent events: the summary shown as the model writes it. The server's stream is
// `start {from_seq, to_seq, message_count}`, `delta {text}`…, then `done {text, usage}` or
// `error {detail}` (docs/api.md); refusals come before it as ordinary JSON errors.
import type { ResultOf } from './api.js'
import { ApiError } from './errors.js'
import type { Transport } from './transport.js'

export type CatchUpResult = ResultOf<'catchUp'>

export interface CatchUpOptions {
  /** Summarize what came after this seq (default: the caller's read marker). */
  afterSeq?: number
  /** Each piece of the summary as it is written, in order; the pieces add up to the result's text. */
  onText?: (text: string) => void
  /** Stops it: the request ends, the server stops asking the model, the call rejects with the reason. */
  signal?: AbortSignal
}

export async function streamCatchUp(
  transport: Transport,
  sessionId: number,
  options: CatchUpOptions = {},
): Promise<CatchUpResult> {
  const response = await transport.respond({
    method: 'POST',
    path: `/api/v1/chat/sessions/${encodeURIComponent(String(sessionId))}/catch-up`,
    body: options.afterSeq === undefined ? {} : { after_seq: options.afterSeq },
    auth: true,
    headers: { accept: 'text/event-stream' },
    signal: options.signal,
  })
  if (!response.body) throw new ApiError(response.status, 'network', 'The catch-up came without a body')
  const reader = response.body.getReader()
  // Aborting cancels the body too, so that a read waiting for the next event ends at once.
  const { signal } = options
  const cancel = () => {
    reader.cancel(signal?.reason).catch(() => {})
  }
  signal?.addEventListener('abort', cancel, { once: true })
  const decoder = new TextDecoder()
  let range: Pick<CatchUpResult, 'from_seq' | 'to_seq' | 'message_count'> | undefined
  let buffer = ''
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const { event, data } = parseEvent(buffer.slice(0, end))
        buffer = buffer.slice(end + 2)
        if (event === 'start') range = data as typeof range
        else if (event === 'delta') options.onText?.((data as { text: string }).text)
        else if (event === 'error')
          throw new ApiError(503, 'unavailable', (data as { detail: string }).detail)
        else if (event === 'done' && range) {
          const { text, usage } = data as Pick<CatchUpResult, 'text' | 'usage'>
          return { ...range, text, usage }
        }
      }
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason
    throw error
  } finally {
    signal?.removeEventListener('abort', cancel)
    reader.cancel().catch(() => {})
  }
  if (signal?.aborted) throw signal.reason
  throw new ApiError(0, 'network', 'The catch-up ended before its summary; try again')
}

/** One event block: its `event:` name and its `data:` lines, joined, as JSON. */
function parseEvent(block: string): { event: string; data: unknown } {
  let event = 'message'
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
  }
  return { event, data: data.length > 0 ? JSON.parse(data.join('\n')) : undefined }
}
