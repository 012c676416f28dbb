-- Rolls back 0002_ws_tickets.
DROP TABLE IF EXISTS "ws_tickets";
