package ratelimit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ncruces/go-sqlite3"
	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// A rolling-window limit counts the actions of a subject in the last Per
// before now (not in fixed windows): at most Max of them at any moment.
// Each counted action is an entry named by the caller (its member), so
// that
//   - the same member taken again while its entry is in the window is not
//     counted again (concurrent retries of one action count once), and
//   - an action that was refused after all can be given back (Release).
// The check and the record are one atomic step on every backend: a mutex
// in memory, an IMMEDIATE transaction on SQLite, a Lua script on Redis.

// Window holds the entries of rolling-window limits.
type Window interface {
	// Take records member for key at now unless fewer than max entries of
	// key are newer than now-per: it returns counted (a new entry was
	// made), or ok without a new entry when member already has one in the
	// window; otherwise !ok and wait, the time until the oldest entry
	// leaves the window.
	Take(ctx context.Context, key, member string, max int64, per time.Duration, now time.Time) (ok, counted bool, wait time.Duration, err error)
	// Release removes member's entry of key (nothing when it has none).
	Release(ctx context.Context, key, member string) error
}

// Rolling applies rolling-window Rules on a Window.
type Rolling struct {
	w      Window
	clock  clock.Clock
	prefix string
}

// NewRolling returns a Rolling whose keys start with prefix.
func NewRolling(w Window, c clock.Clock, prefix string) *Rolling {
	return &Rolling{w: w, clock: c, prefix: prefix}
}

// Taken is an action counted by Take; Release gives it back.
type Taken struct {
	r       *Rolling
	key     string
	member  string
	counted bool
}

// Counted reports whether this Take made the entry (false: member was
// already in the window, or there is no limit).
func (t Taken) Counted() bool { return t.counted }

// Release removes the entry this Take made, when it made one: for an
// action refused after all, which must not count.
func (t Taken) Release(ctx context.Context) error {
	if !t.counted {
		return nil
	}
	if err := t.r.w.Release(ctx, t.key, t.member); err != nil {
		return fmt.Errorf("ratelimit: release: %w", err)
	}
	return nil
}

// Take counts the action member of subject under r in the rolling window
// of r.Per ending now. It returns *Error (RetryAfter: until the oldest
// counted action leaves the window) when r.Max actions are already in the
// window; a refused Take records nothing. The same member taken again
// while it is in the window passes without counting. A zero Max means no
// limit.
func (l *Rolling) Take(ctx context.Context, r Rule, subject, member string) (Taken, error) {
	if r.Max <= 0 || r.Per <= 0 {
		return Taken{}, nil
	}
	// The subject is the hash tag: one Redis Cluster slot per subject.
	key := l.prefix + "rw:{" + subject + "}:" + r.Name
	ok, counted, wait, err := l.w.Take(ctx, key, member, r.Max, r.Per, l.clock.Now())
	if err != nil {
		return Taken{}, fmt.Errorf("ratelimit: take %s: %w", r.Name, err)
	}
	if !ok {
		return Taken{}, &Error{Rule: r, RetryAfter: wait}
	}
	return Taken{r: l, key: key, member: member, counted: counted}, nil
}

// ---------------------------------------------------------------- memory

// MemoryWindow is a Window in this process (one replica; tests).
type MemoryWindow struct {
	mu   sync.Mutex
	keys map[string]map[string]time.Time // key → member → when
}

// NewMemoryWindow returns an empty MemoryWindow.
func NewMemoryWindow() *MemoryWindow { return &MemoryWindow{keys: map[string]map[string]time.Time{}} }

// Take implements Window.
func (m *MemoryWindow) Take(_ context.Context, key, member string, max int64, per time.Duration, now time.Time) (bool, bool, time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.keys[key]
	var oldest time.Time
	for k, at := range es {
		if !at.After(now.Add(-per)) {
			delete(es, k)
		} else if oldest.IsZero() || at.Before(oldest) {
			oldest = at
		}
	}
	if _, ok := es[member]; ok {
		return true, false, 0, nil
	}
	if int64(len(es)) >= max {
		return false, false, oldest.Add(per).Sub(now), nil
	}
	if es == nil {
		es = map[string]time.Time{}
		m.keys[key] = es
	}
	es[member] = now
	return true, true, 0, nil
}

// Release implements Window.
func (m *MemoryWindow) Release(_ context.Context, key, member string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys[key], member)
	if len(m.keys[key]) == 0 {
		delete(m.keys, key)
	}
	return nil
}

// ---------------------------------------------------------------- Redis

