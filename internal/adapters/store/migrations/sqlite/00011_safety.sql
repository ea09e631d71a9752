-- +goose Up
-- Safety and the account (API.md §3). See the MySQL migration for the
-- meaning of the columns.
ALTER TABLE users ADD COLUMN banned_at TIMESTAMP NULL;
ALTER TABLE users ADD COLUMN ban_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP NULL;
ALTER TABLE users ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX ix_users_deleted ON users (deleted_at);

CREATE TABLE blocks (
    blocker_id INTEGER   NOT NULL,
    blocked_id INTEGER   NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX ix_blocks_blocked ON blocks (blocked_id, blocker_id);
CREATE INDEX ix_blocks_recent ON blocks (blocker_id, created_at);

CREATE TABLE reports (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    reporter_id     INTEGER   NOT NULL,
    reported_id     INTEGER   NOT NULL,
    reason          TEXT      NOT NULL,
    note            TEXT      NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    resolved_at     TIMESTAMP NULL,
    resolution      TEXT      NOT NULL DEFAULT '',
    resolution_note TEXT      NOT NULL DEFAULT ''
);
CREATE INDEX ix_reports_reported ON reports (reported_id, resolved_at);
CREATE INDEX ix_reports_reporter ON reports (reporter_id);
CREATE INDEX ix_reports_open ON reports (resolved_at, reported_id);

ALTER TABLE daily_quotas ADD COLUMN reports INTEGER NOT NULL DEFAULT 0;

-- The stamp trigger lists the columns whose change stamps the row even
-- with active_at moving forward (00009): the new ones belong there.
DROP TRIGGER tr_users_updated;
-- +goose StatementBegin
CREATE TRIGGER tr_users_updated AFTER UPDATE ON users FOR EACH ROW
WHEN NEW.updated_at IS OLD.updated_at AND NOT (
    COALESCE(julianday(NEW.active_at) > julianday(OLD.active_at), 0)
    AND NEW.id IS OLD.id AND NEW.phone IS OLD.phone AND NEW.nickname IS OLD.nickname
    AND NEW.gender IS OLD.gender AND NEW.birthday IS OLD.birthday AND NEW.city IS OLD.city
    AND NEW.cell_lat IS OLD.cell_lat AND NEW.cell_lng IS OLD.cell_lng AND NEW.avatar IS OLD.avatar
    AND NEW.avatar_key IS OLD.avatar_key AND NEW.vip_level IS OLD.vip_level
    AND NEW.vip_expires_at IS OLD.vip_expires_at AND NEW.created_at IS OLD.created_at
    AND NEW.photo_count IS OLD.photo_count AND NEW.banned_at IS OLD.banned_at
    AND NEW.ban_reason IS OLD.ban_reason AND NEW.deleted_at IS OLD.deleted_at AND NEW.hidden IS OLD.hidden)
BEGIN
    UPDATE users SET updated_at = printf('%020d', COALESCE((SELECT CAST(MAX(updated_at) AS INTEGER) FROM users), 0) + 1)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER tr_users_updated;
-- +goose StatementBegin
CREATE TRIGGER tr_users_updated AFTER UPDATE ON users FOR EACH ROW
WHEN NEW.updated_at IS OLD.updated_at AND NOT (
    COALESCE(julianday(NEW.active_at) > julianday(OLD.active_at), 0)
    AND NEW.id IS OLD.id AND NEW.phone IS OLD.phone AND NEW.nickname IS OLD.nickname
    AND NEW.gender IS OLD.gender AND NEW.birthday IS OLD.birthday AND NEW.city IS OLD.city
    AND NEW.cell_lat IS OLD.cell_lat AND NEW.cell_lng IS OLD.cell_lng AND NEW.avatar IS OLD.avatar
    AND NEW.avatar_key IS OLD.avatar_key AND NEW.vip_level IS OLD.vip_level
    AND NEW.vip_expires_at IS OLD.vip_expires_at AND NEW.created_at IS OLD.created_at
    AND NEW.photo_count IS OLD.photo_count)
BEGIN
    UPDATE users SET updated_at = printf('%020d', COALESCE((SELECT CAST(MAX(updated_at) AS INTEGER) FROM users), 0) + 1)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd
ALTER TABLE daily_quotas DROP COLUMN reports;
DROP TABLE reports;
DROP TABLE blocks;
DROP INDEX ix_users_deleted;
ALTER TABLE users DROP COLUMN hidden;
ALTER TABLE users DROP COLUMN deleted_at;
ALTER TABLE users DROP COLUMN ban_reason;
ALTER TABLE users DROP COLUMN banned_at;
