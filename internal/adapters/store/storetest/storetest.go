// Package storetest opens the database a store test runs on: a SQLite file
// in the test's temporary folder on the embedded path, a fresh MariaDB
// database (dropped at the end) on the production path. A test's own SQL
// (setting up rows, counting them) goes through DB, a handle of its own on
// the same database: the store exposes no handle to its pools.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/go-sql-driver/mysql"       // the MySQL driver of DBAt
	_ "github.com/ncruces/go-sqlite3/driver" // the SQLite driver of DBAt
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// opened remembers where the stores of Open live, for DB (test helper
// state: entries go when their test ends).
var opened sync.Map // *store.Store → [2]string{dialect, dsn}

// Open opens a migrated, empty database of the suite's path, closed when
// the test ends.
func Open(t testing.TB) *store.Store {
	t.Helper()
	ctx := context.Background()
	dialect, dsn := Location(t)
	st, err := store.Open(ctx, dialect, dsn)
	if err != nil {
		t.Fatal(err)
	}
	opened.Store(st, [2]string{dialect, dsn})
	t.Cleanup(func() { opened.Delete(st); st.Close() })
	if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(fmt.Errorf("migrate: %w", err))
	}
	return st
}

// DB returns a handle of the test's own on the database of st (opened by
// Open), closed when the test ends.
func DB(t testing.TB, st *store.Store) *bun.DB {
	t.Helper()
	v, ok := opened.Load(st)
	if !ok {
		t.Fatal("storetest: DB needs a store opened by storetest.Open")
	}
	where := v.([2]string)
	return DBAt(t, where[0], where[1])
}

// DBAt returns a handle of the test's own on the database dialect and dsn
// name (config.Config.Database), closed when the test ends.
func DBAt(t testing.TB, dialect, dsn string) *bun.DB {
	t.Helper()
	var db *bun.DB
	switch dialect {
	case config.SQLite:
		sqldb, err := sql.Open("sqlite3", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
		if err != nil {
			t.Fatal(err)
		}
		db = bun.NewDB(sqldb, sqlitedialect.New())
	case config.MySQL:
		sqldb, err := sql.Open("mysql", dsn)
		if err != nil {
			t.Fatal(err)
		}
		db = bun.NewDB(sqldb, mysqldialect.New())
	default:
		t.Fatalf("storetest: unknown dialect %q", dialect)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Location returns the dialect and DSN of a fresh, empty database of the
// suite's path (a SQLite file in t's temp dir, or a MariaDB database
// dropped when t ends), not yet opened nor migrated.
func Location(t testing.TB) (dialect, dsn string) {
	t.Helper()
	if !testenv.Production() {
		return config.SQLite, filepath.Join(t.TempDir(), "s.db")
	}
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
	return dialect, dsn
}
