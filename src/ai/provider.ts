// The model: any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, Ollama, LM Studio), streamed,
// with the usage it reports and the tools it may call.
import OpenAI from 'openai'
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions'
import { assistantEnabled, type Config } from '../config.js'

export interface ToolCall {
  id: string
  name: string
  /** The model's JSON text, unparsed: it may be invalid. */
  arguments: string
}

export type ChatTurn =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string }

export interface ToolSpec {
  name: string
  description: string
  /** JSON Schema of the arguments. */
  parameters: Record<string, unknown>
}

export interface TokenUsage {
  prompt_tokens: number
  completion_tokens: number
}

export interface CompletionRequest {
  model: string
  turns: ChatTurn[]
  /** Offered to the model; omitted (or empty), the request has no `tools` at all. */
  tools?: ToolSpec[]
  signal: AbortSignal
}

export type StreamPart =
  | { type: 'text'; text: string }
  /** The model asks for these calls; its turn ends with them. */
  | { type: 'tool_calls'; calls: ToolCall[] }
  /** What the request cost, when the provider says (asked for with `stream_options.include_usage`). */
  | { type: 'usage'; usage: TokenUsage }

/** The provider answered a request with tools with a client error: it does not take tools (or not these). */
export class ToolsRefusedError extends Error {}

export interface AiProvider {
  /** Yields the reply as it is generated; throws if the stream fails or ends before it is finished. */
  stream(request: CompletionRequest): AsyncIterable<StreamPart>
}

/**
 * Statuses by which OpenAI-compatible servers refuse a request they cannot serve as asked (unknown
 * field, model without tool support). 401, 403 and 429 are about the caller, not the tools.
 */
const REFUSALS = new Set([400, 404, 422, 501])

/** Undefined when neither OPENAI_API_KEY nor OPENAI_BASE_URL is set: the assistant is off. */
export function createProvider(config: Config): AiProvider | undefined {
  if (!assistantEnabled(config)) return undefined
  const client = new OpenAI({
    // Local servers (vLLM, Ollama) need no key, but the SDK insists on one.
    apiKey: config.OPENAI_API_KEY ?? 'no-key',
    baseURL: config.OPENAI_BASE_URL,
    // The assistant enforces AI_TIMEOUT_MS over the whole generation; a retry would double the wait.
    maxRetries: 0,
    timeout: config.AI_TIMEOUT_MS,
  })
  return {
    async *stream({ model, turns, tools, signal }) {
      const offered = tools && tools.length > 0 ? tools : undefined
      let stream: Awaited<ReturnType<typeof openStream>>
      try {
        stream = await openStream(client, config, model, turns, offered, signal)
      } catch (error) {
        if (offered && error instanceof OpenAI.APIError && REFUSALS.has(error.status ?? 0))
          throw new ToolsRefusedError(error.message)
        throw error
      }
      let finished = false
      // Streamed tool calls come in pieces, by index: the id and name first, the arguments in parts.
      const calls: ToolCall[] = []
      for await (const chunk of stream) {
        if (chunk.usage)
          yield {
            type: 'usage',
            usage: {
              prompt_tokens: chunk.usage.prompt_tokens ?? 0,
              completion_tokens: chunk.usage.completion_tokens ?? 0,
            },
          }
        const choice = chunk.choices[0]
        if (!choice) continue
        if (choice.delta?.content) yield { type: 'text', text: choice.delta.content }
        for (const piece of choice.delta?.tool_calls ?? []) {
          const call = calls[piece.index] ?? { id: '', name: '', arguments: '' }
          calls[piece.index] = call
          if (piece.id) call.id = piece.id
          if (piece.function?.name) call.name += piece.function.name
          if (piece.function?.arguments) call.arguments += piece.function.arguments
        }
        if (choice.finish_reason) finished = true
      }
      // A connection cut mid-reply can end the stream quietly: without a finish reason it is not a reply.
      if (!finished) throw new Error('the model’s stream ended before the reply was finished')
      const asked = calls.filter((call) => call?.name)
      if (asked.length > 0)
        yield { type: 'tool_calls', calls: asked.map((c, i) => ({ ...c, id: c.id || `call_${i}` })) }
    },
  }
}

function openStream(
  client: OpenAI,
  config: Config,
  model: string,
  turns: ChatTurn[],
  tools: ToolSpec[] | undefined,
  signal: AbortSignal,
) {
  return client.chat.completions.create(
    {
      model,
      messages: turns.map(toMessage),
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: config.AI_MAX_TOKENS,
      ...(tools && {
        tools: tools.map((tool) => ({
          type: 'function' as const,
          function: { name: tool.name, description: tool.description, parameters: tool.parameters },
        })),
      }),
    },
    { signal },
  )
}

function toMessage(turn: ChatTurn): ChatCompletionMessageParam {
  if (turn.role === 'tool') return { role: 'tool', tool_call_id: turn.tool_call_id, content: turn.content }
  if (turn.role === 'assistant' && turn.tool_calls?.length)
    return {
      role: 'assistant',
      content: turn.content || null,
      tool_calls: turn.tool_calls.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      })),
    }
  return { role: turn.role, content: turn.content }
}
