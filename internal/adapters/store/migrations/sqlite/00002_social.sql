-- +goose Up
-- One row per swipe; a user can swipe another once (until a rewind deletes
-- the row). id only orders a user's swipes ("latest" for rewind), even when
-- two share a created_at.
CREATE TABLE swipes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    swiper_id  INTEGER   NOT NULL,
    swiped_id  INTEGER   NOT NULL,
    action     INTEGER   NOT NULL, -- 1 like, 2 superlike, 3 dislike
    created_at TIMESTAMP NOT NULL,
    UNIQUE (swiper_id, swiped_id)
);
CREATE INDEX ix_swipes_swiped ON swipes (swiped_id, action, created_at);
CREATE INDEX ix_swipes_latest ON swipes (swiper_id, id);

-- Likes (+ superlikes) and successful rewinds per user and local day.
CREATE TABLE daily_quotas (
    user_id INTEGER NOT NULL,
    day     TEXT    NOT NULL, -- YYYY-MM-DD in SWIPER_TIMEZONE
    likes   INTEGER NOT NULL DEFAULT 0,
    rewinds INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day)
);

-- Hot rank, source of truth. swipes counts the swipes received; rows with 0
-- are not ranked.
CREATE TABLE scores (
    user_id INTEGER NOT NULL PRIMARY KEY,
    score   INTEGER NOT NULL DEFAULT 0,
    swipes  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_scores_rank ON scores (score DESC, user_id);

-- +goose Down
DROP TABLE scores;
DROP TABLE daily_quotas;
DROP TABLE swipes;
