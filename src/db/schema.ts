// Drizzle tables: the single description of the database; drizzle-kit generates migrations from it.
import { sql } from 'drizzle-orm'
import {
  bigint,
  boolean,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core'

const tsvector = customType<{ data: string }>({ dataType: () => 'tsvector' })

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow()

export const users = pgTable(
  'users',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    email: varchar('email', { length: 254 }).notNull(),
    username: varchar('username', { length: 50 }).notNull(),
    hashedPassword: text('hashed_password').notNull(),
    firstName: varchar('first_name', { length: 100 }),
    lastName: varchar('last_name', { length: 100 }),
    isActive: boolean('is_active').notNull().default(true),
    isVerified: boolean('is_verified').notNull().default(false),
    /** Access tokens issued before this instant are refused (logout-all, password change, deactivation). */
    tokensValidAfter: timestamp('tokens_valid_after', { withTimezone: true, precision: 3 }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // Emails and usernames are unique whatever their case; the stored spelling is the user's.
  (t) => [
    uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`),
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
  ],
)

/**
 * One row per login: the chain of rotating refresh tokens it issued. Only `current_jti` is
 * redeemable; presenting an older one is reuse and revokes the family.
 */
export const refreshTokenFamilies = pgTable(
  'refresh_token_families',
  {
    id: uuid('id').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    currentJti: uuid('current_jti').notNull(),
    previousJti: uuid('previous_jti'),
    rotatedAt: timestamp('rotated_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index('refresh_token_families_user_id_idx').on(t.userId)],
)

export const sessionType = pgEnum('session_type', ['public', 'invite_only', 'private'])
export const participantRole = pgEnum('participant_role', ['owner', 'admin', 'member', 'viewer'])
export const messageRole = pgEnum('message_role', ['user', 'assistant', 'system'])
export const aiMode = pgEnum('ai_mode', ['off', 'mention', 'always'])

/**
 * A room. `last_seq`, `message_count` and `participant_count` are counters kept in the same
 * statement as the change they count: the row lock they take is what makes seq gapless and
 * capacity exact under concurrency, and lists read them without counting rows.
 */
export const chatSessions = pgTable(
  'chat_sessions',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    title: varchar('title', { length: 200 }).notNull(),
    description: varchar('description', { length: 1000 }),
    sessionType: sessionType('session_type').notNull(),
    maxParticipants: integer('max_participants').notNull(),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id),
    aiMode: aiMode('ai_mode').notNull(),
    lastSeq: bigint('last_seq', { mode: 'number' }).notNull().default(0),
    messageCount: integer('message_count').notNull().default(0),
    participantCount: integer('participant_count').notNull().default(0),
    lastActivityAt: timestamp('last_activity_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (t) => [
    index('chat_sessions_public_idx')
      .on(t.lastActivityAt)
      .where(sql`${t.sessionType} = 'public' and ${t.deletedAt} is null`),
  ],
)

export const chatParticipants = pgTable(
  'chat_participants',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    sessionId: integer('session_id')
      .notNull()
      .references(() => chatSessions.id),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    role: participantRole('role').notNull(),
    joinedAt: timestamp('joined_at', { withTimezone: true }).notNull().defaultNow(),
    /** Only moves forward; starts at the room's newest seq on joining (older history is not unread). */
    lastReadSeq: bigint('last_read_seq', { mode: 'number' }).notNull().default(0),
  },
  (t) => [
    uniqueIndex('chat_participants_session_user_key').on(t.sessionId, t.userId),
    // The database itself holds the rule "exactly one owner": a second owner row cannot exist.
    uniqueIndex('chat_participants_one_owner_key').on(t.sessionId).where(sql`${t.role} = 'owner'`),
    index('chat_participants_user_idx').on(t.userId),
  ],
)

export const chatMessages = pgTable(
  'chat_messages',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    sessionId: integer('session_id')
      .notNull()
      .references(() => chatSessions.id),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    userId: integer('user_id').references(() => users.id),
    role: messageRole('role').notNull(),
    content: text('content').notNull(),
    clientMsgId: varchar('client_msg_id', { length: 100 }),
    replyTo: bigint('reply_to', { mode: 'number' }),
    /** The assistant's messages only: what the reply cost (DESIGN section 10); null for everyone else's. */
    aiUsage: jsonb('ai_usage').$type<AiUsage>(),
    createdAt: createdAt(),
    editedAt: timestamp('edited_at', { withTimezone: true }),
    /** A deleted message stays as a tombstone (same id and seq, empty content): seq keeps no gaps. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    /** Full-text search; 'simple' (no stemming) because rooms talk in any language. */
    search: tsvector('search').generatedAlwaysAs(sql`to_tsvector('simple', "content")`),
  },
  (t) => [
    uniqueIndex('chat_messages_session_seq_key').on(t.sessionId, t.seq),
    uniqueIndex('chat_messages_client_msg_id_key')
      .on(t.sessionId, t.userId, t.clientMsgId)
      .where(sql`${t.clientMsgId} is not null`),
    // Unread counts subtract the caller's own and the deleted messages in a seq range: both are small.
    index('chat_messages_author_idx').on(t.sessionId, t.userId, t.seq),
    index('chat_messages_deleted_idx').on(t.sessionId, t.seq).where(sql`${t.deletedAt} is not null`),
    index('chat_messages_search_idx').using('gin', t.search),
  ],
)

export const messageReactions = pgTable(
  'message_reactions',
  {
    messageId: bigint('message_id', { mode: 'number' })
      .notNull()
      .references(() => chatMessages.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    emoji: varchar('emoji', { length: 32 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.emoji, t.userId] })],
)

/** Who may not join a public room again until an owner or admin invites them. */
export const chatBans = pgTable(
  'chat_bans',
  {
    sessionId: integer('session_id')
      .notNull()
      .references(() => chatSessions.id),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id),
    bannedBy: integer('banned_by').references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.userId] })],
)

/** Single-use WebSocket tickets (60 s), so that access tokens stay out of URLs. Only their hash is stored. */
export const wsTickets = pgTable(
  'ws_tickets',
  {
    tokenHash: varchar('token_hash', { length: 64 }).primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('ws_tickets_expires_at_idx').on(t.expiresAt)],
)

/** Tokens of one assistant reply, as the provider reported them (or estimated: characters / 4). */
export interface AiUsage {
  prompt_tokens: number
  completion_tokens: number
  model: string
}

/**
 * A room's assistant settings, set by its owner or an admin. No row: the defaults (no instructions, the
 * first of AI_MODELS, AI_CONTEXT_MESSAGES, no tools). `model` and `context_messages` are null while the
 * room has not chosen, so a change of the server's defaults reaches it.
 */
export const roomAssistants = pgTable('room_assistants', {
  sessionId: integer('session_id')
    .primaryKey()
    .references(() => chatSessions.id),
  instructions: text('instructions').notNull().default(''),
  model: varchar('model', { length: 200 }),
  contextMessages: integer('context_messages'),
  toolsEnabled: boolean('tools_enabled').notNull().default(false),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
})

export const aiUsageScope = pgEnum('ai_usage_scope', ['user', 'room'])

/**
 * The assistant's tokens per day (UTC), per user and per room: one row per scope and day, added to after
 * each reply or catch-up, read before each provider call (the daily budgets).
 */
export const aiUsageDays = pgTable(
  'ai_usage_days',
  {
    day: date('day', { mode: 'string' }).notNull(),
    scope: aiUsageScope('scope').notNull(),
    scopeId: integer('scope_id').notNull(),
    tokens: bigint('tokens', { mode: 'number' }).notNull().default(0),
    replies: integer('replies').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.scope, t.scopeId, t.day] })],
)

export type UserRow = typeof users.$inferSelect
export type RefreshTokenFamilyRow = typeof refreshTokenFamilies.$inferSelect
export type ChatSessionRow = typeof chatSessions.$inferSelect
export type ChatParticipantRow = typeof chatParticipants.$inferSelect
export type ChatMessageRow = typeof chatMessages.$inferSelect
export type SessionType = (typeof sessionType.enumValues)[number]
export type ParticipantRole = (typeof participantRole.enumValues)[number]
export type MessageRole = (typeof messageRole.enumValues)[number]
export type AiMode = (typeof aiMode.enumValues)[number]
