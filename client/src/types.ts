// The shapes the SDK hands out, taken from the generated OpenAPI types so they cannot drift.
import type { operations } from './generated/openapi.js'

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : undefined
type Ok<O extends keyof operations> = operations[O]['responses'] extends infer R
  ? Json<R[Extract<keyof R, 200 | 201>]>
  : never

/** A stored message, as history and `chat_message` frames carry it. */
export type Message = Ok<'listMessages'> extends (infer M)[] ? M : never
/** A room as its participants see it (with `my_role`). */
export type Session = Ok<'getSession'>
/** A room member with their role. */
export type Participant = Ok<'listParticipants'> extends (infer P)[] ? P : never
/** The account of the person logged in. */
export type User = Ok<'getMe'>
export type Reaction = Message['reactions'][number]
/** What an assistant reply cost (`message.ai_usage`; null on other messages). */
export type AiUsage = NonNullable<Message['ai_usage']>
/** A room's assistant settings (`api.getAssistantSettings`, and `session_updated` after a change). */
export type AssistantSettings = Ok<'getAssistantSettings'>
/** The assistant's use today against a daily budget (`api.getMyAiUsage`, `api.getRoomAiUsage`). */
export type DailyAiUsage = Ok<'getMyAiUsage'>

/** What `login` returns and what a client may restore from storage. */
export interface Tokens {
  access_token: string
  refresh_token: string
}
