// A real OpenAI-compatible HTTP server on loopback, for the assistant's tests: POST /v1/chat/completions
// with `stream: true`, answered as server-sent events, in the way the test chooses.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type FakeMode =
  /** Streams `reply` in chunks, then finishes. */
  | { kind: 'answer'; reply: string; chunkSize?: number; delayMs?: number }
  /** Answers with an HTTP error. */
  | { kind: 'fail'; status: number }
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  /** Streams `sent`, then cuts the connection without finishing. */
  | { kind: 'break'; sent: string }
  /**
   * A model that ignores max_tokens: streams floodText(chars) (5,000,000 by default) in chunks of
   * `chunkSize` (2) characters, as fast as the connection takes them, and stops as soon as the client
   * goes away.
   */
  | { kind: 'flood'; chars?: number; chunkSize?: number }
  /**
   * Asks for tool calls (streamed in pieces, as OpenAI does: the id and name, then the arguments in
   * parts), finishing with `tool_calls`. The next request, with the results, is answered by `mode`.
   */
  | { kind: 'tools'; calls: { name: string; arguments: string }[]; say?: string }
  /** Refuses a request that offers tools (400, as servers without tool support do); answers others by `reply`. */
  | { kind: 'no-tools'; reply: string }

/** The text a flood streams: the alphabet over and over, so that any prefix of it is known. */
export function floodText(length: number): string {
  return 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(length / 26)).slice(0, length)
}

export interface FakeRequest {
  model: string
  messages: {
    role: string
    content: string
    tool_call_id?: string
    tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[]
  }[]
  max_tokens?: number
  stream?: boolean
  stream_options?: { include_usage?: boolean }
  tools?: { type: string; function: { name: string; description: string; parameters: object } }[]
  authorization: string | undefined
}

/** The usage the fake reports for a request: fixed numbers a test can recognise. */
export function fakeUsage(request: FakeRequest, completionChars: number) {
  const prompt = request.messages.reduce((sum, m) => sum + (m.content ?? '').length, 0)
  return { prompt_tokens: 1000 + prompt, completion_tokens: 100 + completionChars }
}

export interface FakeOpenAI {
  /** The base URL to give the app as OPENAI_BASE_URL. */
  baseUrl: string
  /** Every request body received, in order. */
  requests: FakeRequest[]
  /** How the next requests are answered (default: an answer echoing the last message). */
  mode: FakeMode | ((request: FakeRequest) => FakeMode)
  /** Requests being answered right now. */
  inFlight: number
  /** Whether a usage chunk ends each stream that asked for one (stream_options.include_usage); on by default. */
  reportUsage: boolean
  close(): Promise<void>
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const sockets = new Set<import('node:net').Socket>()
  const fake: FakeOpenAI = {
    baseUrl: '',
    requests: [],
    mode: (request) => ({ kind: 'answer', reply: `You said: ${request.messages.at(-1)?.content ?? ''}` }),
    inFlight: 0,
    reportUsage: true,
    close: async () => {},
  }

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404).end()
      return
    }
    let body = ''
    for await (const chunk of req) body += chunk
    const request = {
      ...(JSON.parse(body) as Omit<FakeRequest, 'authorization'>),
      authorization: req.headers.authorization,
    }
    fake.requests.push(request)
    const mode = typeof fake.mode === 'function' ? fake.mode(request) : fake.mode
    fake.inFlight += 1
    res.on('close', () => {
      fake.inFlight -= 1
    })
    if (mode.kind === 'fail') {
      res.writeHead(mode.status, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: 'fake failure', type: 'server_error' } }))
      return
    }
    if (mode.kind === 'hang') return
    if (mode.kind === 'no-tools' && request.tools) {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({ error: { message: 'tools are not supported', type: 'invalid_request_error' } }),
      )
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    /** One streamed chunk: its choices, and the usage when it is the last one. */
    const chunk = (fields: { choices: object[]; usage?: object }) =>
      res.write(
        `data: ${JSON.stringify({
          id: 'chatcmpl-fake',
          object: 'chat.completion.chunk',
          created: Math.floor(Date.now() / 1000),
          model: request.model,
          ...fields,
        })}\n\n`,
      )
    const send = (delta: object, finish: string | null) =>
      chunk({ choices: [{ index: 0, delta, finish_reason: finish }] })
    if (mode.kind === 'break') {
      send({ role: 'assistant', content: mode.sent }, null)
      setTimeout(() => res.socket?.destroy(), 20)
      return
    }
    if (mode.kind === 'flood') {
      await flood(res, mode, send)
      return
    }
    const end = (completionChars: number) => {
      if (fake.reportUsage && request.stream_options?.include_usage)
        chunk({ choices: [], usage: { ...fakeUsage(request, completionChars), total_tokens: 0 } })
      res.end('data: [DONE]\n\n')
    }
    if (mode.kind === 'tools') {
      send({ role: 'assistant', content: mode.say ?? null }, null)
      for (const [index, call] of mode.calls.entries()) {
        const half = Math.floor(call.arguments.length / 2)
        send(
          {
            tool_calls: [
              { index, id: `call_${index}`, type: 'function', function: { name: call.name, arguments: '' } },
            ],
          },
          null,
        )
        send({ tool_calls: [{ index, function: { arguments: call.arguments.slice(0, half) } }] }, null)
        send({ tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] }, null)
      }
      send({}, 'tool_calls')
      end((mode.say ?? '').length)
      return
    }
    const reply = mode.reply
    const size = mode.kind === 'answer' ? (mode.chunkSize ?? 4) : 4
    send({ role: 'assistant', content: '' }, null)
    for (let i = 0; i < reply.length; i += size) {
      if (res.destroyed) return
      send({ content: reply.slice(i, i + size) }, null)
      if (mode.kind === 'answer' && mode.delayMs)
        await new Promise((resolve) => setTimeout(resolve, mode.delayMs))
    }
    send({}, 'stop')
    end(reply.length)
  })
  async function flood(
    res: ServerResponse,
    mode: Extract<FakeMode, { kind: 'flood' }>,
    send: (delta: object, finish: string | null) => boolean,
  ): Promise<void> {
    const chars = mode.chars ?? 5_000_000
    const size = mode.chunkSize ?? 2
    const alphabet = floodText(26 + size)
    send({ role: 'assistant', content: '' }, null)
    for (let at = 0; at < chars; at += size) {
      if (res.destroyed) return
      const from = at % 26
      const written = send({ content: alphabet.slice(from, from + Math.min(size, chars - at)) }, null)
      // As fast as the client reads, not faster: an unread flood would pile up in this process.
      if (!written) await drainedOrClosed(res)
    }
    send({}, 'length')
    res.end('data: [DONE]\n\n')
  }

  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fake.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  fake.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy()
      server.close(() => resolve())
    })
  return fake
}

/** The requests `fake` received for the room titled `title` (the default system prompt names the room). */
export const requestsFor = (fake: FakeOpenAI, title: string): FakeRequest[] =>
  fake.requests.filter((r) => r.messages[0]?.content.includes(title))
