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
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // MySQL driver for MySQLDatabase
	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
)

// RedisURL returns SWIPER_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15,
// or redis+cluster://127.0.0.1:7000,127.0.0.1:7001 for a Redis Cluster:
// make test-cluster).
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

// RedisClient connects to the Redis of SWIPER_TEST_REDIS_URL (one server,
// or a Redis Cluster with redis+cluster://) and returns it with a fresh key
// prefix ("t<random>:"). When the test ends the keys under the prefix are
// deleted and the client is closed.
func RedisClient(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	url := RedisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := kv.OpenRedis(ctx, url)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	prefix := RandomPrefix()
	t.Cleanup(func() {
		deleteKeys(t, c, prefix+"*")
		_ = c.Close()
	})
	return c, prefix
}

// DeleteRedisKeys deletes the keys matching patterns on the Redis at url
// (every master of a Redis Cluster).
func DeleteRedisKeys(t testing.TB, url string, patterns ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := kv.OpenRedis(ctx, url)
	if err != nil {
		t.Errorf("testenv: %v", err)
		return
	}
	defer c.Close()
	deleteKeys(t, c, patterns...)
}

// deleteKeys deletes the keys matching patterns: SCAN on a single server,
// on each master of a cluster (one DEL per key there: keys of several
// slots cannot share a command).
func deleteKeys(t testing.TB, c redis.UniversalClient, patterns ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	node := func(ctx context.Context, n redis.Cmdable, perKey bool) error {
		for _, p := range patterns {
			iter := n.Scan(ctx, 0, p, 1000).Iterator()
			var keys []string
			for iter.Next(ctx) {
				keys = append(keys, iter.Val())
			}
			if err := iter.Err(); err != nil {
				return fmt.Errorf("scan %s: %w", p, err)
			}
			for len(keys) > 0 {
				k := min(len(keys), 500)
				var err error
				if perKey {
					_, err = n.Pipelined(ctx, func(pl redis.Pipeliner) error {
						for _, key := range keys[:k] {
							pl.Del(ctx, key)
						}
						return nil
					})
				} else {
					err = n.Del(ctx, keys[:k]...).Err()
				}
				if err != nil {
					return fmt.Errorf("del %s: %w", p, err)
				}
				keys = keys[k:]
			}
		}
		return nil
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return node(ctx, m, true) })
	} else {
		err = node(ctx, c, false)
	}
	if err != nil {
		t.Errorf("testenv: %v", err)
	}
}

// RedisKeys returns the keys matching pattern on c: SCAN on a single
// server, on every master of a Redis Cluster.
func RedisKeys(t testing.TB, c redis.UniversalClient, pattern string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, n redis.Cmdable) error {
		iter := n.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return scan(ctx, m) })
	} else {
		err = scan(ctx, c)
	}
	if err != nil {
		t.Fatalf("testenv: scan %s: %v", pattern, err)
	}
	slices.Sort(keys)
	return keys
}

// forgetQueues removes the asynq queue names matching pattern from asynq's
// set of queues.
func forgetQueues(t testing.TB, url, pattern string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := kv.OpenRedis(ctx, url)
	if err != nil {
		return
	}
	defer c.Close()
	names, _, err := c.SScan(ctx, "asynq:queues", 0, pattern, 10000).Result()
	if err == nil && len(names) > 0 {
		err = c.SRem(ctx, "asynq:queues", names).Err()
	}
	if err != nil {
		t.Errorf("testenv: forget queues %s: %v", pattern, err)
	}
}

// FreePorts returns n distinct loopback ports that were free a moment ago,
// for the private servers a test starts (Galera nodes, a Redis Cluster).
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
