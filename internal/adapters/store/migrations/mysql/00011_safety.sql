-- +goose Up
-- Safety and the account (API.md §3).
-- banned_at: the operator suspended the user (`swiper ban`): unknown to
-- everyone, no login. deleted_at: the account was deleted; the row is a
-- tombstone without personal data (phone freed, names cleared) that every
-- replica's deck index sees change, removed by the purge sweep once every
-- index has caught up. hidden: open reports from enough different users
-- keep the user out of every deck until a moderator resolves them.
ALTER TABLE users
    ADD COLUMN banned_at  DATETIME(6)  NULL,
    ADD COLUMN ban_reason VARCHAR(200) NOT NULL DEFAULT '',
    ADD COLUMN deleted_at DATETIME(6)  NULL,
    ADD COLUMN hidden     BOOLEAN      NOT NULL DEFAULT FALSE,
    ADD KEY ix_users_deleted (deleted_at);

-- A block hides both users from each other (either direction counts).
CREATE TABLE blocks (
    blocker_id BIGINT      NOT NULL,
    blocked_id BIGINT      NOT NULL,
    created_at DATETIME(6) NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    KEY ix_blocks_blocked (blocked_id, blocker_id),
    KEY ix_blocks_recent (blocker_id, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per report; a moderator resolves all open reports of a user at once.
CREATE TABLE reports (
    id              BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    reporter_id     BIGINT       NOT NULL,
    reported_id     BIGINT       NOT NULL,
    reason          VARCHAR(32)  NOT NULL,
    note            VARCHAR(500) NOT NULL DEFAULT '',
    created_at      DATETIME(6)  NOT NULL,
    resolved_at     DATETIME(6)  NULL,
    resolution      VARCHAR(16)  NOT NULL DEFAULT '', -- dismiss | ban
    resolution_note VARCHAR(500) NOT NULL DEFAULT '',
    KEY ix_reports_reported (reported_id, resolved_at),
    KEY ix_reports_reporter (reporter_id),
    KEY ix_reports_open (resolved_at, reported_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Reports per reporter and local day (the daily limit, a conditional counter).
ALTER TABLE daily_quotas ADD COLUMN reports INT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE daily_quotas DROP COLUMN reports;
DROP TABLE reports;
DROP TABLE blocks;
ALTER TABLE users DROP KEY ix_users_deleted, DROP COLUMN hidden, DROP COLUMN deleted_at,
    DROP COLUMN ban_reason, DROP COLUMN banned_at;
