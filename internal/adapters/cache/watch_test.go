package cache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// A change made around the caches (another process) shows on the next
// read of every cache that follows the Watch, through Get, GetMany and
// GetRead, without waiting for the TTL.
func TestWatchDropsOutsideChanges(t *testing.T) {
	ctx := context.Background()
	m := NewMetrics(prometheus.NewRegistry())
	store := kv.NewMemory(clock.NewFake(time.Now()))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := New[string](store, m, "a", time.Hour, log)
	b := New[string](store, m, "b", time.Hour, log)
	var changed []int64
	var fail error
	w := NewWatch(func(context.Context) ([]int64, error) {
		ids := changed
		changed = nil
		return ids, fail
	}, log)
	a.Follow(w)
	b.Follow(w)

	db := map[int64]string{1: "v1", 2: "v1"}
	one := func(id int64) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { return db[id], nil }
	}
	many := func(_ context.Context, ids []int64) (map[int64]string, error) {
		out := map[int64]string{}
		for _, id := range ids {
			out[id] = db[id]
		}
		return out, nil
	}
	get := func(c *Cache[string], id int64) string {
		t.Helper()
		v, err := c.Get(ctx, id, one(id))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if get(a, 1) != "v1" || get(b, 1) != "v1" {
		t.Fatal("first reads")
	}
	if got, _ := a.GetMany(ctx, []int64{1, 2}, many); got[2] != "v1" {
		t.Fatalf("GetMany %v", got)
	}
	// Written around the caches: without the watch, both would serve v1
	// for an hour.
	db[1], db[2] = "v2", "v2"
	if get(a, 1) != "v1" {
		t.Fatal("reloaded although nothing was reported")
	}
	changed = []int64{1}
	if get(a, 1) != "v2" || get(b, 1) != "v2" {
		t.Fatal("an outside change did not show on the next read of every cache")
	}
	changed = []int64{2}
	vals, err := store.MGet(ctx, a.Keys(2)...) // read before the check, as login does
	if err != nil {
		t.Fatal(err)
	}
	if v, err := a.GetRead(ctx, 2, vals, one(2)); err != nil || v != "v2" {
		t.Fatalf("GetRead with values read before the change: %q %v", v, err)
	}
	// A watch that cannot tell is logged and the read goes on.
	fail = errors.New("database down")
	if get(a, 1) != "v2" {
		t.Fatal("read failed with the watch")
	}
}
