-- +goose Up
CREATE TABLE users (
    id             BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    phone          VARCHAR(20)  NOT NULL,
    nickname       VARCHAR(32)  NOT NULL,
    gender         VARCHAR(6)   NOT NULL,
    birthday       CHAR(10)     NOT NULL,
    city           VARCHAR(32)  NOT NULL,
    cell_lat       INT          NULL,
    cell_lng       INT          NULL,
    avatar         VARCHAR(512) NOT NULL DEFAULT '',
    avatar_key     VARCHAR(128) NOT NULL DEFAULT '',
    vip_level      TINYINT      NOT NULL DEFAULT 0,
    vip_expires_at DATETIME(6)  NULL,
    created_at     DATETIME(6)  NOT NULL,
    active_at      DATETIME(6)  NOT NULL,
    UNIQUE KEY uq_users_phone (phone),
    KEY ix_users_avatar_key (avatar_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE profiles (
    user_id        BIGINT      NOT NULL PRIMARY KEY,
    dating_gender  VARCHAR(6)  NOT NULL,
    dating_city    VARCHAR(32) NOT NULL,
    min_distance   INT         NOT NULL,
    max_distance   INT         NOT NULL,
    min_dating_age INT         NOT NULL,
    max_dating_age INT         NOT NULL,
    vibration      BOOLEAN     NOT NULL,
    only_matched   BOOLEAN     NOT NULL,
    auto_play      BOOLEAN     NOT NULL,
    CONSTRAINT fk_profiles_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE photos (
    id          BIGINT       NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id     BIGINT       NOT NULL,
    position    INT          NOT NULL,
    url         VARCHAR(512) NOT NULL,
    storage_key VARCHAR(128) NOT NULL,
    created_at  DATETIME(6)  NOT NULL,
    KEY ix_photos_user (user_id, position),
    KEY ix_photos_key (storage_key),
    CONSTRAINT fk_photos_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- A match is stored once per pair, user_a < user_b.
CREATE TABLE matches (
    user_a     BIGINT      NOT NULL,
    user_b     BIGINT      NOT NULL,
    matched_at DATETIME(6) NOT NULL,
    PRIMARY KEY (user_a, user_b),
    KEY ix_matches_b (user_b, user_a)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE app_secrets (
    name  VARCHAR(32)   NOT NULL PRIMARY KEY,
    value VARBINARY(64) NOT NULL
) ENGINE=InnoDB;

-- +goose Down
DROP TABLE app_secrets;
DROP TABLE matches;
DROP TABLE photos;
DROP TABLE profiles;
DROP TABLE users;
