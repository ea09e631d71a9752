package activity

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/platform/clock"
)

type rec struct {
	mu    sync.Mutex
	calls [][]int64
}

func (r *rec) TouchActiveMany(_ context.Context, ids []int64, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := append([]int64(nil), ids...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	r.calls = append(r.calls, c)
	return nil
}

func TestBatching(t *testing.T) {
	r := &rec{}
	clk := clock.NewFake(time.Now())
	tr := New(r, clk, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := 0; i < 100; i++ {
		tr.Touch(int64(i % 3))
	}
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != 1 || len(r.calls[0]) != 3 {
		t.Fatalf("calls %v, want one write of 3 users", r.calls)
	}
	tr.Touch(1) // within a minute of the last stamp: nothing to write
	_ = tr.Flush(context.Background())
	if len(r.calls) != 1 {
		t.Fatalf("rewrote a fresh stamp: %v", r.calls)
	}
	clk.Advance(61 * time.Second)
	tr.Touch(1)
	_ = tr.Flush(context.Background())
	if len(r.calls) != 2 || len(r.calls[1]) != 1 || r.calls[1][0] != 1 {
		t.Fatalf("calls %v", r.calls)
	}
}

func TestRunFlushesAtShutdown(t *testing.T) {
	r := &rec{}
	tr := New(r, clock.Real{}, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.Run(ctx); close(done) }()
	tr.Touch(42)
	cancel()
	<-done
	if len(r.calls) != 1 || r.calls[0][0] != 42 {
		t.Fatalf("calls %v", r.calls)
	}
}

// failing fails its first n writes, then records like rec.
type failing struct {
	rec
	fails int
}

func (f *failing) TouchActiveMany(ctx context.Context, ids []int64, at time.Time) error {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return errors.New("database down")
	}
	f.mu.Unlock()
	return f.rec.TouchActiveMany(ctx, ids, at)
}

// A flush that failed ("will retry") keeps its ids: the next flush writes
// them, and they are not taken for written meanwhile.
func TestFailedFlushKeepsIDs(t *testing.T) {
	f := &failing{fails: 1}
	clk := clock.NewFake(time.Now())
	tr := New(f, clk, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := range 2500 {
		tr.Touch(int64(i))
	}
	if err := tr.Flush(context.Background()); err == nil {
		t.Fatal("the failed write was not reported")
	}
	tr.Touch(7) // not written yet: still pending, not "fresh"
	if err := tr.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[int64]bool{}
	for _, c := range f.calls {
		for _, id := range c {
			got[id] = true
		}
	}
	if len(got) != 2500 {
		t.Fatalf("%d of 2500 users written after the retry", len(got))
	}
}

// The backlog kept for retries is bounded.
func TestPendingIsBounded(t *testing.T) {
	f := &failing{fails: 1 << 30}
	tr := New(f, clock.NewFake(time.Now()), time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for i := range MaxPending + 10 {
		tr.Touch(int64(i))
	}
	_ = tr.Flush(context.Background())
	tr.Touch(-1)
	tr.mu.Lock()
	n := len(tr.pending)
	tr.mu.Unlock()
	if n > MaxPending {
		t.Fatalf("%d pending, more than %d", n, MaxPending)
	}
}
