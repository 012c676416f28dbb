// @insurge/client: a typed TypeScript SDK for Insurge. See docs/client.md.
export type { Api, ArgsOf, CallOptions, OperationId, ResultOf } from './api.js'
export type { CatchUpOptions, CatchUpResult } from './catch-up.js'
export {
  type ClientEvents,
  type ClientOptions,
  type ConnectionView,
  createClient,
  type InsurgeClient,
} from './client.js'
export type { ConnectionState, ReconnectOptions, WebSocketConstructor, WebSocketLike } from './connection.js'
export { ApiError, type FieldError } from './errors.js'
export type { PresenceFrame, RoomEventFrame, ServerFrame, TypingFrame } from './frames.js'
export type { operations, paths } from './generated/openapi.js'
export type { AssistantReply, AssistantToolUse, Room, RoomEvents, RoomOptions } from './room.js'
export type {
  AiUsage,
  AssistantSettings,
  DailyAiUsage,
  Message,
  Participant,
  Reaction,
  Session,
  Tokens,
  User,
} from './types.js'