// RedisWindow is a Window in Redis: a sorted set per key (members scored
// by their time in milliseconds), checked and written by one script.
type RedisWindow struct {
	rc     redis.UniversalClient
	prefix string
	take   *redis.Script
}

// takeScript: KEYS[1] the set; ARGV now (ms), per (ms), max, member.
// Returns {1, counted} or {0, wait ms}.
const takeScript = `
local now = tonumber(ARGV[1])
local per = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - per)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then
  return {1, 0}
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + per - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], per)
return {1, 1}
`

// NewRedisWindow returns a Window in rc whose keys start with prefix.
func NewRedisWindow(rc redis.UniversalClient, prefix string) *RedisWindow {
	return &RedisWindow{rc: rc, prefix: prefix, take: redis.NewScript(takeScript)}
}

// Take implements Window.
func (r *RedisWindow) Take(ctx context.Context, key, member string, max int64, per time.Duration, now time.Time) (bool, bool, time.Duration, error) {
	res, err := r.take.Run(ctx, r.rc, []string{r.prefix + key}, now.UnixMilli(), per.Milliseconds(), max, member).Int64Slice()
	if err != nil {
		return false, false, 0, kv.Classify(err)
	}
	if len(res) != 2 {
		return false, false, 0, fmt.Errorf("ratelimit: unexpected script reply %v", res)
	}
	if res[0] == 0 {
		return false, false, time.Duration(res[1]) * time.Millisecond, nil
	}
	return true, res[1] == 1, 0, nil
}

// Release implements Window.
func (r *RedisWindow) Release(ctx context.Context, key, member string) error {
	return kv.Classify(r.rc.ZRem(ctx, r.prefix+key, member).Err())
}

// ---------------------------------------------------------------- SQLite

// SQLiteWindow is a Window in the kv table of the embedded path's SQLite
// database (kv.OpenSQLiteDB's pool, whose transactions are IMMEDIATE: the
// check and the insert are one step for every process on the file). An
// entry is a row keyed key + "\x00" + member whose value is its time in
// milliseconds and which expires when it leaves the window, so the kv
// store's sweep deletes it.
type SQLiteWindow struct{ db *sql.DB }

// NewSQLiteWindow returns a Window on db (OpenSQLiteDB).
func NewSQLiteWindow(db *sql.DB) *SQLiteWindow { return &SQLiteWindow{db: db} }

// The rows of a key lie between key+"\x00" and key+"\x01" (members
// contain no NUL).
func entryKey(key, member string) string { return key + "\x00" + member }

// Take implements Window.
func (s *SQLiteWindow) Take(ctx context.Context, key, member string, max int64, per time.Duration, now time.Time) (_, _ bool, _ time.Duration, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, false, 0, sqliteErr(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	nowMs := now.UnixMilli()
	lo, hi := key+"\x00", key+"\x01"
	var n int64
	var oldest sql.NullInt64
	var mine int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), MIN(CAST(v AS INTEGER)), COALESCE(SUM(k = ?), 0) FROM kv
		WHERE k >= ? AND k < ? AND expires_at > ?`, entryKey(key, member), lo, hi, nowMs).Scan(&n, &oldest, &mine); err != nil {
		return false, false, 0, sqliteErr(err)
	}
	if mine > 0 {
		return true, false, 0, sqliteErr(tx.Commit())
	}
	if n >= max {
		wait := time.Duration(oldest.Int64+per.Milliseconds()-nowMs) * time.Millisecond
		return false, false, wait, sqliteErr(tx.Commit())
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO kv (k, v, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (k) DO UPDATE SET v = excluded.v, expires_at = excluded.expires_at`,
		entryKey(key, member), []byte(strconv.FormatInt(nowMs, 10)), nowMs+per.Milliseconds()); err != nil {
		return false, false, 0, sqliteErr(err)
	}
	if err := tx.Commit(); err != nil {
		return false, false, 0, sqliteErr(err)
	}
	return true, true, 0, nil
}

// Release implements Window.
func (s *SQLiteWindow) Release(ctx context.Context, key, member string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM kv WHERE k = ?`, entryKey(key, member))
	return sqliteErr(err)
}

// sqliteErr marks a busy, locked or closed database as unavailable.
func sqliteErr(err error) error {
	if err == nil || errors.Is(err, backend.ErrUnavailable) {
		return err
	}
	if errors.Is(err, sqlite3.BUSY) || errors.Is(err, sqlite3.LOCKED) || errors.Is(err, sql.ErrConnDone) {
		return backend.Unavailable(err)
	}
	return backend.Classify(err)
}
