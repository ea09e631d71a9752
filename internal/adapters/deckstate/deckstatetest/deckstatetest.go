// Package deckstatetest is the contract test every deckstate.Store passes.
package deckstatetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/deckstate"
)

// NewStore builds a fresh, empty store whose fills live ttl.
type NewStore func(t *testing.T, ttl time.Duration) deckstate.Store

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// Run runs the contract against stores built by newStore. expire makes a
// store's fills (of the given ttl) run out: it advances a fake clock, or
// waits for a real one.
func Run(t *testing.T, newStore NewStore, expire func(ttl time.Duration)) {
	c := contract{newStore: newStore, expire: expire}
	t.Run("MissThenFill", c.missThenFill)
	t.Run("EmptyFillIsAHit", c.emptyFillIsAHit)
	t.Run("SwipesUpdateFilledStates", c.swipesUpdateFilledStates)
	t.Run("FillAfterReportIsDropped", c.fillAfterReportIsDropped)
	t.Run("RewindDropsTheState", c.rewindDropsTheState)
	t.Run("VersionCountsChanges", c.versionCountsChanges)
	t.Run("ResetDropsEverything", c.resetDropsEverything)
	t.Run("FillsExpire", c.fillsExpire)
	t.Run("BigHistory", c.bigHistory)
	t.Run("ConcurrentSwipesAndFills", c.concurrentSwipesAndFills)
}

// contract is what Run was given; its methods are the cases of the contract.
type contract struct {
	newStore NewStore
	expire   func(ttl time.Duration)
}

// probe probes s and fails t on an error.
func probe(ctx context.Context, t *testing.T, s deckstate.Store, viewer int64, ids []int64, limit int) deckstate.Probe {
	t.Helper()
	p, err := s.Probe(ctx, viewer, ids, limit)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	return p
}

// filled fills the state of viewer, which must miss, with swiped and sl.
func filled(ctx context.Context, t *testing.T, s deckstate.Store, viewer int64, swiped []int64, sl []deckstate.Superliker) {
	t.Helper()
	p := probe(ctx, t, s, viewer, nil, 0)
	if p.Hit {
		t.Fatalf("viewer %d: hit before the fill", viewer)
	}
	if err := s.Fill(ctx, viewer, p.Token, swiped, sl); err != nil {
		t.Fatalf("fill: %v", err)
	}
}

// missThenFill checks that a probe misses until the viewer's state is
// filled; then it answers which of the ids the viewer swiped, and the
// superlikers to show.
func (c contract) missThenFill(t *testing.T) {
	ctx := context.Background()
	s := c.newStore(t, time.Hour)
	if p := probe(ctx, t, s, 7, []int64{1, 2}, 5); p.Hit || len(p.Swiped) != 0 || p.Superlikers != nil {
		t.Fatalf("empty store: %+v", p)
	}
	filled(ctx, t, s, 7, []int64{1, 3, 5}, []deckstate.Superliker{{ID: 10, At: t0}, {ID: 11, At: t0.Add(time.Second)}, {ID: 3, At: t0.Add(2 * time.Second)}})
	p := probe(ctx, t, s, 7, []int64{1, 2, 3, 4}, 5)
	if !p.Hit || !p.Swiped[1] || !p.Swiped[3] || p.Swiped[2] || p.Swiped[4] || len(p.Swiped) != 2 {
		t.Fatalf("probe: %+v", p)
	}
	// 3 superliked 7 but 7 swiped 3: not a superliker to show.
	if !slices.Equal(p.Superlikers, []int64{11, 10}) {
		t.Fatalf("superlikers %v, want [11 10] (newest first, swiped left out)", p.Superlikers)
	}
	if p := probe(ctx, t, s, 7, nil, 1); !slices.Equal(p.Superlikers, []int64{11}) {
		t.Fatalf("limit 1: %v", p.Superlikers)
	}
	if p := probe(ctx, t, s, 7, nil, 0); p.Superlikers != nil {
		t.Fatalf("limit 0: %v", p.Superlikers)
	}
	if p := probe(ctx, t, s, 8, []int64{1}, 5); p.Hit {
		t.Fatal("another viewer hit")
	}
}

// emptyFillIsAHit checks that a fill with no swipes and no superlikers is
// still a hit.
func (c contract) emptyFillIsAHit(t *testing.T) {
	ctx := context.Background()
	s := c.newStore(t, time.Hour)
	filled(ctx, t, s, 7, nil, nil)
	if p := probe(ctx, t, s, 7, []int64{1}, 5); !p.Hit || len(p.Swiped) != 0 || len(p.Superlikers) != 0 {
		t.Fatalf("probe: %+v", p)
	}
}

