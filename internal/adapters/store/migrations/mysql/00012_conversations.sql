-- +goose Up
-- Conversations (API.md §3): every match has one. Its state lives on the
-- match row: the last message, each side's read mark (the highest message
-- id it has read) and unread count (messages to it above its mark, kept in
-- the transaction that sends or reads), and active_at, the latest activity
-- (last message, else matched_at), by which a user's conversations are one
-- index range per side of the pair.
ALTER TABLE matches
    ADD COLUMN last_message_id BIGINT      NULL,
    ADD COLUMN last_message_at DATETIME(6) NULL,
    ADD COLUMN read_a          BIGINT      NOT NULL DEFAULT 0,
    ADD COLUMN read_b          BIGINT      NOT NULL DEFAULT 0,
    ADD COLUMN unread_a        INT         NOT NULL DEFAULT 0,
    ADD COLUMN unread_b        INT         NOT NULL DEFAULT 0,
    ADD COLUMN active_at       DATETIME(6) AS (COALESCE(last_message_at, matched_at)) VIRTUAL,
    ADD KEY ix_matches_a_active (user_a, active_at, user_b),
    ADD KEY ix_matches_b_active (user_b, active_at, user_a);

-- Messages, clustered by conversation: a page is one range of the primary
-- key (user_a, user_b, id). id is global and increases in time within a
-- conversation (sends of one pair are serialised on its match row).
-- uq_messages_client makes a retried send (same client_id from the same
-- sender in the same conversation) unable to create a second row.
CREATE TABLE messages (
    user_a    BIGINT      NOT NULL,
    user_b    BIGINT      NOT NULL,
    id        BIGINT      NOT NULL AUTO_INCREMENT,
    sender_id BIGINT      NOT NULL,
    client_id VARCHAR(64) NOT NULL,
    text      TEXT        NOT NULL,
    sent_at   DATETIME(6) NOT NULL,
    PRIMARY KEY (user_a, user_b, id),
    UNIQUE KEY uq_messages_id (id),
    UNIQUE KEY uq_messages_client (user_a, user_b, sender_id, client_id),
    KEY ix_messages_b (user_b)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE messages;
ALTER TABLE matches
    DROP KEY ix_matches_b_active,
    DROP KEY ix_matches_a_active,
    DROP COLUMN active_at,
    DROP COLUMN unread_b,
    DROP COLUMN unread_a,
    DROP COLUMN read_b,
    DROP COLUMN read_a,
    DROP COLUMN last_message_at,
    DROP COLUMN last_message_id;
