-- +goose Up
-- The embedded path's state that must survive a restart (on the production
-- path it lives in Redis). Times are Unix milliseconds (kv) or nanoseconds
-- (otp), 0 = none.

-- kv: the durable key-value store (kv.SQLite): sessions and rate-limit
-- counters. Expired rows are ignored on read and swept on writes.
CREATE TABLE kv (
    k          TEXT    NOT NULL PRIMARY KEY,
    v          BLOB    NOT NULL,
    expires_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX ix_kv_expires ON kv (expires_at) WHERE expires_at > 0;

-- otp_phones: the verification-code state of one phone (otp.SQLite):
-- the keyed hash of the current code, the resend, daily, failure and lock
-- state. forget_at is when nothing in the row matters any more.
CREATE TABLE otp_phones (
    phone      TEXT    NOT NULL PRIMARY KEY,
    code_hash  BLOB    NULL,
    code_exp   INTEGER NOT NULL DEFAULT 0,
    last_send  INTEGER NOT NULL DEFAULT 0,
    day_key    TEXT    NOT NULL DEFAULT '',
    day_count  INTEGER NOT NULL DEFAULT 0,
    day_end    INTEGER NOT NULL DEFAULT 0,
    fails      INTEGER NOT NULL DEFAULT 0,
    fail_exp   INTEGER NOT NULL DEFAULT 0,
    lock_until INTEGER NOT NULL DEFAULT 0,
    forget_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX ix_otp_phones_forget ON otp_phones (forget_at);

-- otp_ips: codes issued per client IP (or IPv6 /64) per hour window.
CREATE TABLE otp_ips (
    window_start INTEGER NOT NULL,
    ip           TEXT    NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (window_start, ip)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE otp_ips;
DROP TABLE otp_phones;
DROP TABLE kv;