// swipesUpdateFilledStates checks that reported swipes update the filled
// states of both users and leave unfilled ones unfilled.
func (c contract) swipesUpdateFilledStates(t *testing.T) {
	ctx := context.Background()
	s := c.newStore(t, time.Hour)
	filled(ctx, t, s, 7, nil, []deckstate.Superliker{{ID: 20, At: t0}})
	filled(ctx, t, s, 9, nil, nil)
	err := s.Swiped(ctx, []deckstate.Swipe{
		{Swiper: 7, Swiped: 20, At: t0},                 // 7 answers its superliker
		{Swiper: 7, Swiped: 9, Superlike: true, At: t0}, // 9 gains a superliker
		{Swiper: 30, Swiped: 9, Superlike: true, At: t0.Add(time.Minute)},
		{Swiper: 31, Swiped: 8, Superlike: true, At: t0}, // 8 is not filled: nothing cached
	})
	if err != nil {
		t.Fatal(err)
	}
	p := probe(ctx, t, s, 7, []int64{20, 9, 30}, 5)
	if !p.Hit || !p.Swiped[20] || !p.Swiped[9] || p.Swiped[30] || len(p.Superlikers) != 0 {
		t.Fatalf("viewer 7: %+v", p)
	}
	if p := probe(ctx, t, s, 9, []int64{7}, 5); !p.Hit || p.Swiped[7] || !slices.Equal(p.Superlikers, []int64{30, 7}) {
		t.Fatalf("viewer 9: %+v", p)
	}
	if p := probe(ctx, t, s, 8, nil, 5); p.Hit {
		t.Fatal("a report filled an unfilled state")
	}
}

