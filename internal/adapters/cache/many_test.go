package cache

import (
	"context"
	"slices"
	"testing"
)

func TestGetMany(t *testing.T) { onStores(t, testGetMany) }

func testGetMany(t *testing.T, c *Cache[string], _ *Metrics) {
	ctx := context.Background()
	db := map[int64]string{1: "a", 2: "b", 3: "c"}
	var asked [][]int64
	load := func(_ context.Context, ids []int64) (map[int64]string, error) {
		asked = append(asked, slices.Clone(ids))
		out := map[int64]string{}
		for _, id := range ids {
			if v, ok := db[id]; ok {
				out[id] = v
			}
		}
		return out, nil
	}
	if v, _ := c.Get(ctx, 2, func(context.Context) (string, error) { return "b", nil }); v != "b" {
		t.Fatal(v)
	}
	got, err := c.GetMany(ctx, []int64{1, 2, 3, 4}, load)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1] != "a" || got[2] != "b" || got[3] != "c" {
		t.Fatalf("GetMany = %v", got)
	}
	if len(asked) != 1 || !slices.Equal(asked[0], []int64{1, 3, 4}) {
		t.Fatalf("loaded %v, want one load of [1 3 4] (2 was cached)", asked)
	}
	// Everything found is cached now; an invalidated id is read again.
	db[3] = "c2"
	if err := c.Invalidate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	asked = nil
	got, _ = c.GetMany(ctx, []int64{1, 2, 3}, load)
	if got[3] != "c2" || len(asked) != 1 || !slices.Equal(asked[0], []int64{3}) {
		t.Fatalf("after invalidate: %v, loads %v", got, asked)
	}
}

// TestGetManyStaleFill: a fill that raced an invalidation is never served.
func TestGetManyStaleFill(t *testing.T) { onStores(t, testGetManyStaleFill) }

func testGetManyStaleFill(t *testing.T, c *Cache[string], _ *Metrics) {
	ctx := context.Background()
	db := "old"
	_, err := c.GetMany(ctx, []int64{5}, func(ctx context.Context, ids []int64) (map[int64]string, error) {
		v := db
		db = "new" // the writer commits and invalidates while the reader loads
		if err := c.Invalidate(ctx, 5); err != nil {
			t.Fatal(err)
		}
		return map[int64]string{5: v}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := c.GetMany(ctx, []int64{5}, func(context.Context, []int64) (map[int64]string, error) {
		return map[int64]string{5: db}, nil
	})
	if got[5] != "new" {
		t.Fatalf("served %q after the invalidation", got[5])
	}
}
