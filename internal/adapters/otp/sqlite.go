package otp

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ncruces/go-sqlite3"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	phonenum "github.com/swiper-social/swiper/internal/domain/phone"
	"github.com/swiper-social/swiper/internal/platform/backend"
)

// SQLite sweep tuning: every sqliteSweepEvery writes, up to sqliteSweepSample
// phones whose state no longer matters (and the IP windows that are over)
// are deleted in the write's transaction, so a write's cost stays bounded.
const (
	sqliteSweepEvery  = 64
	sqliteSweepSample = 64
)

// SQLite is the embedded path's Store: the state of each phone is a row of
// otp_phones and each IP hour window a row of otp_ips, in the SQLite
// database file (the store's migrations create the tables), so codes,
// counters and locks survive a restart. Decisions are the Memory store's
// (state.go), made in one IMMEDIATE transaction per call on the row they
// read, so concurrent calls can never overrun a limit. Check's common
// answers (a match, no code, a lock) change nothing and are read without a
// transaction. Times are Unix nanoseconds from the callers' now.
type SQLite struct {
	db       *sql.DB
	sessions *kv.SQLite // the store of Then's keys
	p        Policy
	writes   atomic.Int64

	load, save, ipGet, ipAdd, sweepPhones, sweepIPs *sql.Stmt
}

var _ Chainer = (*SQLite)(nil)

// Statements of SQLite.
const (
	sqliteLoad = `SELECT code_hash, code_exp, last_send, day_key, day_count, day_end, fails, fail_exp, lock_until
		FROM otp_phones WHERE phone = ?`
	sqliteSave = `INSERT INTO otp_phones
		(phone, code_hash, code_exp, last_send, day_key, day_count, day_end, fails, fail_exp, lock_until, forget_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash, code_exp = excluded.code_exp,
		last_send = excluded.last_send, day_key = excluded.day_key, day_count = excluded.day_count,
		day_end = excluded.day_end, fails = excluded.fails, fail_exp = excluded.fail_exp,
		lock_until = excluded.lock_until, forget_at = excluded.forget_at`
	sqliteIPGet = `SELECT n FROM otp_ips WHERE window_start = ? AND ip = ?`
	sqliteIPAdd = `INSERT INTO otp_ips (window_start, ip, n) VALUES (?, ?, 1)
		ON CONFLICT (window_start, ip) DO UPDATE SET n = n + 1`
	sqliteSweepPhones = `DELETE FROM otp_phones WHERE phone IN
		(SELECT phone FROM otp_phones WHERE forget_at < ? LIMIT ?)`
	sqliteSweepIPs = `DELETE FROM otp_ips WHERE window_start < ?`
)

// NewSQLite returns a store on db (a pool of kv.OpenSQLiteDB: IMMEDIATE
// transactions) enforcing p. sessions is the kv store whose keys VerifyThen
// sets, on the same database. It prepares its statements (the tables must
// exist: run the store's migrations first); Close releases them.
func NewSQLite(ctx context.Context, db *sql.DB, sessions *kv.SQLite, p Policy) (*SQLite, error) {
	s := &SQLite{db: db, sessions: sessions, p: p}
	for _, st := range []struct {
		to   **sql.Stmt
		text string
	}{
		{&s.load, sqliteLoad}, {&s.save, sqliteSave}, {&s.ipGet, sqliteIPGet}, {&s.ipAdd, sqliteIPAdd},
		{&s.sweepPhones, sqliteSweepPhones}, {&s.sweepIPs, sqliteSweepIPs},
	} {
		prepared, err := db.PrepareContext(ctx, st.text)
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("otp: prepare sqlite statement: %w", classifySQLite(err))
		}
		*st.to = prepared
	}
	return s, nil
}

// Close releases the prepared statements (not the database).
func (s *SQLite) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.load, s.save, s.ipGet, s.ipAdd, s.sweepPhones, s.sweepIPs} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// Issue implements Store.
func (s *SQLite) Issue(ctx context.Context, req IssueRequest) (Result, error) {
	if err := checkIssue(ctx, req); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, _, err := s.loadState(ctx, tx.StmtContext(ctx, s.load), req.Phone)
		if err != nil {
			return err
		}
		countIP := countsIP(s.p, req)
		win := ipWindowStart(req.Now).Unix()
		ipSent := 0
		if countIP {
			err := tx.StmtContext(ctx, s.ipGet).QueryRowContext(ctx, win, req.IP).Scan(&ipSent)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if res = issue(s.p, &cur, req, ipSent, countIP); res.Outcome != OK {
			return nil
		}
		if err := s.saveState(ctx, tx, req.Phone, &cur); err != nil {
			return err
		}
		if countIP {
			if _, err := tx.StmtContext(ctx, s.ipAdd).ExecContext(ctx, win, req.IP); err != nil {
				return err
			}
		}
		return s.maybeSweep(ctx, tx, req.Now)
	})
	if err != nil {
		return Result{}, fmt.Errorf("otp: issue %s: %w", phonenum.Mask(req.Phone), err)
	}
	return res, nil
}

// Verify implements Store.
func (s *SQLite) Verify(ctx context.Context, phone string, codeHash []byte, now time.Time) (Result, error) {
	return s.VerifyThen(ctx, phone, codeHash, now, Then{})
}

