// Full-text search over the messages of the rooms the caller is in (PostgreSQL tsvector + GIN, on PGlite too).
import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import type { Executor } from '../db/connect.js'
import { chatMessages, chatParticipants, chatSessions } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { loadJoinedSession } from './access.js'
import type { MessageView, SearchQueryInput, SearchResultsView } from './chat.schemas.js'
import { readMessageFields } from './message-queries.js'

/**
 * Newest first, `limit` at a time; `next_before_id` continues. The query uses websearch syntax
 * ("a phrase", -excluded, or) with the 'simple' configuration: words as written, in any language.
 * Deleted messages and deleted rooms are never found; a room the caller left is no longer searched.
 */
export async function searchMessages(
  deps: Pick<Deps, 'db' | 'limits'>,
  actor: Actor,
  query: SearchQueryInput,
): Promise<SearchResultsView> {
  await deps.limits.hit('search', actor.id)
  if (query.session_id !== undefined) await loadJoinedSession(deps.db, actor, query.session_id)
  const records = await deps.db
    .select({ ...readMessageFields(chatMessages, actor.id), session_title: chatSessions.title })
    .from(chatMessages)
    .innerJoin(
      chatParticipants,
      and(eq(chatParticipants.sessionId, chatMessages.sessionId), eq(chatParticipants.userId, actor.id)),
    )
    .innerJoin(chatSessions, and(eq(chatSessions.id, chatMessages.sessionId), isNull(chatSessions.deletedAt)))
    .where(
      and(
        sql`${chatMessages.search} @@ websearch_to_tsquery('simple', ${query.q})`,
        isNull(chatMessages.deletedAt),
        query.session_id !== undefined ? eq(chatMessages.sessionId, query.session_id) : undefined,
        query.before_id !== undefined ? lt(chatMessages.id, query.before_id) : undefined,
      ),
    )
    .orderBy(desc(chatMessages.id))
    .limit(query.limit + 1)
  const results = records.slice(0, query.limit)
  return {
    results,
    next_before_id: records.length > query.limit ? (results.at(-1)?.id ?? null) : null,
  }
}

/**
 * The assistant's search (its `search_room_history` tool): one room only, newest first, deleted messages
 * never found. The room is the one it is answering in; no caller's rooms are involved.
 */
export async function searchRoomHistory(
  db: Executor,
  sessionId: number,
  q: string,
  limit: number,
): Promise<Pick<MessageView, 'seq' | 'username' | 'content' | 'created_at'>[]> {
  const { seq, username, content, created_at } = readMessageFields(chatMessages, 0)
  return db
    .select({ seq, username, content, created_at })
    .from(chatMessages)
    .where(
      and(
        eq(chatMessages.sessionId, sessionId),
        sql`${chatMessages.search} @@ websearch_to_tsquery('simple', ${q})`,
        isNull(chatMessages.deletedAt),
      ),
    )
    .orderBy(desc(chatMessages.seq))
    .limit(limit)
}
