package deck

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/platform/backend"
)

// Activity moves users up a band without re-reading their rows: the
// catch-up finds nothing to re-read (activity does not stamp a row), and
// RefreshActivity reads only ids and stamps; the decks then equal the
// brute-force reference on the new activity.
func TestActivityMovesBandsWithoutRowReads(t *testing.T) {
	f, ix, now := fixture(t, 2000, 11)
	ctx := context.Background()
	var touched []int64
	for id := int64(1); id <= 2000 && len(touched) < 300; id++ {
		if bandOf(f.rows[id].ActiveAt.Unix(), now.Unix()) > 0 {
			f.touch(id, now)
			touched = append(touched, id)
		}
	}
	if len(touched) < 300 {
		t.Fatalf("fixture: only %d users outside band 0", len(touched))
	}
	f.rowsOf = 0
	if err := ix.Fresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ix.RefreshActivity(ctx); err != nil {
		t.Fatal(err)
	}
	if f.rowsOf != 0 {
		t.Fatalf("%d rows re-read for activity", f.rowsOf)
	}
	for _, id := range touched {
		if e := ix.entries[ix.byID[id]]; e.band != 0 || e.active != now.Unix() {
			t.Fatalf("user %d active now: band %d, active %d", id, e.band, e.active)
		}
	}
	for id := int64(1); id <= 150; id++ {
		q := queryFor(f.rows[id], now)
		if got, want := walkAll(ix, q, 20), reference(f.rows, q, now); !slices.Equal(got, want) {
			t.Fatalf("viewer %d after activity: %v want %v", id, got, want)
		}
	}
	// Time moves them down again.
	later := now.Add(2 * 24 * time.Hour)
	ix.now = func() time.Time { return later } // a walk re-bands when a minute passed
	for id := int64(1); id <= 50; id++ {
		q := queryFor(f.rows[id], later)
		if got, want := walkAll(ix, q, 20), reference(f.rows, q, later); !slices.Equal(got, want) {
			t.Fatalf("viewer %d two days later: %v want %v", id, got, want)
		}
	}
}

// Run reads activity at most every ActivityEvery, from a little before its
// last look: a stamp committed late is still read.
func TestActivityReadEveryMinute(t *testing.T) {
	f, ix, now := fixture(t, 200, 12)
	ctx := context.Background()
	var mu sync.Mutex
	cur := now
	ix.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return cur }
	advance := func(d time.Duration) { mu.Lock(); cur = cur.Add(d); mu.Unlock() }
	old := int64(0)
	for id := int64(1); id <= 200; id++ {
		if bandOf(f.rows[id].ActiveAt.Unix(), now.Unix()) == 2 {
			old = id
			break
		}
	}
	if old == 0 {
		t.Fatal("fixture: nobody in band 2")
	}
	advance(ActivityEvery / 2)
	if err := ix.refreshActivity(ctx, ActivityEvery); err != nil || f.acts != 0 {
		t.Fatalf("activity read within a minute of the load: %d reads (%v)", f.acts, err)
	}
	// Stamped (by another replica's clock) just before the index's last look.
	f.touch(old, now.Add(-ActivityOverlap/2))
	advance(ActivityEvery / 2)
	if err := ix.refreshActivity(ctx, ActivityEvery); err != nil || f.acts != 1 {
		t.Fatalf("activity reads a minute after the load: %d (%v)", f.acts, err)
	}
	if e := ix.entries[ix.byID[old]]; e.band != 0 {
		t.Fatalf("user %d active: band %d", old, e.band)
	}
	if err := ix.refreshActivity(ctx, ActivityEvery); err != nil || f.acts != 1 {
		t.Fatalf("activity read again at once: %d reads (%v)", f.acts, err)
	}
}

// gatedSource holds the load (DeckRowsAfter) until open is closed.
type gatedSource struct {
	*fakeSource
	open chan struct{}
}

func (g *gatedSource) DeckRowsAfter(ctx context.Context, after int64, n int) ([]store.DeckRow, int64, error) {
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	return g.fakeSource.DeckRowsAfter(ctx, after, n)
}

// Before the index is loaded, Fresh starts the load and answers
// ErrLoading (a 503) once LoadWait passed, and Ping fails: no deck from an
// index that is not loaded. Once loaded both answer nil.
func TestNotLoadedAnswersLoading(t *testing.T) {
	f := newFake()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	f.put(store.DeckRow{ID: 1, Gender: "male", Birthday: "1990-01-01", City: "北京", ActiveAt: now})
	src := &gatedSource{fakeSource: f, open: make(chan struct{})}
	ix := New(src, func() time.Time { return now })
	defer ix.Close()
	ctx := context.Background()
	if err := ix.Fresh(ctx); !errors.Is(err, ErrLoading) || !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("Fresh before the load: %v", err)
	}
	if err := ix.Ping(ctx); err == nil || ix.Loaded() {
		t.Fatalf("Ping before the load: %v (loaded %v)", err, ix.Loaded())
	}
	close(src.open)
	deadline := time.Now().Add(time.Minute)
	for !ix.Loaded() {
		if time.Now().After(deadline) {
			t.Fatal("the load started by Fresh never finished")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := ix.Ping(ctx); err != nil {
		t.Fatalf("Ping once loaded: %v", err)
	}
	if err := ix.Fresh(ctx); err != nil || ix.Len() != 1 {
		t.Fatalf("Fresh once loaded: %v (%d users)", err, ix.Len())
	}
}
