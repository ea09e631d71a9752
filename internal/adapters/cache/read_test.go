package cache

import (
	"context"
	"testing"

	"github.com/swiper-social/swiper/internal/adapters/kv"
)

// GetRead with the values of Keys read by the caller: a hit needs no other
// read, a stale entry is reloaded, and nil values make it read them itself.
func TestGetRead(t *testing.T) { onStores(t, testGetRead) }

func testGetRead(t *testing.T, c *Cache[string], _ *Metrics) {
	ctx := context.Background()
	loads := 0
	load := func(v string) func(context.Context) (string, error) {
		return func(context.Context) (string, error) { loads++; return v, nil }
	}
	if v, err := c.GetRead(ctx, 3, nil, load("v1")); err != nil || v != "v1" || loads != 1 {
		t.Fatalf("GetRead(nil) = %q, %v, loads %d", v, err, loads)
	}
	keys := c.Keys(3)
	if len(keys) != 2 || keys[0] != "c:t:{u:3}" || keys[1] != "cg:t:{u:3}" {
		t.Fatalf("Keys = %v", keys)
	}
	// One hash slot: one MGET on one node of a Redis Cluster.
	if kv.Slot(keys[0]) != kv.Slot(keys[1]) || kv.Slot(keys[0]) != kv.Slot("x:{u:3}") {
		t.Fatalf("Keys %v are not in the slot of the hash tag {u:3}", keys)
	}
	vals, err := c.kv.MGet(ctx, keys...)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := c.GetRead(ctx, 3, vals, load("other")); v != "v1" || loads != 1 {
		t.Fatalf("hit from read values = %q (loads %d), want v1 without a load", v, loads)
	}
	if err := c.Invalidate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	fresh, _ := c.kv.MGet(ctx, keys...)
	if v, _ := c.GetRead(ctx, 3, fresh, load("v2")); v != "v2" || loads != 2 {
		t.Fatalf("after Invalidate = %q (loads %d), want v2 loaded", v, loads)
	}
	if v, _ := c.GetRead(ctx, 3, [][]byte{nil}, load("v3")); v != "v2" || loads != 2 {
		t.Fatalf("GetRead with the wrong number of values = %q (loads %d), want v2 read by itself", v, loads)
	}
}

// Prime caches a value only while the id was never invalidated, and an
// invalidation after it makes the entry stale.
func TestPrime(t *testing.T) { onStores(t, testPrime) }

func testPrime(t *testing.T, c *Cache[string], _ *Metrics) {
	ctx := context.Background()
	never := func(context.Context) (string, error) { t.Fatal("loaded"); return "", nil }
	c.Prime(ctx, 1, "row")
	if v, _ := c.Get(ctx, 1, never); v != "row" {
		t.Fatalf("after Prime: %q", v)
	}
	if err := c.Invalidate(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if v, _ := c.Get(ctx, 1, func(context.Context) (string, error) { return "new", nil }); v != "new" {
		t.Fatalf("after Invalidate: %q", v)
	}
	// Once invalidated, a value read before the call cannot be told from
	// one read before a write: Prime stores nothing.
	c.Prime(ctx, 1, "old")
	if v, _ := c.Get(ctx, 1, never); v != "new" {
		t.Fatalf("Prime after an invalidation replaced the entry: %q", v)
	}
	if err := c.Invalidate(ctx, 2); err != nil {
		t.Fatal(err)
	}
	c.Prime(ctx, 2, "old")
	if v, _ := c.Get(ctx, 2, func(context.Context) (string, error) { return "db", nil }); v != "db" {
		t.Fatalf("Prime of an invalidated id was served: %q", v)
	}
}
