// Package activity records when users were last active without a database
// write per request: touches are collected in memory and flushed in one
// statement per interval (and at shutdown). "Recently active" ordering of
// the deck needs minute precision at most. A stamp is not a change of the
// user's row (store.TouchActiveMany leaves updated_at alone): the deck
// indexes read activity once a minute (deck.Index.RefreshActivity) rather
// than every replica re-reading the row of every active user.
package activity

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/swiper-social/swiper/internal/platform/clock"
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
	if last, ok := t.seen[id]; (!ok || now.Sub(last) >= time.Minute) && len(t.pending) < MaxPending {
		t.pending[id] = struct{}{}
	}
	t.mu.Unlock()
}

// MaxPending bounds the users kept for the next flush (touches beyond it,
// and ids whose write failed beyond it, are dropped: "last active" is a
// hint, and a bounded backlog keeps a long database outage from growing
// memory without end).
const MaxPending = 1_000_000

// Flush writes the pending stamps. The ids of a write that failed are
// kept for the next flush (within MaxPending), so that a "will retry"
// retries them.
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
	}
	t.pending = map[int64]struct{}{}
	t.mu.Unlock()
	for start := 0; start < len(ids); start += 1000 {
		end := min(start+1000, len(ids))
		if err := t.w.TouchActiveMany(ctx, ids[start:end], now); err != nil {
			t.retry(ids[start:])
			return err
		}
		t.written(ids[start:end], now)
	}
	return nil
}

// written records the stamps of ids as written at now.
func (t *Tracker) written(ids []int64, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.seen)+len(ids) > MaxPending { // bound memory; a repeat write is harmless
		t.seen = map[int64]time.Time{}
	}
	for _, id := range ids {
		t.seen[id] = now
	}
}

// retry puts ids back for the next flush, as far as MaxPending allows.
func (t *Tracker) retry(ids []int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		if len(t.pending) >= MaxPending {
			return
		}
		t.pending[id] = struct{}{}
	}
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
