// Package activity records when users were last active without a database
// write per request: touches are collected in memory and flushed in one
// statement per interval (and at shutdown). "Recently active" ordering of
// the deck needs minute precision at most.
package activity

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/swiper-social/swiper/internal/clock"
)

// Writer stores activity stamps.
type Writer interface {
	TouchActiveMany(ctx context.Context, ids []int64, at time.Time) error
}

// Tracker batches activity stamps.
type Tracker struct {
	w     Writer
	clock clock.Clock
	log   *slog.Logger
	every time.Duration

	mu      sync.Mutex
	pending map[int64]struct{}
	seen    map[int64]time.Time // last flushed stamp per user, to skip repeats within a minute
}

// New returns a Tracker flushing every interval.
func New(w Writer, clk clock.Clock, every time.Duration, log *slog.Logger) *Tracker {
	return &Tracker{w: w, clock: clk, log: log, every: every, pending: map[int64]struct{}{}, seen: map[int64]time.Time{}}
}

// Touch notes that user id is active now. It never blocks on I/O.
func (t *Tracker) Touch(id int64) {
	now := t.clock.Now()
	t.mu.Lock()
	if last, ok := t.seen[id]; !ok || now.Sub(last) >= time.Minute {
		t.pending[id] = struct{}{}
	}
	t.mu.Unlock()
}

// Flush writes the pending stamps.
func (t *Tracker) Flush(ctx context.Context) error {
	now := t.clock.Now()
	t.mu.Lock()
	if len(t.pending) == 0 {
		t.mu.Unlock()
		return nil
	}
	ids := make([]int64, 0, len(t.pending))
	for id := range t.pending {
		ids = append(ids, id)
		t.seen[id] = now
	}
	t.pending = map[int64]struct{}{}
	if len(t.seen) > 1_000_000 { // bound memory; a repeat write is harmless
		t.seen = map[int64]time.Time{}
	}
	t.mu.Unlock()
	for start := 0; start < len(ids); start += 1000 {
		end := min(start+1000, len(ids))
		if err := t.w.TouchActiveMany(ctx, ids[start:end], now); err != nil {
			return err
		}
	}
	return nil
}

// Run flushes every interval until ctx is done, then flushes once more.
func (t *Tracker) Run(ctx context.Context) {
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := t.Flush(fctx); err != nil {
				t.log.Warn("activity flush at shutdown failed", "err", err)
			}
			cancel()
			return
		case <-tick.C:
			if err := t.Flush(ctx); err != nil {
				t.log.Warn("activity flush failed; will retry", "err", err)
			}
		}
	}
}
