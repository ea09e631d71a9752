package kv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"
	_ "github.com/ncruces/go-sqlite3/driver" // the "sqlite3" database/sql driver

	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// sqliteChunk bounds the keys of one MGet or Del statement.
const sqliteChunk = 500

// SQLite is a Store in the kv table of the embedded path's SQLite database
// (created by the store's migrations), so that what it holds — sessions,
// rate-limit counters — survives a restart. Expiry is judged by the
// injected clock: an expired row is never returned, and every sweepEvery
// writes up to sweepSample expired rows are deleted (an index finds them),
// so the cost of a write stays bounded. It starts no goroutine.
//
// The database must open its transactions IMMEDIATE (OpenSQLiteDB's do),
// which makes Incr's read-modify-write atomic.
type SQLite struct {
	db     *sql.DB
	clk    clock.Clock
	writes atomic.Int64 // writes since the store was made, for the sweep

	get, getExp, set, del, sweep *sql.Stmt
}

var _ Store = (*SQLite)(nil)

// Statements of SQLite: times are Unix milliseconds, expires_at 0 = never.
const (
	sqliteLive   = `(expires_at = 0 OR expires_at > ?)`
	sqliteGet    = `SELECT v FROM kv WHERE k = ? AND ` + sqliteLive
	sqliteGetExp = `SELECT v, expires_at FROM kv WHERE k = ? AND ` + sqliteLive
	sqliteSet    = `INSERT INTO kv (k, v, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at`
	sqliteDel   = `DELETE FROM kv WHERE k = ?`
	sqliteSweep = `DELETE FROM kv WHERE k IN
		(SELECT k FROM kv WHERE expires_at > 0 AND expires_at <= ? LIMIT ?)`
)

// OpenSQLiteDB opens a connection pool on the SQLite database file at path
// (the embedded path's database, whose migrations create the kv table) for
// SQLite and for otp.SQLite. Its connections wait up to 10 s for a lock
// held by another connection (the store's pool, or another process), and
// open their transactions IMMEDIATE. The caller closes it.
func OpenSQLiteDB(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("kv: open sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// NewSQLite returns a Store on the kv table of db that reads the time from
// clk. It prepares its statements (the table must exist: run the store's
// migrations first); Close releases them.
func NewSQLite(ctx context.Context, db *sql.DB, clk clock.Clock) (*SQLite, error) {
	s := &SQLite{db: db, clk: clk}
	for _, p := range []struct {
		st   **sql.Stmt
		text string
	}{{&s.get, sqliteGet}, {&s.getExp, sqliteGetExp}, {&s.set, sqliteSet}, {&s.del, sqliteDel}, {&s.sweep, sqliteSweep}} {
		st, err := db.PrepareContext(ctx, p.text)
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("kv: prepare sqlite statement: %w", classifySQLite(err))
		}
		*p.st = st
	}
	return s, nil
}

// Close releases the prepared statements (not the database).
func (s *SQLite) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.get, s.getExp, s.set, s.del, s.sweep} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// SetTx is Set inside tx, a transaction on the store's database: a caller
// that must store a key in the same step as its own writes (the login's
// session with the consumption of its code) passes its transaction.
func (s *SQLite) SetTx(ctx context.Context, tx *sql.Tx, key string, value []byte, ttl time.Duration) error {
	if _, err := tx.StmtContext(ctx, s.set).ExecContext(ctx, key, nonNil(value), s.expiry(ttl)); err != nil {
		return fmt.Errorf("kv: set %q: %w", key, classifySQLite(err))
	}
	return nil
}

func (s *SQLite) nowMs() int64 { return s.clk.Now().UnixMilli() }

// expiry returns the expires_at of a key written now with ttl.
func (s *SQLite) expiry(ttl time.Duration) int64 {
	if ttl <= 0 {
		return 0
	}
	return s.clk.Now().Add(ttl).UnixMilli()
}

// Get returns the value of key, or ErrNotFound.
func (s *SQLite) Get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.get.QueryRowContext(ctx, key, s.nowMs()).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("kv: get %q: %w", key, classifySQLite(err))
	}
	return nonNil(v), nil
}

