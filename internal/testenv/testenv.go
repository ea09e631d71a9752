// Package testenv tells tests where the real MariaDB and Redis are.
//
// Tests that need them call RedisURL or MySQLURL. When the variable is unset
// the test is skipped locally, but fails when CI=true: in CI a missing
// service is a failure, not a skip.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // MySQL driver for MySQLDatabase
	"github.com/redis/go-redis/v9"
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

// RedisNamespace returns a fresh SWIPER_REDIS_NAMESPACE for one test on the
// Redis of SWIPER_TEST_REDIS_URL and removes, when the test ends, every key
// the test's Swiper wrote there: those under the namespace's prefix and
// those of its asynq queue (named namespace + "-swiper"). Tests share that
// Redis, so nothing else is touched (no FLUSHDB).
func RedisNamespace(t testing.TB) string {
	t.Helper()
	url := RedisURL(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	ns := "t" + hex.EncodeToString(b)
	t.Cleanup(func() { DeleteRedisKeys(t, url, ns+":*", "asynq:{"+ns+"-swiper*"); forgetQueues(t, url, ns+"-swiper*") })
	return ns
}

// DeleteRedisKeys deletes the keys matching patterns on the Redis at url.
func DeleteRedisKeys(t testing.TB, url string, patterns ...string) {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Errorf("testenv: %v", err)
		return
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range patterns {
		iter := c.Scan(ctx, 0, p, 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("testenv: scan %s: %v", p, err)
			continue
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("testenv: del %s: %v", p, err)
				break
			}
			keys = keys[n:]
		}
	}
}

// forgetQueues removes the asynq queue names matching pattern from asynq's
// set of queues.
func forgetQueues(t testing.TB, url, pattern string) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	names, _, err := c.SScan(ctx, "asynq:queues", 0, pattern, 10000).Result()
	if err == nil && len(names) > 0 {
		err = c.SRem(ctx, "asynq:queues", names).Err()
	}
	if err != nil {
		t.Errorf("testenv: forget queues %s: %v", pattern, err)
	}
}
