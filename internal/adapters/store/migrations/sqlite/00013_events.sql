-- +goose Up
-- The per-user event streams of the embedded path (events.SQLite; on the
-- production path they live in Redis): numbered events kept for replay by
-- `since`. Times are Unix milliseconds.

-- event_seqs: the latest seq of each user (never reset, so that a client's
-- `since` stays meaningful).
CREATE TABLE event_seqs (
    user_id INTEGER NOT NULL PRIMARY KEY,
    seq     INTEGER NOT NULL
) WITHOUT ROWID;

-- events: the held events, trimmed by time and per-user count.
CREATE TABLE events (
    user_id INTEGER NOT NULL,
    seq     INTEGER NOT NULL,
    type    TEXT    NOT NULL,
    data    BLOB    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, seq)
) WITHOUT ROWID;
CREATE INDEX ix_events_at ON events (at);

-- event_keys: publish keys within the horizon (a retried publish is not
-- numbered twice).
CREATE TABLE event_keys (
    user_id INTEGER NOT NULL,
    k       TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, k)
) WITHOUT ROWID;
CREATE INDEX ix_event_keys_at ON event_keys (at);

-- +goose Down
DROP TABLE event_keys;
DROP TABLE events;
DROP TABLE event_seqs;
