-- Rolls back 0004_token_revocation: the instant before which access tokens are refused.
ALTER TABLE "users" DROP COLUMN IF EXISTS "tokens_valid_after";
