// The model: any OpenAI-compatible chat completions endpoint (OpenAI, vLLM, Ollama, LM Studio), streamed.
import OpenAI from 'openai'
import { assistantEnabled, type Config } from '../config.js'

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface AiProvider {
  /** Yields the reply's text as it is generated; throws if the stream fails or ends before it is finished. */
  stream(turns: ChatTurn[], signal: AbortSignal): AsyncIterable<string>
}

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
    async *stream(turns, signal) {
      const stream = await client.chat.completions.create(
        { model: config.OPENAI_MODEL, messages: turns, stream: true, max_tokens: config.AI_MAX_TOKENS },
        { signal },
      )
      let finished = false
      for await (const chunk of stream) {
        const choice = chunk.choices[0]
        if (choice?.delta?.content) yield choice.delta.content
        if (choice?.finish_reason) finished = true
      }
      // A connection cut mid-reply can end the stream quietly: without a finish reason it is not a reply.
      if (!finished) throw new Error('the model’s stream ended before the reply was finished')
    },
  }
}
