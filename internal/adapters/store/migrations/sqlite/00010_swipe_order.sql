-- +goose Up
-- A user's swipes are ordered by when they were made (see the MySQL
-- migration); id only breaks ties.
DROP INDEX ix_swipes_latest;
CREATE INDEX ix_swipes_latest ON swipes (swiper_id, created_at, id);

-- +goose Down
DROP INDEX ix_swipes_latest;
CREATE INDEX ix_swipes_latest ON swipes (swiper_id, id);