// VerifyThen implements Chainer: then.Key is set in the transaction that
// consumes the code.
func (s *SQLite) VerifyThen(ctx context.Context, phone string, codeHash []byte, now time.Time, then Then) (Result, error) {
	if err := checkVerify(ctx, phone); err != nil {
		return Result{}, err
	}
	res, err := s.verifyTx(ctx, phone, codeHash, now, true, func(tx *sql.Tx) error {
		if then.Key == "" {
			return nil
		}
		return s.sessions.SetTx(ctx, tx, then.Key, then.Value, then.TTL)
	})
	if err != nil {
		return Result{}, fmt.Errorf("otp: verify %s: %w", phonenum.Mask(phone), err)
	}
	return res, nil
}

// Check implements Store. A match, no code or a lock change nothing and are
// answered from one read; a wrong code is counted in a transaction that
// decides again on the row as it is then.
func (s *SQLite) Check(ctx context.Context, phone string, codeHash []byte, now time.Time) (Result, error) {
	if err := checkVerify(ctx, phone); err != nil {
		return Result{}, err
	}
	cur, found, err := s.loadState(ctx, s.load, phone)
	if err != nil {
		return Result{}, fmt.Errorf("otp: check %s: %w", phonenum.Mask(phone), err)
	}
	if !found {
		return Result{Outcome: NoCode}, nil
	}
	if res, changed := verify(s.p, &cur, codeHash, now, false); !changed {
		return res, nil
	}
	res, err := s.verifyTx(ctx, phone, codeHash, now, false, nil)
	if err != nil {
		return Result{}, fmt.Errorf("otp: check %s: %w", phonenum.Mask(phone), err)
	}
	return res, nil
}

// verifyTx decides a Verify (consume) or Check in a transaction, saving
// the state when it changed; on OK it runs then (when not nil) in the same
// transaction.
func (s *SQLite) verifyTx(ctx context.Context, phone string, codeHash []byte, now time.Time, consume bool, then func(tx *sql.Tx) error) (Result, error) {
	var res Result
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		cur, found, err := s.loadState(ctx, tx.StmtContext(ctx, s.load), phone)
		if err != nil {
			return err
		}
		if !found {
			res = Result{Outcome: NoCode}
			return nil
		}
		var changed bool
		res, changed = verify(s.p, &cur, codeHash, now, consume)
		if changed {
			if err := s.saveState(ctx, tx, phone, &cur); err != nil {
				return err
			}
			if err := s.maybeSweep(ctx, tx, now); err != nil {
				return err
			}
		}
		if res.Outcome == OK && then != nil {
			return then(tx)
		}
		return nil
	})
	return res, err
}

// inTx runs fn in an IMMEDIATE transaction (the pool's), committed when fn
// returns nil.
func (s *SQLite) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return classifySQLite(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return classifySQLite(err)
	}
	return classifySQLite(tx.Commit())
}

// loadState reads the state of phone with the load statement (of the
// pool or of a transaction); found is false when it has none.
func (s *SQLite) loadState(ctx context.Context, load *sql.Stmt, phone string) (st phoneState, found bool, err error) {
	var codeExp, lastSend, dayEnd, failExp, lockUntil int64
	err = load.QueryRowContext(ctx, phone).Scan(&st.codeHash, &codeExp, &lastSend, &st.dayKey, &st.dayCount,
		&dayEnd, &st.fails, &failExp, &lockUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return phoneState{}, false, nil
	}
	if err != nil {
		return phoneState{}, false, classifySQLite(err)
	}
	st.codeExp, st.lastSend, st.dayEnd = fromNanos(codeExp), fromNanos(lastSend), fromNanos(dayEnd)
	st.failExp, st.lockUntil = fromNanos(failExp), fromNanos(lockUntil)
	return st, true, nil
}

func (s *SQLite) saveState(ctx context.Context, tx *sql.Tx, phone string, st *phoneState) error {
	_, err := tx.StmtContext(ctx, s.save).ExecContext(ctx, phone, st.codeHash, nanos(st.codeExp), nanos(st.lastSend),
		st.dayKey, st.dayCount, nanos(st.dayEnd), st.fails, nanos(st.failExp), nanos(st.lockUntil),
		nanos(st.forgetAt(s.p)))
	return err
}

// maybeSweep deletes, every sqliteSweepEvery writes, a few phones whose
// state stopped mattering more than sweepGrace ago and the IP windows that
// ended that long ago, in the write's transaction tx.
func (s *SQLite) maybeSweep(ctx context.Context, tx *sql.Tx, now time.Time) error {
	if s.writes.Add(1)%sqliteSweepEvery != 0 {
		return nil
	}
	cutoff := now.Add(-sweepGrace)
	if _, err := tx.StmtContext(ctx, s.sweepPhones).ExecContext(ctx, cutoff.UnixNano(), sqliteSweepSample); err != nil {
		return err
	}
	_, err := tx.StmtContext(ctx, s.sweepIPs).ExecContext(ctx, cutoff.Add(-time.Hour).Unix())
	return err
}

// nanos encodes t as Unix nanoseconds, the zero time as 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos decodes nanos.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
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
