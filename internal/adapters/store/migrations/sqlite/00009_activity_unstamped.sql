-- +goose Up
-- Activity is not a change of the row: an update that only moves active_at
-- forward (the activity tracker's) leaves updated_at alone, so that a user
-- merely being active makes no deck index re-read their row and no cache
-- drop it. The deck index reads the users active since its last look
-- instead (once a minute, a range of this index). Any other write stamps
-- the row as before, also one moving active_at back (by hand), which the
-- index could not learn otherwise. (A column added to users later belongs
-- in the list below.)
CREATE INDEX ix_users_active ON users (active_at);
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

-- +goose Down
DROP TRIGGER tr_users_updated;
-- +goose StatementBegin
CREATE TRIGGER tr_users_updated AFTER UPDATE ON users FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE users SET updated_at = printf('%020d', COALESCE((SELECT CAST(MAX(updated_at) AS INTEGER) FROM users), 0) + 1)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd
DROP INDEX ix_users_active;
