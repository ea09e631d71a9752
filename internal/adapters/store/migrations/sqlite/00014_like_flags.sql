-- +goose Up
-- The pair row carries both users' likes (see the MySQL migration):
-- a_likes is user_a's like of user_b, b_likes the reverse, each 0 or 1.
ALTER TABLE like_pairs ADD COLUMN a_likes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE like_pairs ADD COLUMN b_likes INTEGER NOT NULL DEFAULT 0;

INSERT INTO like_pairs (user_a, user_b, likes, a_likes, b_likes)
SELECT MIN(swiper_id, swiped_id), MAX(swiper_id, swiped_id), 0,
       MAX(swiper_id < swiped_id), MAX(swiper_id > swiped_id)
FROM swipes WHERE action IN (1, 2) AND swiper_id <> swiped_id
GROUP BY MIN(swiper_id, swiped_id), MAX(swiper_id, swiped_id)
ON CONFLICT (user_a, user_b) DO UPDATE SET a_likes = excluded.a_likes, b_likes = excluded.b_likes;

-- +goose Down
ALTER TABLE like_pairs DROP COLUMN a_likes;
ALTER TABLE like_pairs DROP COLUMN b_likes;
