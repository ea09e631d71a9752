-- +goose Up
CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    phone          TEXT    NOT NULL UNIQUE,
    nickname       TEXT    NOT NULL,
    gender         TEXT    NOT NULL,
    birthday       TEXT    NOT NULL,
    city           TEXT    NOT NULL,
    cell_lat       INTEGER NULL,
    cell_lng       INTEGER NULL,
    avatar         TEXT    NOT NULL DEFAULT '',
    avatar_key     TEXT    NOT NULL DEFAULT '',
    vip_level      INTEGER NOT NULL DEFAULT 0,
    vip_expires_at TIMESTAMP NULL,
    created_at     TIMESTAMP NOT NULL,
    active_at      TIMESTAMP NOT NULL
);
CREATE INDEX ix_users_avatar_key ON users (avatar_key);

CREATE TABLE profiles (
    user_id        INTEGER NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    dating_gender  TEXT    NOT NULL,
    dating_city    TEXT    NOT NULL,
    min_distance   INTEGER NOT NULL,
    max_distance   INTEGER NOT NULL,
    min_dating_age INTEGER NOT NULL,
    max_dating_age INTEGER NOT NULL,
    vibration      BOOLEAN NOT NULL,
    only_matched   BOOLEAN NOT NULL,
    auto_play      BOOLEAN NOT NULL
);

CREATE TABLE photos (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    url         TEXT    NOT NULL,
    storage_key TEXT    NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX ix_photos_user ON photos (user_id, position);
CREATE INDEX ix_photos_key ON photos (storage_key);

-- A match is stored once per pair, user_a < user_b.
CREATE TABLE matches (
    user_a     INTEGER NOT NULL,
    user_b     INTEGER NOT NULL,
    matched_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_a, user_b)
);
CREATE INDEX ix_matches_b ON matches (user_b, user_a);

CREATE TABLE app_secrets (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
);

-- +goose Down
DROP TABLE app_secrets;
DROP TABLE matches;
DROP TABLE photos;
DROP TABLE profiles;
DROP TABLE users;
