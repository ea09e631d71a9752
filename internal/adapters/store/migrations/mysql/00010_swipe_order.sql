-- +goose Up
-- A user's swipes are ordered by when they were made (created_at, with
-- microseconds), not by id: auto-increment ids are not monotonic in time on
-- a multi-writer Galera cluster (each node has its own offset) or on TiDB.
-- id only breaks ties between swipes of one statement, whose ids increase.
ALTER TABLE swipes DROP INDEX ix_swipes_latest, ADD INDEX ix_swipes_latest (swiper_id, created_at, id);

-- +goose Down
ALTER TABLE swipes DROP INDEX ix_swipes_latest, ADD INDEX ix_swipes_latest (swiper_id, id);
