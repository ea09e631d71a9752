package cache

import (
	"context"
	"log/slog"
	"sync"
)

// Watch keeps caches in step with writes made around them: another process
// writing the database (`swiper vip grant`) cannot reach this process's
// memory, so before every read a cache that follows a Watch asks it which
// ids changed since the last read, and the entries of those ids are
// dropped from every cache that follows it. The question must be cheap
// (store.UsersChanged: one PRAGMA while nothing changed).
type Watch struct {
	changed func(ctx context.Context) ([]int64, error)
	log     *slog.Logger

	mu     sync.Mutex // held across a question and its invalidations
	caches []invalidator
}

type invalidator interface {
	Invalidate(ctx context.Context, id int64) error
}

// NewWatch returns a Watch asking changed.
func NewWatch(changed func(ctx context.Context) ([]int64, error), log *slog.Logger) *Watch {
	return &Watch{changed: changed, log: log}
}

// Follow makes c check w before every read. Call it while wiring, before
// c is used.
func (c *Cache[T]) Follow(w *Watch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.caches = append(w.caches, c)
	c.watch = w
}

// Check drops from every following cache the ids that changed since the
// last Check, and reports whether there were any. It returns once they are
// dropped, so a read after it sees every change committed before it
// began. A failure is logged and the read goes on: the changes are asked
// for again next time.
func (w *Watch) Check(ctx context.Context) (dropped bool) {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	ids, err := w.changed(ctx)
	if err != nil {
		w.log.WarnContext(ctx, "cache: cannot tell what changed around it; reading as cached", "err", err)
		return false
	}
	for _, id := range ids {
		for _, c := range w.caches {
			if err := c.Invalidate(ctx, id); err != nil {
				w.log.WarnContext(ctx, "cache: invalidate after an outside change failed", "id", id, "err", err)
			}
		}
	}
	return len(ids) > 0
}
