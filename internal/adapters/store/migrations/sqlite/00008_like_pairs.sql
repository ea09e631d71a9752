-- +goose Up
-- One row per unordered pair of users (user_a < user_b) that one of them
-- liked or superliked; every like writes it before reading the reverse like
-- (see the MySQL migration: on SQLite the database lock already serialises
-- writers, the table keeps both dialects' schemas alike).
CREATE TABLE like_pairs (
    user_a INTEGER NOT NULL,
    user_b INTEGER NOT NULL,
    likes  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_a, user_b)
);

-- +goose Down
DROP TABLE like_pairs;
