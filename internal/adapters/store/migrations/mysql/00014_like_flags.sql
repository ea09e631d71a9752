-- +goose Up
-- The pair row carries both users' likes: a_likes is user_a's like (or
-- superlike) of user_b, b_likes the reverse, each 0 or 1. A like sets its
-- side in the transaction that records it and reads the row back locked:
-- the pair is matched when both are set. Two crossing likes write this one
-- row, so the match is decided on one row on every engine (a single
-- server serialises them on its lock; Galera and TiDB refuse the second
-- commit, whose batch is retried). A rewound like clears its side.
ALTER TABLE like_pairs
    ADD COLUMN a_likes TINYINT NOT NULL DEFAULT 0,
    ADD COLUMN b_likes TINYINT NOT NULL DEFAULT 0;

INSERT INTO like_pairs (user_a, user_b, likes, a_likes, b_likes)
SELECT LEAST(swiper_id, swiped_id), GREATEST(swiper_id, swiped_id), 0,
       MAX(swiper_id < swiped_id), MAX(swiper_id > swiped_id)
FROM swipes WHERE action IN (1, 2) AND swiper_id <> swiped_id
GROUP BY LEAST(swiper_id, swiped_id), GREATEST(swiper_id, swiped_id)
ON DUPLICATE KEY UPDATE a_likes = VALUES(a_likes), b_likes = VALUES(b_likes);

-- +goose Down
ALTER TABLE like_pairs DROP COLUMN a_likes, DROP COLUMN b_likes;
