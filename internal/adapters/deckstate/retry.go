package deckstate

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Retrying delivers reports (Swiped, Rewound, Changed) that failed again
// later, in order, until the store takes them: a report lost while Redis
// was down would otherwise leave a cached state stale until its TTL. The
// failed call still returns its error. At most max reports wait; beyond
// that the oldest are dropped (their states expire within the TTL).
type Retrying struct {
	Store
	max int
	log *slog.Logger

	mu      sync.Mutex
	pending []func(ctx context.Context) error
	busy    bool // a Flush is delivering one that was taken out of pending
}

// NewRetrying wraps s.
func NewRetrying(s Store, max int, log *slog.Logger) *Retrying {
	return &Retrying{Store: s, max: max, log: log}
}

func (r *Retrying) deliver(ctx context.Context, f func(ctx context.Context) error) error {
	r.mu.Lock()
	queued := len(r.pending) > 0 || r.busy
	r.mu.Unlock()
	if !queued { // keep the order: never overtake what waits
		err := f(ctx)
		if err == nil {
			return nil
		}
		r.keep(f)
		return err
	}
	r.keep(f)
	return nil
}

func (r *Retrying) keep(f func(ctx context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) >= r.max {
		r.pending = r.pending[1:]
	}
	r.pending = append(r.pending, f)
}

// Pending returns how many reports wait.
func (r *Retrying) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// Swiped implements Store.
func (r *Retrying) Swiped(ctx context.Context, sw []Swipe) error {
	return r.deliver(ctx, func(ctx context.Context) error { return r.Store.Swiped(ctx, sw) })
}

// Rewound implements Store.
func (r *Retrying) Rewound(ctx context.Context, sw Swipe) error {
	return r.deliver(ctx, func(ctx context.Context) error { return r.Store.Rewound(ctx, sw) })
}

// Changed implements Store.
func (r *Retrying) Changed(ctx context.Context) error {
	return r.deliver(ctx, r.Store.Changed)
}

// Flush delivers the waiting reports in order; it stops at the first that
// fails again.
func (r *Retrying) Flush(ctx context.Context) error {
	for {
		r.mu.Lock()
		if len(r.pending) == 0 || r.busy {
			r.mu.Unlock()
			return nil
		}
		f := r.pending[0]
		r.pending = r.pending[1:]
		r.busy = true
		r.mu.Unlock()
		err := f(ctx)
		r.mu.Lock()
		r.busy = false
		if err != nil {
			r.pending = append([]func(ctx context.Context) error{f}, r.pending...)
			if len(r.pending) > r.max {
				r.pending = r.pending[1:]
			}
		}
		r.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// Run flushes every interval until ctx is done.
func (r *Retrying) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n := r.Pending(); n > 0 {
				if err := r.Flush(ctx); err != nil {
					r.log.WarnContext(ctx, "deck state reports still waiting", "reports", r.Pending(), "err", err)
				} else {
					r.log.InfoContext(ctx, "deck state reports delivered", "reports", n)
				}
			}
		}
	}
}