// MGet returns the values of keys in order; a missing key gives a nil entry.
func (s *SQLite) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	now := s.nowMs()
	for start := 0; start < len(keys); start += sqliteChunk {
		chunk := keys[start:min(start+sqliteChunk, len(keys))]
		args := make([]any, 0, len(chunk)+1)
		for _, k := range chunk {
			args = append(args, k)
		}
		args = append(args, now)
		rows, err := s.db.QueryContext(ctx,
			`SELECT k, v FROM kv WHERE k IN (`+placeholders(len(chunk))+`) AND `+sqliteLive, args...)
		if err != nil {
			return nil, fmt.Errorf("kv: mget %d keys: %w", len(keys), classifySQLite(err))
		}
		found := make(map[string][]byte, len(chunk))
		for rows.Next() {
			var k string
			var v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("kv: mget %d keys: %w", len(keys), classifySQLite(err))
			}
			found[k] = nonNil(v)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("kv: mget %d keys: %w", len(keys), classifySQLite(err))
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("kv: mget %d keys: %w", len(keys), classifySQLite(err))
		}
		for i, k := range chunk {
			if v, ok := found[k]; ok {
				out[start+i] = clone(v) // a key asked twice gets two copies
			}
		}
	}
	return out, nil
}

// Set stores value under key; ttl <= 0 means no expiry.
func (s *SQLite) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if _, err := s.set.ExecContext(ctx, key, nonNil(value), s.expiry(ttl)); err != nil {
		return fmt.Errorf("kv: set %q: %w", key, classifySQLite(err))
	}
	s.wrote(ctx)
	return nil
}

// Del removes keys; absent keys are ignored.
func (s *SQLite) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 1 {
		if _, err := s.del.ExecContext(ctx, keys[0]); err != nil {
			return fmt.Errorf("kv: del %q: %w", keys[0], classifySQLite(err))
		}
		return nil
	}
	for start := 0; start < len(keys); start += sqliteChunk {
		chunk := keys[start:min(start+sqliteChunk, len(keys))]
		args := make([]any, len(chunk))
		for i, k := range chunk {
			args[i] = k
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM kv WHERE k IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
			return fmt.Errorf("kv: del %d keys: %w", len(keys), classifySQLite(err))
		}
	}
	return nil
}

// Incr adds 1 to the decimal integer stored at key (missing or expired = 0),
// sets the expiry to ttl when ttl > 0 (else keeps the key's), and returns
// the new value: a read and an upsert in one IMMEDIATE transaction, so
// concurrent increments never lose one. Like Redis, the value is stored as
// decimal text, and a value that is not an integer is an error that
// changes nothing.
func (s *SQLite) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	n, err := s.incr(ctx, key, ttl)
	if err != nil {
		return 0, err
	}
	s.wrote(ctx)
	return n, nil
}

func (s *SQLite) incr(ctx context.Context, key string, ttl time.Duration) (_ int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("kv: incr %q: %w", key, classifySQLite(err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	now := s.clk.Now()
	var (
		v   []byte
		exp int64
		n   int64
	)
	switch err := tx.StmtContext(ctx, s.getExp).QueryRowContext(ctx, key, now.UnixMilli()).Scan(&v, &exp); {
	case errors.Is(err, sql.ErrNoRows):
		exp = 0
	case err != nil:
		return 0, fmt.Errorf("kv: incr %q: %w", key, classifySQLite(err))
	default:
		if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
			return 0, fmt.Errorf("kv: incr %q: value is not an integer", key)
		}
	}
	if n == math.MaxInt64 {
		return 0, fmt.Errorf("kv: incr %q: increment would overflow", key)
	}
	n++
	if ttl > 0 {
		exp = now.Add(ttl).UnixMilli()
	}
	if _, err := tx.StmtContext(ctx, s.set).ExecContext(ctx, key, strconv.AppendInt(nil, n, 10), exp); err != nil {
		return 0, fmt.Errorf("kv: incr %q: %w", key, classifySQLite(err))
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("kv: incr %q: commit: %w", key, classifySQLite(err))
	}
	return n, nil
}

// Ping reports whether the database answers.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("kv: ping: %w", backend.Unavailable(err))
	}
	return nil
}

// wrote counts a write and, every sweepEvery writes, deletes a few expired
// rows. The sweep is housekeeping: its failure (a busy database) is left to
// the next one, as expired rows are never read anyway.
func (s *SQLite) wrote(ctx context.Context) {
	if s.writes.Add(1)%sweepEvery != 0 {
		return
	}
	_, _ = s.sweep.ExecContext(ctx, s.nowMs(), sweepSample)
}

// classifySQLite marks a busy or locked database (another writer held it
// past the busy timeout) and a closed pool as unavailable.
func classifySQLite(err error) error {
	if err == nil || errors.Is(err, backend.ErrUnavailable) {
		return err
	}
	if errors.Is(err, sqlite3.BUSY) || errors.Is(err, sqlite3.LOCKED) || errors.Is(err, sql.ErrConnDone) {
		return backend.Unavailable(err)
	}
	return backend.Classify(err)
}

// placeholders returns "?, ?, …" with n marks.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// nonNil makes an empty value an empty, non-nil slice: SQLite binds a nil
// slice as NULL, and an empty value reads back as one (as from Redis), so
// MGet can tell it from a gap.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
