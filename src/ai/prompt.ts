// What the model reads: a system prompt and the room's newest messages, authors named. Nothing else.
import type { MessageView } from '../chat/chat.schemas.js'
import type { ChatTurn } from './provider.js'

/** "@assistant" as a word of its own, in any case. */
const MENTION = /(^|[^\w@.])@assistant\b/i

export function mentionsAssistant(content: string): boolean {
  return MENTION.test(content)
}

export function systemPrompt(custom: string | undefined, roomTitle: string): string {
  if (custom) return custom
  return [
    `You are the AI assistant in the chat room "${roomTitle}".`,
    'Several people talk here; each of their messages starts with the author’s username and a colon.',
    'Answer the latest message helpfully and concisely, in the language it was written in.',
  ].join(' ')
}

/** The context, oldest first: user messages prefixed with their author, the assistant's own as `assistant`. */
export function buildTurns(system: string, history: MessageView[]): ChatTurn[] {
  return [
    { role: 'system', content: system },
    ...history
      .filter((m) => m.role !== 'system' && m.content !== '')
      .map(
        (m): ChatTurn =>
          m.role === 'assistant'
            ? { role: 'assistant', content: m.content }
            : { role: 'user', content: `${m.username}: ${m.content}` },
      ),
  ]
}
