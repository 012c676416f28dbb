CREATE TYPE "public"."ai_usage_scope" AS ENUM('user', 'room');--> statement-breakpoint
CREATE TABLE "ai_usage_days" (
	"day" date NOT NULL,
	"scope" "ai_usage_scope" NOT NULL,
	"scope_id" integer NOT NULL,
	"tokens" bigint DEFAULT 0 NOT NULL,
	"replies" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "ai_usage_days_scope_scope_id_day_pk" PRIMARY KEY("scope","scope_id","day")
);
--> statement-breakpoint
CREATE TABLE "room_assistants" (
	"session_id" integer PRIMARY KEY NOT NULL,
	"instructions" text DEFAULT '' NOT NULL,
	"model" varchar(200),
	"context_messages" integer,
	"tools_enabled" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_messages" ADD COLUMN "ai_usage" jsonb;--> statement-breakpoint
ALTER TABLE "room_assistants" ADD CONSTRAINT "room_assistants_session_id_chat_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."chat_sessions"("id") ON DELETE no action ON UPDATE no action;