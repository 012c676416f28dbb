-- Rolls back 0003_message_features: reactions, bans, read state, edit/delete marks and search.
DROP TABLE IF EXISTS "message_reactions";
--> statement-breakpoint
DROP TABLE IF EXISTS "chat_bans";
--> statement-breakpoint
DROP INDEX IF EXISTS "chat_messages_search_idx";
--> statement-breakpoint
DROP INDEX IF EXISTS "chat_messages_deleted_idx";
--> statement-breakpoint
DROP INDEX IF EXISTS "chat_messages_author_idx";
--> statement-breakpoint
ALTER TABLE "chat_messages" DROP COLUMN IF EXISTS "search";
--> statement-breakpoint
ALTER TABLE "chat_messages" DROP COLUMN IF EXISTS "deleted_at";
--> statement-breakpoint
ALTER TABLE "chat_messages" DROP COLUMN IF EXISTS "edited_at";
--> statement-breakpoint
ALTER TABLE "chat_participants" DROP COLUMN IF EXISTS "last_read_seq";
