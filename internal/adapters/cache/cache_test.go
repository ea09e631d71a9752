package cache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

func newCache(t *testing.T) (*Cache[string], *Metrics) {
	t.Helper()
	return newCacheOn(t, kv.NewMemory(clock.NewFake(time.Now())))
}

func newCacheOn(t *testing.T, store kv.Store) (*Cache[string], *Metrics) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	return New[string](store, m, "t", time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil))), m
}

// onStores runs test on a cache over the in-process store, and over the
// Redis of SWIPER_TEST_REDIS_URL (a Redis Cluster with make test-cluster).
func onStores(t *testing.T, test func(t *testing.T, c *Cache[string], m *Metrics)) {
	t.Run("Memory", func(t *testing.T) {
		c, m := newCache(t)
		test(t, c, m)
	})
	t.Run("Redis", func(t *testing.T) {
		client, prefix := testenv.RedisClient(t)
		c, m := newCacheOn(t, kv.NewRedis(client, prefix))
		test(t, c, m)
	})
}

func TestHitMissInvalidate(t *testing.T) { onStores(t, testHitMissInvalidate) }

func testHitMissInvalidate(t *testing.T, c *Cache[string], m *Metrics) {
	ctx := context.Background()
	db := "v1"
	loads := 0
	load := func(context.Context) (string, error) { loads++; return db, nil }
	for i := 0; i < 3; i++ {
		if v, err := c.Get(ctx, 7, load); err != nil || v != "v1" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if loads != 1 {
		t.Fatalf("loads = %d, want 1", loads)
	}
	db = "v2"
	if err := c.Invalidate(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Get(ctx, 7, load); v != "v2" {
		t.Fatalf("after invalidate Get = %q, want v2", v)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("t", "hit")); got != 2 {
		t.Errorf("hits = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("t", "miss")); got != 2 {
		t.Errorf("misses = %v, want 2", got)
	}
}

// TestStaleFillRace: a reader loads the old row, a writer commits and
// invalidates, then the reader fills the cache with the old row. The next
// read must not serve it.
func TestStaleFillRace(t *testing.T) { onStores(t, testStaleFillRace) }

func testStaleFillRace(t *testing.T, c *Cache[string], _ *Metrics) {
	ctx := context.Background()
	db := "old"
	_, err := c.Get(ctx, 1, func(context.Context) (string, error) {
		v := db // the reader has read the old value...
		db = "new"
		if err := c.Invalidate(ctx, 1); err != nil { // ...the writer commits and invalidates...
			t.Fatal(err)
		}
		return v, nil // ...and the reader fills the cache with the old value.
	})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := c.Get(ctx, 1, func(context.Context) (string, error) { return db, nil })
	if v != "new" {
		t.Fatalf("served %q after a racing write, want new", v)
	}
}

func TestLoadErrorNotCached(t *testing.T) { onStores(t, testLoadErrorNotCached) }

func testLoadErrorNotCached(t *testing.T, c *Cache[string], _ *Metrics) {
	ctx := context.Background()
	boom := errors.New("boom")
	if _, err := c.Get(ctx, 1, func(context.Context) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if v, _ := c.Get(ctx, 1, func(context.Context) (string, error) { return "ok", nil }); v != "ok" {
		t.Fatalf("v = %q", v)
	}
}
