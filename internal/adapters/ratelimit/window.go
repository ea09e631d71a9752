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
	"github.com/swiper-social/swiper/internal/domain/model"
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

// WindowTake is one take of ManyWindow.TakeMany: member for key.
type WindowTake struct{ Key, Member string }

// WindowTaken is the answer to one WindowTake, as Window.Take's.
type WindowTaken struct {
	OK, Counted bool
	Wait        time.Duration
}

// ManyWindow is a Window that takes many entries in one step (Redis: one
// round trip), each as Take would in turn.
type ManyWindow interface {
	Window
	TakeMany(ctx context.Context, takes []WindowTake, max int64, per time.Duration, now time.Time) ([]WindowTaken, error)
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

// Taken is an action counted by Take (the domain's model.RateTaken);
// Rolling.Release gives it back.
type Taken = model.RateTaken

// Release removes the entry t made, when it made one: for an action
// refused after all, which must not count.
func (l *Rolling) Release(ctx context.Context, t Taken) error {
	if !t.Counted {
		return nil
	}
	if err := l.w.Release(ctx, t.Key, t.Member); err != nil {
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
	key := l.key(r, subject)
	ok, counted, wait, err := l.w.Take(ctx, key, member, r.Max, r.Per, l.clock.Now())
	if err != nil {
		return Taken{}, fmt.Errorf("ratelimit: take %s: %w", r.Name, err)
	}
	if !ok {
		return Taken{}, &Error{Rule: r, RetryAfter: wait}
	}
	return Taken{Key: key, Member: member, Counted: counted}, nil
}

// Action is one action of TakeMany: Take's subject and member (the
// domain's model.RateAction).
type Action = model.RateAction

// TakeMany is Take for each action in turn, in one step when the Window
// can (one round trip on Redis): one Taken per action, or its *Error in
// refused; or the Window's error (then what was taken is unknown; the
// entries expire with their window).
func (l *Rolling) TakeMany(ctx context.Context, r Rule, as []Action) (taken []Taken, refused []error, err error) {
	taken, refused = make([]Taken, len(as)), make([]error, len(as))
	if r.Max <= 0 || r.Per <= 0 {
		return taken, refused, nil
	}
	mw, ok := l.w.(ManyWindow)
	if !ok {
		for i, a := range as {
			t, err := l.Take(ctx, r, a.Subject, a.Member)
			var le *Error
			switch {
			case errors.As(err, &le):
				refused[i] = err
			case err != nil:
				return nil, nil, err
			}
			taken[i] = t
		}
		return taken, refused, nil
	}
	takes := make([]WindowTake, len(as))
	for i, a := range as {
		takes[i] = WindowTake{Key: l.key(r, a.Subject), Member: a.Member}
	}
	got, err := mw.TakeMany(ctx, takes, r.Max, r.Per, l.clock.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("ratelimit: take %s: %w", r.Name, err)
	}
	for i, g := range got {
		if !g.OK {
			refused[i] = &Error{Rule: r, RetryAfter: g.Wait}
			continue
		}
		taken[i] = Taken{Key: takes[i].Key, Member: takes[i].Member, Counted: g.Counted}
	}
	return taken, refused, nil
}

// key is the key of subject's entries under r; the subject is the hash
// tag: one Redis Cluster slot per subject.
func (l *Rolling) key(r Rule, subject string) string {
	return l.prefix + "rw:{" + subject + "}:" + r.Name
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
// Returns {1, counted} or {0, wait ms}. It counts the entries in the
// window (ZCOUNT) instead of dropping the older ones first: those are
// dropped on one call in four (by the time's last digits), which bounds
// the set while costing a command less on the others.
const takeScript = `
local now = tonumber(ARGV[1])
local per = tonumber(ARGV[2])
local cut = now - per
local at = redis.call('ZSCORE', KEYS[1], ARGV[4])
if at and tonumber(at) > cut then
  return {1, 0}
end
if redis.call('ZCOUNT', KEYS[1], '(' .. cut, '+inf') >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. cut, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  return {0, tonumber(oldest[2]) + per - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], per)
if now % 4 == 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cut)
end
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

// TakeMany implements ManyWindow: one script call per take, pipelined.
func (r *RedisWindow) TakeMany(ctx context.Context, takes []WindowTake, max int64, per time.Duration, now time.Time) ([]WindowTaken, error) {
	cmds := make([]*redis.Cmd, len(takes))
	run := func(idx []int, sha bool) error {
		_, err := r.rc.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range idx {
				keys := []string{r.prefix + takes[i].Key}
				if sha {
					cmds[i] = r.take.EvalSha(ctx, p, keys, now.UnixMilli(), per.Milliseconds(), max, takes[i].Member)
				} else {
					cmds[i] = r.take.Eval(ctx, p, keys, now.UnixMilli(), per.Milliseconds(), max, takes[i].Member)
				}
			}
			return nil
		})
		return err
	}
	all := make([]int, len(takes))
	for i := range all {
		all[i] = i
	}
	if err := run(all, true); err != nil {
		// A script not loaded on a node did nothing there: run those again
		// with its text.
		var again []int
		for i, c := range cmds {
			if err := c.Err(); err != nil {
				if !redis.HasErrorPrefix(err, "NOSCRIPT") {
					return nil, kv.Classify(err)
				}
				again = append(again, i)
			}
		}
		if err := run(again, false); err != nil {
			return nil, kv.Classify(err)
		}
	}
	out := make([]WindowTaken, len(takes))
	for i, c := range cmds {
		res, err := c.Int64Slice()
		if err != nil {
			return nil, kv.Classify(err)
		}
		if len(res) != 2 {
			return nil, fmt.Errorf("ratelimit: unexpected script reply %v", res)
		}
		if res[0] == 0 {
			out[i] = WindowTaken{Wait: time.Duration(res[1]) * time.Millisecond}
		} else {
			out[i] = WindowTaken{OK: true, Counted: res[1] == 1}
		}
	}
	return out, nil
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
