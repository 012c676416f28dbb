-- Rolls back 0000_foundation: accounts and refresh-token families.
DROP TABLE IF EXISTS "refresh_token_families";
--> statement-breakpoint
DROP TABLE IF EXISTS "users";
