package deckstate_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/deckstate"
	"github.com/swiper-social/swiper/internal/adapters/deckstate/deckstatetest"
	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
	"github.com/swiper-social/swiper/internal/testkit/testenv/rediscluster"
)

func TestMemoryContract(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	deckstatetest.Run(t, func(t *testing.T, ttl time.Duration) deckstate.Store {
		return deckstate.NewMemory(clk, ttl)
	}, func(ttl time.Duration) { clk.Advance(ttl + time.Millisecond) })
}

// The contract on the Redis of SWIPER_TEST_REDIS_URL: one server, or a
// Redis Cluster with make test-cluster.
func TestRedisContract(t *testing.T) {
	testenv.RedisURL(t)
	deckstatetest.Run(t, func(t *testing.T, ttl time.Duration) deckstate.Store {
		c, prefix := testenv.RedisClient(t)
		return deckstate.NewRedis(c, prefix, ttl)
	}, func(ttl time.Duration) { time.Sleep(ttl + 50*time.Millisecond) })
}

// Every key of a user's state is in the slot of the hash tag {u:ID}, and
// what every probe reads is spread over many slots: no key is touched by
// every deck (which would make its Redis Cluster node the hotspot).
func TestRedisKeyLayout(t *testing.T) {
	c, prefix := testenv.RedisClient(t)
	s := deckstate.NewRedis(c, prefix, time.Hour)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	const viewers = 64
	for v := int64(1); v <= viewers; v++ {
		p, err := s.Probe(ctx, v, []int64{v + 1}, 5)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Fill(ctx, v, p.Token, []int64{v + 1}, []deckstate.Superliker{{ID: v + 2, At: t0}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Swiped(ctx, []deckstate.Swipe{{Swiper: 1, Swiped: 2, Superlike: true, At: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Changed(ctx); err != nil {
		t.Fatal(err)
	}
	slots := map[int]bool{}
	for _, k := range testenv.RedisKeys(t, c, prefix+"*") {
		rest := strings.TrimPrefix(k, prefix)
		switch {
		case rest == "dk:v" || rest == "dk:e":
		case strings.HasPrefix(rest, "dk:{dkc"):
			slots[kv.Slot(k)] = true
		case strings.HasPrefix(rest, "dk:{u:"):
			id := rest[len("dk:{u:"):strings.IndexByte(rest, '}')]
			if kv.Slot(k) != kv.Slot("{u:"+id+"}") {
				t.Errorf("key %s is not in the slot of {u:%s}", k, id)
			}
		default:
			t.Errorf("unexpected key %s", k)
		}
	}
	if len(slots) < 8 {
		t.Fatalf("the copies of the version live in %d slots, want them spread", len(slots))
	}
	// Each viewer's probe sees the change.
	for v := int64(1); v <= viewers; v++ {
		p, err := s.Probe(ctx, v, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != 1 || !p.Hit {
			t.Fatalf("viewer %d: version %d, hit %v; want 1, true", v, p.Version, p.Hit)
		}
	}
}

// After a node forgot its scripts (a restart, SCRIPT FLUSH) the pipelined
// script calls load them again: probes, fills and reports keep working.
func TestRedisScriptsReloaded(t *testing.T) {
	c := rediscluster.Start(t, rediscluster.Options{Masters: 3, NodeTimeout: 5 * time.Second})
	ctx := context.Background()
	rc, err := kv.OpenRedis(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	s := deckstate.NewRedis(rc, "p:", time.Hour)
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	flush := func() {
		t.Helper()
		for _, a := range c.Addrs {
			if err := c.Node(t, a).ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	flush()
	p, err := s.Probe(ctx, 7, nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	flush()
	if err := s.Fill(ctx, 7, p.Token, []int64{1}, nil); err != nil {
		t.Fatal(err)
	}
	flush()
	if err := s.Swiped(ctx, []deckstate.Swipe{{Swiper: 7, Swiped: 2, At: t0}, {Swiper: 3, Swiped: 7, Superlike: true, At: t0}}); err != nil {
		t.Fatal(err)
	}
	flush()
	if err := s.Changed(ctx); err != nil {
		t.Fatal(err)
	}
	flush()
	p, err = s.Probe(ctx, 7, []int64{1, 2, 3}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Hit || !p.Swiped[1] || !p.Swiped[2] || p.Swiped[3] || !slices.Equal(p.Superlikers, []int64{3}) || p.Version != 1 {
		t.Fatalf("probe after flushes: %+v", p)
	}
}
