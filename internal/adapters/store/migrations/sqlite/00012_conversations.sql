-- +goose Up
-- Conversations (see the MySQL migration): their state on the match row;
-- active_at (last message, else matched_at) orders a user's conversations.
ALTER TABLE matches ADD COLUMN last_message_id INTEGER NULL;
ALTER TABLE matches ADD COLUMN last_message_at TIMESTAMP NULL;
ALTER TABLE matches ADD COLUMN read_a INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN read_b INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN unread_a INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN unread_b INTEGER NOT NULL DEFAULT 0;
ALTER TABLE matches ADD COLUMN active_at TIMESTAMP GENERATED ALWAYS AS (COALESCE(last_message_at, matched_at)) VIRTUAL;
CREATE INDEX ix_matches_a_active ON matches (user_a, active_at, user_b);
CREATE INDEX ix_matches_b_active ON matches (user_b, active_at, user_a);

-- Messages: id is the rowid (global, increasing); a page is one range of
-- ix_messages_pair; uq_messages_client makes a retried send unable to
-- create a second row.
CREATE TABLE messages (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_a    INTEGER   NOT NULL,
    user_b    INTEGER   NOT NULL,
    sender_id INTEGER   NOT NULL,
    client_id TEXT      NOT NULL,
    text      TEXT      NOT NULL,
    sent_at   TIMESTAMP NOT NULL,
    UNIQUE (user_a, user_b, sender_id, client_id)
);
CREATE INDEX ix_messages_pair ON messages (user_a, user_b, id);
CREATE INDEX ix_messages_b ON messages (user_b);

-- +goose Down
DROP TABLE messages;
DROP INDEX ix_matches_b_active;
DROP INDEX ix_matches_a_active;
ALTER TABLE matches DROP COLUMN active_at;
ALTER TABLE matches DROP COLUMN unread_b;
ALTER TABLE matches DROP COLUMN unread_a;
ALTER TABLE matches DROP COLUMN read_b;
ALTER TABLE matches DROP COLUMN read_a;
ALTER TABLE matches DROP COLUMN last_message_at;
ALTER TABLE matches DROP COLUMN last_message_id;
