-- +goose Up
-- Activity is not a change of the row: the activity tracker writes
-- active_at with `updated_at = updated_at`, which keeps ON UPDATE from
-- stamping the row, so that a user merely being active makes no replica
-- re-read their row. Each replica's deck index reads the users active since
-- its last look instead (once a minute, a range of this index); any other
-- write of active_at (by hand) still stamps the row.
ALTER TABLE users ADD KEY ix_users_active (active_at);

-- +goose Down
ALTER TABLE users DROP KEY ix_users_active;
