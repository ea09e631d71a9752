-- +goose Up
-- updated_at: a stamp of the row's last change, kept by triggers (also for
-- writes that bypass the application), so that the in-memory deck index can
-- catch up with the rows changed since its last look. SQLite has one writer
-- at a time, so the stamp is a sequence (zero-padded text, sorting like the
-- numbers): a reader sees the changes in stamp order.
ALTER TABLE users ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
UPDATE users SET updated_at = printf('%020d', id);
CREATE INDEX ix_users_updated ON users (updated_at);
ALTER TABLE profiles ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
UPDATE profiles SET updated_at = printf('%020d', user_id);
CREATE INDEX ix_profiles_updated ON profiles (updated_at);

-- +goose StatementBegin
CREATE TRIGGER tr_users_inserted AFTER INSERT ON users FOR EACH ROW
BEGIN
    UPDATE users SET updated_at = printf('%020d', COALESCE((SELECT CAST(MAX(updated_at) AS INTEGER) FROM users), 0) + 1)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tr_users_updated AFTER UPDATE ON users FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE users SET updated_at = printf('%020d', COALESCE((SELECT CAST(MAX(updated_at) AS INTEGER) FROM users), 0) + 1)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tr_profiles_inserted AFTER INSERT ON profiles FOR EACH ROW
BEGIN
    UPDATE profiles SET updated_at = printf('%020d', COALESCE((SELECT CAST(MAX(updated_at) AS INTEGER) FROM profiles), 0) + 1)
    WHERE user_id = NEW.user_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tr_profiles_updated AFTER UPDATE ON profiles FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE profiles SET updated_at = printf('%020d', COALESCE((SELECT CAST(MAX(updated_at) AS INTEGER) FROM profiles), 0) + 1)
    WHERE user_id = NEW.user_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER tr_profiles_updated;
DROP TRIGGER tr_profiles_inserted;
DROP TRIGGER tr_users_updated;
DROP TRIGGER tr_users_inserted;
DROP INDEX ix_profiles_updated;
ALTER TABLE profiles DROP COLUMN updated_at;
DROP INDEX ix_users_updated;
ALTER TABLE users DROP COLUMN updated_at;
