package kv_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/kv/kvtest"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// openSQLite creates and migrates the SQLite database at path as the app
// does (the store's migrations make the kv table) and returns a pool of
// OpenSQLiteDB on it; everything is closed when t ends.
func openSQLite(t testing.TB, path string) *sql.DB {
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

func newSQLite(t testing.TB, db *sql.DB, clk clock.Clock) *kv.SQLite {
	t.Helper()
	s, err := kv.NewSQLite(context.Background(), db, clk)
	if err != nil {
		t.Fatalf("NewSQLite: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestSQLiteContract(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) (kv.Store, *clock.Fake) {
		clk := clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
		st := openSQLite(t, filepath.Join(t.TempDir(), "kv.db"))
		return newSQLite(t, st, clk), clk
	})
}

// What was stored survives closing and reopening the database file (a
// restart), expiry included.
func TestSQLiteSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kv.db")
	clk := clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	db := openSQLite(t, path)
	s := newSQLite(t, db, clk)
	if err := s.Set(ctx, "sess", []byte("alice"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Set(ctx, "short", []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr(ctx, "ctr", time.Hour); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	_ = db.Close()

	clk.Advance(2 * time.Minute)
	again := newSQLite(t, openSQLite(t, path), clk)
	if v, err := again.Get(ctx, "sess"); err != nil || string(v) != "alice" {
		t.Fatalf("after reopen: Get(sess) = %q, %v; want alice", v, err)
	}
	if _, err := again.Get(ctx, "short"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("after reopen: Get(short) err %v, want ErrNotFound (expired)", err)
	}
	if n, err := again.Incr(ctx, "ctr", time.Hour); err != nil || n != 2 {
		t.Fatalf("after reopen: Incr = %d, %v; want 2", n, err)
	}
}

// Expired rows do not stay in the table: writes sweep them.
func TestSQLiteSweepsExpiredRows(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	st := openSQLite(t, filepath.Join(t.TempDir(), "kv.db"))
	s := newSQLite(t, st, clk)
	for i := range 200 {
		if err := s.Set(ctx, "old:"+string(rune('a'+i%26))+string(rune('a'+i/26)), []byte("v"), time.Second); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	for i := range 2000 {
		if _, err := s.Incr(ctx, "live", 0); err != nil {
			t.Fatalf("incr #%d: %v", i, err)
		}
	}
	var n int
	if err := st.QueryRowContext(ctx, `SELECT COUNT(*) FROM kv WHERE k LIKE 'old:%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d expired rows left after 2000 writes, want 0", n)
	}
}

// SetTx writes within the caller's transaction: a rollback leaves nothing.
func TestSQLiteSetTx(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	st := openSQLite(t, filepath.Join(t.TempDir(), "kv.db"))
	s := newSQLite(t, st, clk)
	for _, commit := range []bool{false, true} {
		tx, err := st.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetTx(ctx, tx, "k", []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		v, err := s.Get(ctx, "k")
		if commit && (err != nil || string(v) != "v") {
			t.Fatalf("after commit: %q, %v", v, err)
		}
		if !commit && !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("after rollback: %q, %v; want ErrNotFound", v, err)
		}
	}
}

// BenchmarkSQLiteGet is the read every authenticated request makes on the
// embedded path (its session); BenchmarkSQLiteSet the write of a login.
func BenchmarkSQLiteGet(b *testing.B) {
	ctx := context.Background()
	s := newSQLite(b, openSQLite(b, filepath.Join(b.TempDir(), "kv.db")), clock.Real{})
	if err := s.Set(ctx, "sess:x", []byte(`{"uid":1,"created":1}`), time.Hour); err != nil {
		b.Fatal(err)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Get(ctx, "sess:x"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSQLiteSet(b *testing.B) {
	ctx := context.Background()
	s := newSQLite(b, openSQLite(b, filepath.Join(b.TempDir(), "kv.db")), clock.Real{})
	v := []byte(`{"uid":1,"created":1}`)
	for b.Loop() {
		if err := s.Set(ctx, "sess:x", v, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSQLiteIncr(b *testing.B) {
	ctx := context.Background()
	s := newSQLite(b, openSQLite(b, filepath.Join(b.TempDir(), "kv.db")), clock.Real{})
	for b.Loop() {
		if _, err := s.Incr(ctx, "rl:x", time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
