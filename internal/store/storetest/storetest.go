// Package storetest opens the database a store test runs on: a SQLite file
// in the test's temporary folder on the embedded path, a fresh MariaDB
// database (dropped at the end) on the production path.
package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/swiper-social/swiper/internal/config"
	"github.com/swiper-social/swiper/internal/store"
	"github.com/swiper-social/swiper/internal/testenv"
)

// Open opens a migrated, empty database of the suite's path, closed when
// the test ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	dialect, dsn := config.SQLite, filepath.Join(t.TempDir(), "s.db")
	if testenv.Production() {
		u := testenv.MySQLDatabase(t)
		cfg, err := config.Load(func(k string) string {
			if k == "SWIPER_DATABASE_URL" {
				return u
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		if dialect, dsn, err = cfg.Database(); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(ctx, dialect, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(fmt.Errorf("migrate: %w", err))
	}
	return st
}
