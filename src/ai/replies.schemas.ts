// What GET /chat/sessions/{id}/assistant/replies answers: the assistant's replies being written.
import Type, { type Static } from 'typebox'

export const ReplyInProgress = Type.Object(
  {
    reply_to: Type.Integer({ description: 'The id of the message being answered' }),
    text: Type.String({ description: 'The reply as written so far' }),
    started_at: Type.String({ format: 'date-time' }),
  },
  {
    description: 'A reply the assistant is writing now',
    examples: [{ reply_to: 1001, text: 'Friday works, as long as', started_at: '2026-11-25T12:06:01.000Z' }],
  },
)
export type ReplyInProgressView = Static<typeof ReplyInProgress>
