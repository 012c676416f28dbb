// Catch-up's request and response schemas (DESIGN section 10), and the bounds they state.
import Type, { type Static } from 'typebox'
import { AiUsage } from '../chat/chat.schemas.js'
import { Nullable } from '../http/schemas.js'

/** The newest messages one catch-up reads; older unread ones are left out (`from_seq` shows where it starts). */
export const CATCH_UP_MAX_MESSAGES = 500
/**
 * And at most this many characters of them (about 25,000 tokens): 500 messages of 10,000 characters
 * would be a prompt past most models' context, and past a day's budget in one request.
 */
export const CATCH_UP_MAX_CHARS = 100_000

export const CatchUpBody = Type.Object(
  {
    after_seq: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description: 'Summarize the messages after this seq; default: the caller’s last_read_seq in the room',
      }),
    ),
  },
  { examples: [{}, { after_seq: 120 }] },
)

const rangeFields = {
  from_seq: Type.Integer({
    description: 'The seq of the oldest message summarized (after_seq + 1 when there is none)',
  }),
  to_seq: Type.Integer({
    description: 'The seq of the newest message summarized (after_seq when there is none)',
  }),
  message_count: Type.Integer({
    minimum: 0,
    maximum: CATCH_UP_MAX_MESSAGES,
    description:
      'How many messages were summarized: deleted ones are skipped, at most the newest 500 and 100,000 characters of them',
  }),
}
const summaryFields = {
  text: Type.String({ description: 'The summary; empty when there was nothing to summarize' }),
  usage: Nullable(
    Type.Object(AiUsage.properties, {
      description: 'What the summary cost (null when there was nothing to summarize and no model was asked)',
    }),
  ),
}

/** The SSE variant's `start` event. */
export const CatchUpRange = Type.Object(rangeFields)
/** The SSE variant's `done` event. */
export const CatchUpSummary = Type.Object(summaryFields)

export const CatchUpResult = Type.Object(
  { text: summaryFields.text, ...rangeFields, usage: summaryFields.usage },
  {
    examples: [
      {
        text: 'ada and linus agreed to ship on Friday. grace asked you to review the release notes.',
        from_seq: 121,
        to_seq: 164,
        message_count: 42,
        usage: { prompt_tokens: 1830, completion_tokens: 41, model: 'gpt-4o-mini' },
      },
    ],
  },
)

export type CatchUpInput = Static<typeof CatchUpBody>
export type CatchUpRangeView = Static<typeof CatchUpRange>
export type CatchUpSummaryView = Static<typeof CatchUpSummary>
