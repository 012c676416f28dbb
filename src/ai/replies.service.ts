// The assistant's replies being written in a room, for whoever may read the room's messages.
import type { Actor } from '../auth/actor.js'
import { loadJoinedSession } from '../chat/access.js'
import type { Deps } from '../deps.js'
import type { ReplyInProgressView } from './replies.schemas.js'

export async function listRepliesInProgress(
  deps: Pick<Deps, 'db' | 'replies'>,
  actor: Pick<Actor, 'id'>,
  sessionId: number,
): Promise<ReplyInProgressView[]> {
  await loadJoinedSession(deps.db, actor, sessionId)
  const replies = await deps.replies.inRoom(sessionId)
  return replies.map((reply) => ({
    reply_to: reply.replyTo,
    text: reply.text,
    started_at: reply.startedAt.toISOString(),
  }))
}
