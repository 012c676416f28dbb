// Full-text search over the messages of the rooms the caller is in (PostgreSQL tsvector + GIN, on PGlite too).
import { sql } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import { type Database, queryRows } from '../db/connect.js'
import { chatParticipants, chatSessions } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { loadJoinedSession } from './access.js'
import type { SearchQueryInput, SearchResultsView } from './chat.schemas.js'
import { type MessageRecord, selectMessageRows, toMessageView } from './message-records.js'

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
  const records = await queryRows<MessageRecord & { session_title: string }>(
    deps.db as Database,
    sql`${selectMessageRows(actor.id, sql`, s.title as session_title`)}
          join ${chatParticipants} p on p.session_id = m.session_id and p.user_id = ${actor.id}
          join ${chatSessions} s on s.id = m.session_id and s.deleted_at is null
         where m.search @@ websearch_to_tsquery('simple', ${query.q})
           and m.deleted_at is null
           ${query.session_id !== undefined ? sql`and m.session_id = ${query.session_id}` : sql``}
           ${query.before_id !== undefined ? sql`and m.id < ${query.before_id}` : sql``}
         order by m.id desc
         limit ${query.limit + 1}`,
  )
  const page = records.slice(0, query.limit)
  const results = page.map((record) => ({ ...toMessageView(record), session_title: record.session_title }))
  return {
    results,
    next_before_id: records.length > query.limit ? (results.at(-1)?.id ?? null) : null,
  }
}
