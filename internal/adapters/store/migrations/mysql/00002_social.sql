-- +goose Up
-- One row per swipe; a user can swipe another once (until a rewind deletes
-- the row). id only orders a user's swipes ("latest" for rewind), even when
-- two share a created_at.
CREATE TABLE swipes (
    swiper_id  BIGINT      NOT NULL,
    swiped_id  BIGINT      NOT NULL,
    action     TINYINT     NOT NULL, -- 1 like, 2 superlike, 3 dislike
    created_at DATETIME(6) NOT NULL,
    id         BIGINT      NOT NULL AUTO_INCREMENT,
    PRIMARY KEY (swiper_id, swiped_id),
    UNIQUE KEY uq_swipes_id (id),
    KEY ix_swipes_swiped (swiped_id, action, created_at),
    KEY ix_swipes_latest (swiper_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Likes (+ superlikes) and successful rewinds per user and local day.
CREATE TABLE daily_quotas (
    user_id BIGINT   NOT NULL,
    day     CHAR(10) NOT NULL, -- YYYY-MM-DD in SWIPER_TIMEZONE
    likes   INT      NOT NULL DEFAULT 0,
    rewinds INT      NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Hot rank, source of truth (the Redis sorted set is rebuilt from it).
-- swipes counts the swipes received; rows with 0 are not ranked.
CREATE TABLE scores (
    user_id BIGINT NOT NULL PRIMARY KEY,
    score   BIGINT NOT NULL DEFAULT 0,
    swipes  INT    NOT NULL DEFAULT 0,
    KEY ix_scores_rank (score DESC, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE scores;
DROP TABLE daily_quotas;
DROP TABLE swipes;