// fillAfterReportIsDropped checks that a fill whose probe came before a
// report about the viewer (a swipe by or a superlike to them) does not
// stick.
func (c contract) fillAfterReportIsDropped(t *testing.T) {
	ctx := context.Background()
	s := c.newStore(t, time.Hour)
	p := probe(ctx, t, s, 7, nil, 0) // misses, then reads the database...
	if err := s.Swiped(ctx, []deckstate.Swipe{{Swiper: 7, Swiped: 5, At: t0}}); err != nil {
		t.Fatal(err)
	}
	// ...which may not have held the swipe yet: the fill must not stick.
	if err := s.Fill(ctx, 7, p.Token, nil, nil); err != nil {
		t.Fatal(err)
	}
	if p := probe(ctx, t, s, 7, []int64{5}, 0); p.Hit {
		t.Fatalf("stale fill served: %+v", p)
	}
	// A superlike received counts as a report about the swiped user.
	p = probe(ctx, t, s, 9, nil, 5)
	if err := s.Swiped(ctx, []deckstate.Swipe{{Swiper: 4, Swiped: 9, Superlike: true, At: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Fill(ctx, 9, p.Token, nil, nil); err != nil {
		t.Fatal(err)
	}
	if p := probe(ctx, t, s, 9, nil, 5); p.Hit {
		t.Fatalf("stale fill served for the superliked user: %+v", p)
	}
	filled(ctx, t, s, 9, nil, []deckstate.Superliker{{ID: 4, At: t0}})
	if p := probe(ctx, t, s, 9, nil, 5); !p.Hit || !slices.Equal(p.Superlikers, []int64{4}) {
		t.Fatalf("fresh fill: %+v", p)
	}
}

// rewindDropsTheState checks that a rewind drops the rewinder's state and
// takes the rewound superlike out of the swiped user's.
func (c contract) rewindDropsTheState(t *testing.T) {
	ctx := context.Background()
	s := c.newStore(t, time.Hour)
	filled(ctx, t, s, 7, []int64{5}, []deckstate.Superliker{{ID: 5, At: t0}})
	filled(ctx, t, s, 5, nil, []deckstate.Superliker{{ID: 7, At: t0}})
	if err := s.Rewound(ctx, deckstate.Swipe{Swiper: 7, Swiped: 5, Superlike: true, At: t0}); err != nil {
		t.Fatal(err)
	}
	if p := probe(ctx, t, s, 7, []int64{5}, 5); p.Hit {
		t.Fatalf("rewinder's state kept: %+v", p)
	}
	if p := probe(ctx, t, s, 5, nil, 5); !p.Hit || len(p.Superlikers) != 0 {
		t.Fatalf("rewound superlike still shown: %+v", p)
	}
}

// versionCountsChanges checks that each Changed raises the version by one.
func (c contract) versionCountsChanges(t *testing.T) {
	ctx := context.Background()
	s := c.newStore(t, time.Hour)
	v0 := probe(ctx, t, s, 1, nil, 0).Version
	for range 3 {
		if err := s.Changed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v := probe(ctx, t, s, 1, nil, 0).Version; v != v0+3 {
		t.Fatalf("version %d, want %d", v, v0+3)
	}
}

// resetDropsEverything checks that a reset drops every state, and a fill
// read before it does not stick.
func (c contract) resetDropsEverything(t *testing.T) {
	ctx := context.Background()
	s := c.newStore(t, time.Hour)
	filled(ctx, t, s, 7, []int64{1}, nil)
	p := probe(ctx, t, s, 8, nil, 0)
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if p := probe(ctx, t, s, 7, []int64{1}, 0); p.Hit {
		t.Fatal("state survived a reset")
	}
	if err := s.Fill(ctx, 8, p.Token, nil, nil); err != nil {
		t.Fatal(err)
	}
	if p := probe(ctx, t, s, 8, nil, 0); p.Hit {
		t.Fatal("a fill read before the reset stuck")
	}
}

// fillsExpire checks that a fill is gone once its ttl has passed.
func (c contract) fillsExpire(t *testing.T) {
	ctx := context.Background()
	ttl := 200 * time.Millisecond
	s := c.newStore(t, ttl)
	filled(ctx, t, s, 7, []int64{1}, nil)
	if !probe(ctx, t, s, 7, nil, 0).Hit {
		t.Fatal("miss right after the fill")
	}
	c.expire(ttl)
	if probe(ctx, t, s, 7, nil, 0).Hit {
		t.Fatal("hit after the ttl")
	}
}

// bigHistory checks that a state of many swipes and superlikers answers like
// a small one.
func (c contract) bigHistory(t *testing.T) {
	ctx := context.Background()
	s := c.newStore(t, time.Hour)
	swiped := make([]int64, 10_000)
	for i := range swiped {
		swiped[i] = int64(i + 1)
	}
	sl := make([]deckstate.Superliker, 3000)
	for i := range sl {
		sl[i] = deckstate.Superliker{ID: int64(20_001 + i), At: t0.Add(time.Duration(i) * time.Second)}
	}
	filled(ctx, t, s, 7, swiped, sl)
	p := probe(ctx, t, s, 7, []int64{1, 10_000, 10_001}, 3)
	if !p.Hit || !p.Swiped[1] || !p.Swiped[10_000] || p.Swiped[10_001] {
		t.Fatalf("probe: hit %v swiped %v", p.Hit, p.Swiped)
	}
	if !slices.Equal(p.Superlikers, []int64{23_000, 22_999, 22_998}) {
		t.Fatalf("superlikers %v", p.Superlikers)
	}
}

// concurrentSwipesAndFills checks that fills racing swipes never leave a hit
// that misses a committed swipe.
func (c contract) concurrentSwipesAndFills(t *testing.T) {
	ctx := context.Background()
	// Readers fill from a "database" while writers swipe: once the
	// writers are done, a hit never misses a swipe.
	s := c.newStore(t, time.Hour)
	var mu sync.Mutex
	db := map[int64]bool{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				id := int64(w*1000 + i + 1)
				mu.Lock()
				db[id] = true // committed...
				mu.Unlock()
				if err := s.Swiped(ctx, []deckstate.Swipe{{Swiper: 7, Swiped: id, At: t0}}); err != nil { // ...then reported
					t.Error(err)
					return
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 300 {
				p, err := s.Probe(ctx, 7, nil, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if p.Hit {
					continue
				}
				mu.Lock()
				ids := make([]int64, 0, len(db))
				for id := range db {
					ids = append(ids, id)
				}
				mu.Unlock()
				if err := s.Fill(ctx, 7, p.Token, ids, nil); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	all := make([]int64, 0, len(db))
	for id := range db {
		all = append(all, id)
	}
	if p := probe(ctx, t, s, 7, all, 0); p.Hit && len(p.Swiped) != len(all) {
		t.Fatalf("cached state misses %d of %d swipes", len(all)-len(p.Swiped), len(all))
	}
}
