package otp_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/otp"
	"github.com/swiper-social/swiper/internal/adapters/otp/otptest"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// sqliteDB creates and migrates a SQLite database at path as the app does
// (the store's migrations make the tables) and returns a pool of
// kv.OpenSQLiteDB on it; everything is closed when t ends.
func sqliteDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, config.SQLite, path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	db, err := kv.OpenSQLiteDB(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// newSQLite returns a code store and its session store on db.
func newSQLite(t testing.TB, db *sql.DB, clk clock.Clock, p otp.Policy) (*otp.SQLite, *kv.SQLite) {
	t.Helper()
	ctx := context.Background()
	sessions, err := kv.NewSQLite(ctx, db, clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sessions.Close() })
	s, err := otp.NewSQLite(ctx, db, sessions, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, sessions
}

func TestSQLiteContract(t *testing.T) {
	otptest.Run(t, func(t *testing.T, p otp.Policy) otp.Store {
		s, _ := newSQLite(t, sqliteDB(t, filepath.Join(t.TempDir(), "otp.db")), clock.Real{}, p)
		return s
	})
}

// A lock, the wrong-attempt counter, the resend interval and a code all
// survive closing and reopening the database (a restart).
func TestSQLiteSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "otp.db")
	p := otp.DefaultPolicy()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	dayEnd := now.Add(14 * time.Hour)
	issue := func(s otp.Store, phone, hash string) otp.Result {
		t.Helper()
		res, err := s.Issue(ctx, otp.IssueRequest{Phone: phone, IP: "203.0.113.1", CodeHash: []byte(hash), Now: now,
			DayKey: "2026-12-07", DayEnd: dayEnd})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	verify := func(s otp.Store, phone, hash string) otp.Result {
		t.Helper()
		res, err := s.Verify(ctx, phone, []byte(hash), now)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	db := sqliteDB(t, path)
	s, _ := newSQLite(t, db, clock.Real{}, p)
	const locked, waiting, counted = "+8613800000001", "+8613800000002", "+8613800000003"
	issue(s, locked, "h1")
	for range p.MaxFailures {
		verify(s, locked, "bad")
	}
	issue(s, waiting, "h2")
	issue(s, counted, "h3")
	verify(s, counted, "bad")
	_ = s.Close()
	_ = db.Close()

	now = now.Add(time.Minute / 2)
	again, _ := newSQLite(t, sqliteDB(t, path), clock.Real{}, p)
	if res := verify(again, locked, "h1"); res.Outcome != otp.Locked {
		t.Fatalf("locked phone after reopen: %v, want Locked", res)
	}
	if res := issue(again, waiting, "h4"); res.Outcome != otp.TooSoon {
		t.Fatalf("resend after reopen: %v, want TooSoon", res)
	}
	for range p.MaxFailures - 2 {
		if res := verify(again, counted, "bad"); res.Outcome != otp.WrongCode {
			t.Fatalf("wrong code after reopen: %v, want WrongCode", res)
		}
	}
	if res := verify(again, counted, "bad"); res.Outcome != otp.Locked {
		t.Fatalf("%d-th wrong code across the reopen: %v, want Locked", p.MaxFailures, res)
	}
	if res := verify(again, waiting, "h2"); res.Outcome != otp.OK {
		t.Fatalf("code after reopen: %v, want OK", res)
	}
}

// VerifyThen sets its key in the transaction that consumes the code, and
// only then.
func TestSQLiteVerifyThen(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	s, sessions := newSQLite(t, sqliteDB(t, filepath.Join(t.TempDir(), "otp.db")), clk, otp.DefaultPolicy())
	const phone = "+8613800000001"
	if res, err := s.Issue(ctx, otp.IssueRequest{Phone: phone, CodeHash: []byte("h1"), Now: now,
		DayKey: "2026-12-07", DayEnd: now.Add(14 * time.Hour)}); err != nil || res.Outcome != otp.OK {
		t.Fatalf("issue: %v, %v", res, err)
	}
	then := func(key string) otp.Then { return otp.Then{Key: key, Value: []byte("v"), TTL: time.Hour} }
	if res, err := s.VerifyThen(ctx, phone, []byte("bad"), now, then("sess:a")); err != nil || res.Outcome != otp.WrongCode {
		t.Fatalf("wrong code: %v, %v", res, err)
	}
	if res, err := s.VerifyThen(ctx, phone, []byte("h1"), now, then("sess:b")); err != nil || res.Outcome != otp.OK {
		t.Fatalf("right code: %v, %v", res, err)
	}
	if res, err := s.VerifyThen(ctx, phone, []byte("h1"), now, then("sess:c")); err != nil || res.Outcome != otp.NoCode {
		t.Fatalf("reused code: %v, %v", res, err)
	}
	for key, want := range map[string]bool{"sess:a": false, "sess:b": true, "sess:c": false} {
		v, err := sessions.Get(ctx, key)
		if want && (err != nil || string(v) != "v") {
			t.Errorf("%s: %q, %v; want set", key, v, err)
		}
		if !want && !errors.Is(err, kv.ErrNotFound) {
			t.Errorf("%s: %q, %v; want not set", key, v, err)
		}
	}
	clk.Advance(time.Hour)
	if _, err := sessions.Get(ctx, "sess:b"); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("sess:b after its TTL: %v, want ErrNotFound", err)
	}
}

// State that no longer matters is swept by later writes.
func TestSQLiteSweeps(t *testing.T) {
	ctx := context.Background()
	db := sqliteDB(t, filepath.Join(t.TempDir(), "otp.db"))
	s, _ := newSQLite(t, db, clock.Real{}, otp.DefaultPolicy())
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	dayEnd := now.Add(14 * time.Hour)
	for i := range 100 {
		phone := fmt.Sprintf("+86138%08d", i)
		if res, err := s.Issue(ctx, otp.IssueRequest{Phone: phone, IP: fmt.Sprintf("203.0.113.%d", i), CodeHash: []byte{1},
			Now: now, DayKey: "2026-12-07", DayEnd: dayEnd}); err != nil || res.Outcome != otp.OK {
			t.Fatalf("issue: %v, %v", res, err)
		}
	}
	later := dayEnd.Add(2 * time.Minute)
	for i := range 300 {
		phone := fmt.Sprintf("+86139%08d", i)
		if res, err := s.Issue(ctx, otp.IssueRequest{Phone: phone, CodeHash: []byte{1}, Now: later,
			DayKey: "2026-12-08", DayEnd: later.Add(24 * time.Hour)}); err != nil || res.Outcome != otp.OK {
			t.Fatalf("issue: %v, %v", res, err)
		}
	}
	var phones, ips int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM otp_phones WHERE phone LIKE '+86138%'),
		(SELECT COUNT(*) FROM otp_ips)`).Scan(&phones, &ips); err != nil {
		t.Fatal(err)
	}
	if phones != 0 || ips != 0 {
		t.Fatalf("%d phones and %d IP windows of the day before left, want 0", phones, ips)
	}
}

// BenchmarkSQLiteVerify is BenchmarkVerify's cycle on the SQLite store.
func BenchmarkSQLiteVerify(b *testing.B) {
	s, _ := newSQLite(b, sqliteDB(b, filepath.Join(b.TempDir(), "otp.db")), clock.Real{}, otp.DefaultPolicy())
	otptest.Bench(b, s)
}
