// What the assistant may do besides reading its window of the room: search the room's whole history.
import { searchRoomHistory } from '../chat/search.service.js'
import type { Executor } from '../db/connect.js'
import type { ToolCall, ToolSpec } from './provider.js'

export const SEARCH_TOOL = 'search_room_history'
/** Rounds of tool calls one reply may make; the request after the last offers no tools. */
export const MAX_TOOL_ROUNDS = 3
const MAX_RESULTS = 10
const DEFAULT_RESULTS = 5
const MAX_QUERY = 500
/** A result's content as the model reads it: long messages are cut, so that ten fit in a prompt. */
const MAX_RESULT_CHARS = 1000

export const ROOM_TOOLS: ToolSpec[] = [
  {
    name: SEARCH_TOOL,
    description:
      'Full-text search of this chat room’s whole history (older than the messages you were given). ' +
      'Words as written; "a phrase" in quotes, -word to exclude, or. Returns the newest matches first.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'Words to look for', maxLength: MAX_QUERY },
        limit: { type: 'integer', minimum: 1, maximum: MAX_RESULTS, description: 'At most 10; 5 by default' },
      },
      required: ['query'],
      additionalProperties: false,
    },
  },
]

export interface ToolRun {
  /** The call's arguments as the room is shown them ({} when they were not a JSON object). */
  arguments: Record<string, unknown>
  resultCount: number
  /** What the model reads as the tool's answer. */
  content: string
}

/** The call's arguments, parsed; a model may write anything there. */
export function toolArguments(call: ToolCall): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(call.arguments || '{}')
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}

/**
 * Runs one call in room `sessionId` and nowhere else. A call the tool cannot take (unknown tool, no query)
 * is answered with a sentence the model can act on, not an error that ends the reply.
 */
export async function runTool(db: Executor, sessionId: number, call: ToolCall): Promise<ToolRun> {
  const args = toolArguments(call)
  if (call.name !== SEARCH_TOOL)
    return { arguments: args, resultCount: 0, content: `Error: there is no tool named ${call.name}.` }
  const query = typeof args.query === 'string' ? args.query.trim().slice(0, MAX_QUERY) : ''
  if (query === '')
    return { arguments: args, resultCount: 0, content: 'Error: give a non-empty "query" to search for.' }
  const asked = typeof args.limit === 'number' && Number.isInteger(args.limit) ? args.limit : DEFAULT_RESULTS
  const limit = Math.min(Math.max(asked, 1), MAX_RESULTS)
  const found = await searchRoomHistory(db, sessionId, query, limit)
  const results = found.map((m) => ({
    seq: m.seq,
    author: m.username,
    at: m.created_at,
    content: m.content.length > MAX_RESULT_CHARS ? `${m.content.slice(0, MAX_RESULT_CHARS)}…` : m.content,
  }))
  return { arguments: args, resultCount: results.length, content: JSON.stringify({ results }) }
}
