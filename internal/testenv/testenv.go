// Package testenv tells tests where the real MariaDB and Redis are.
//
// Tests that need them call RedisURL or MySQLURL. When the variable is unset
// the test is skipped locally, but fails when CI=true: in CI a missing
// service is a failure, not a skip.
package testenv

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql" // MySQL driver for MySQLDatabase
)

// RedisURL returns SWIPER_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15).
func RedisURL(t testing.TB) string {
	t.Helper()
	return need(t, "SWIPER_TEST_REDIS_URL")
}

// MySQLURL returns SWIPER_TEST_MYSQL_URL (e.g. mysql://swiper:swiper@127.0.0.1:3306/swiper_test).
func MySQLURL(t testing.TB) string {
	t.Helper()
	return need(t, "SWIPER_TEST_MYSQL_URL")
}

func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI needs the real service", name)
		}
		t.Skipf("%s not set; skipping test that needs the real service", name)
	}
	return v
}

// Production reports whether the suite runs on the production path
// (SWIPER_TEST_BACKEND=production: MariaDB + Redis + asynq) rather than the
// embedded one (SQLite + in-process).
func Production() bool { return os.Getenv("SWIPER_TEST_BACKEND") == "production" }

// MySQLDatabase creates a fresh database on the server of SWIPER_TEST_MYSQL_URL,
// drops it when the test ends, and returns its mysql:// URL.
func MySQLDatabase(t testing.TB) string {
	t.Helper()
	base := MySQLURL(t)
	at := strings.LastIndex(base, "@")
	slash := strings.Index(base[at:], "/")
	if at < 0 || slash < 0 {
		t.Fatalf("SWIPER_TEST_MYSQL_URL %q must look like mysql://user:pass@host:port/db", base)
	}
	server := base[:at+slash]
	dsn := strings.TrimPrefix(server, "mysql://")
	i := strings.LastIndex(dsn, "@")
	admin := dsn[:i] + "@tcp(" + dsn[i+1:] + ")/?timeout=5s"
	db, err := sql.Open("mysql", admin)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "swiper_t_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		db.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
		db.Close()
	})
	return server + "/" + name
}

// RandomPrefix returns a unique key prefix for Redis keys of one test.
func RandomPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b) + ":"
}
