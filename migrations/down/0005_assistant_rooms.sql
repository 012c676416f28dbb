-- Rolls back 0005_assistant_rooms: room assistant settings, the assistant's usage per day and per message.
DROP TABLE IF EXISTS "room_assistants";
--> statement-breakpoint
DROP TABLE IF EXISTS "ai_usage_days";
--> statement-breakpoint
DROP TYPE IF EXISTS "public"."ai_usage_scope";
--> statement-breakpoint
ALTER TABLE "chat_messages" DROP COLUMN IF EXISTS "ai_usage";
