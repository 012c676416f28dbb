-- Rolls back 0001_chat: rooms, participants, messages and their enums.
DROP TABLE IF EXISTS "chat_messages";
--> statement-breakpoint
DROP TABLE IF EXISTS "chat_participants";
--> statement-breakpoint
DROP TABLE IF EXISTS "chat_sessions";
--> statement-breakpoint
DROP TYPE IF EXISTS "ai_mode";
--> statement-breakpoint
DROP TYPE IF EXISTS "message_role";
--> statement-breakpoint
DROP TYPE IF EXISTS "participant_role";
--> statement-breakpoint
DROP TYPE IF EXISTS "session_type";
