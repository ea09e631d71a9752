-- +goose Up
-- One row per unordered pair of users (user_a < user_b) that one of them
-- liked or superliked. Every like writes its pair's row in the transaction
-- that records it, before reading the reverse like (store.SwipeBatch). Two
-- crossing likes therefore always write one row: a single server
-- serialises them on the row's lock, and a multi-writer cluster (Galera,
-- TiDB) refuses to commit the second of two concurrent writes of one row,
-- so its batch is retried and then reads the first like: the pair is
-- matched exactly once, whatever the engine. Without this row the two
-- likes touch different rows, and on Galera both commit unmatched.
CREATE TABLE like_pairs (
    user_a BIGINT NOT NULL,
    user_b BIGINT NOT NULL,
    likes  INT    NOT NULL DEFAULT 0, -- likes written through this row
    PRIMARY KEY (user_a, user_b)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE like_pairs;
