package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ncruces/go-sqlite3"

	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// SQLite is the embedded path's Log, in the tables event_seqs, events and
// event_keys of the database file (the store's migration 00013), so that
// seqs and the replay horizon survive a restart. The database's
// transactions must be IMMEDIATE (kv.OpenSQLiteDB's are): an append's
// read-modify-write of the seq is then atomic.
type SQLite struct {
	db     *sql.DB
	clk    clock.Clock
	limits Limits
}

var _ Log = (*SQLite)(nil)

// NewSQLite returns the Log on db.
func NewSQLite(db *sql.DB, clk clock.Clock, limits Limits) *SQLite {
	return &SQLite{db: db, clk: clk, limits: limits.orDefault()}
}

// Statements of SQLite.
const (
	sqliteKey = `INSERT INTO event_keys (user_id, k, at) VALUES (?1, ?2, ?3)
		ON CONFLICT (user_id, k) DO UPDATE SET at = excluded.at WHERE event_keys.at <= ?4`
	sqliteNext = `INSERT INTO event_seqs (user_id, seq) VALUES (?, 1)
		ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1 RETURNING seq`
	sqliteInsert   = `INSERT INTO events (user_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)`
	sqliteCapTrim  = `DELETE FROM events WHERE user_id = ? AND seq <= ?`
	sqliteTimeTrim = `DELETE FROM events WHERE (user_id, seq) IN
		(SELECT user_id, seq FROM events WHERE at <= ? LIMIT 200)`
	sqliteKeyTrim = `DELETE FROM event_keys WHERE (user_id, k) IN
		(SELECT user_id, k FROM event_keys WHERE at <= ? LIMIT 200)`
	sqliteHeld  = `SELECT (SELECT seq FROM event_seqs WHERE user_id = ?1), (SELECT min(seq) FROM events WHERE user_id = ?1)`
	sqliteAfter = `SELECT seq, type, data FROM events WHERE user_id = ? AND seq > ? ORDER BY seq`
)

// Append implements Log: one transaction for all records.
func (s *SQLite) Append(ctx context.Context, recs ...Record) (_ []Stored, err error) {
	if len(recs) == 0 {
		return nil, nil
	}
	now := s.clk.Now().UnixMilli()
	cut := now - s.limits.Horizon.Milliseconds()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("events: append: %w", classifySQLite(err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	out := make([]Stored, 0, len(recs))
	for _, r := range recs {
		if r.Key != "" {
			res, err := tx.ExecContext(ctx, sqliteKey, r.To, r.Key, now, cut)
			if err != nil {
				return nil, fmt.Errorf("events: append key: %w", classifySQLite(err))
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // published before, within the horizon
			}
		}
		var seq int64
		if err := tx.QueryRowContext(ctx, sqliteNext, r.To).Scan(&seq); err != nil {
			return nil, fmt.Errorf("events: append seq: %w", classifySQLite(err))
		}
		data := []byte(r.Data)
		if len(data) == 0 {
			data = []byte("null")
		}
		if _, err := tx.ExecContext(ctx, sqliteInsert, r.To, seq, r.Type, data, now); err != nil {
			return nil, fmt.Errorf("events: append: %w", classifySQLite(err))
		}
		if seq > int64(s.limits.Cap) {
			if _, err := tx.ExecContext(ctx, sqliteCapTrim, r.To, seq-int64(s.limits.Cap)); err != nil {
				return nil, fmt.Errorf("events: trim: %w", classifySQLite(err))
			}
		}
		out = append(out, Stored{To: r.To, Event: Event{Seq: seq, Type: r.Type, Data: data}})
	}
	// What passed the horizon, for every user: a bounded amount per append
	// (an index range; nothing to do is one seek).
	for _, q := range []string{sqliteTimeTrim, sqliteKeyTrim} {
		if _, err := tx.ExecContext(ctx, q, cut); err != nil {
			return nil, fmt.Errorf("events: trim: %w", classifySQLite(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("events: append: %w", classifySQLite(err))
	}
	return out, nil
}

// Since implements Log.
func (s *SQLite) Since(ctx context.Context, user, since int64) (Replay, error) {
	var latest, first sql.NullInt64
	if err := s.db.QueryRowContext(ctx, sqliteHeld, user).Scan(&latest, &first); err != nil {
		return Replay{}, fmt.Errorf("events: since: %w", classifySQLite(err))
	}
	rows, err := s.db.QueryContext(ctx, sqliteAfter, user, max(since, 0))
	if err != nil {
		return Replay{}, fmt.Errorf("events: since: %w", classifySQLite(err))
	}
	defer rows.Close()
	rep := Replay{Latest: latest.Int64, Gap: gap(since, first.Int64, latest.Int64)}
	for rows.Next() {
		var ev Event
		var data []byte
		if err := rows.Scan(&ev.Seq, &ev.Type, &data); err != nil {
			return Replay{}, fmt.Errorf("events: since: %w", classifySQLite(err))
		}
		ev.Data = data
		rep.Events = append(rep.Events, ev)
	}
	if err := rows.Err(); err != nil {
		return Replay{}, fmt.Errorf("events: since: %w", classifySQLite(err))
	}
	return rep, nil
}

// Forget implements Log.
func (s *SQLite) Forget(ctx context.Context, user int64) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("events: forget %d: %w", user, classifySQLite(err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	for _, q := range []string{`DELETE FROM events WHERE user_id = ?`, `DELETE FROM event_keys WHERE user_id = ?`, `DELETE FROM event_seqs WHERE user_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, user); err != nil {
			return fmt.Errorf("events: forget %d: %w", user, classifySQLite(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("events: forget %d: %w", user, classifySQLite(err))
	}
	return nil
}

// classifySQLite marks a busy or closed database as unavailable.
func classifySQLite(err error) error {
	if err == nil || errors.Is(err, backend.ErrUnavailable) {
		return err
	}
	if errors.Is(err, sqlite3.BUSY) || errors.Is(err, sqlite3.LOCKED) || errors.Is(err, sql.ErrConnDone) {
		return backend.Unavailable(err)
	}
	return backend.Classify(err)
}
