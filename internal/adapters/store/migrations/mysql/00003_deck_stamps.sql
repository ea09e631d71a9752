-- +goose Up
-- updated_at: when a row last changed, set by the database itself (also for
-- writes that bypass the application), so that every replica's in-memory
-- deck index can catch up with rows changed since its last look.
ALTER TABLE users
    ADD COLUMN updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    ADD KEY ix_users_updated (updated_at);
ALTER TABLE profiles
    ADD COLUMN updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
    ADD KEY ix_profiles_updated (updated_at);

-- +goose Down
ALTER TABLE profiles DROP KEY ix_profiles_updated, DROP COLUMN updated_at;
ALTER TABLE users DROP KEY ix_users_updated, DROP COLUMN updated_at;
