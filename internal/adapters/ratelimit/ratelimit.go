// Package ratelimit counts actions of one subject in fixed time windows on a
// kv.Store (Redis in production, the embedded store otherwise), so that a limit
// holds across replicas and restarts, or in rolling windows on a Window
// (window.go: memory, SQLite, Redis). It is the one place the "too many
// requests of this kind" rule (API code 2008) is counted.
package ratelimit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Rule is one limit (the domain's model.RateRule): at most Max actions
// named Name per subject in each window of length Per.
type Rule = model.RateRule

// Error is returned when a subject has used up a Rule in the current window
// (the domain's model.RateError).
type Error = model.RateError

// Limiter counts actions in a kv.Store.
type Limiter struct {
	kv     kv.Store
	clock  clock.Clock
	prefix string
}

// New returns a Limiter whose keys start with prefix.
func New(store kv.Store, c clock.Clock, prefix string) *Limiter {
	return &Limiter{kv: store, clock: c, prefix: prefix}
}

// Allow counts one action of subject under r. It returns *Error when the
// action is over the limit (the action is still counted, so hammering does not
// shorten the wait), and the store's error (backend.ErrUnavailable) when the
// count cannot be taken. A zero Max means no limit.
func (l *Limiter) Allow(ctx context.Context, r Rule, subject string) error {
	if r.Max <= 0 || r.Per <= 0 {
		return nil
	}
	now := l.clock.Now()
	window := now.UnixNano() / int64(r.Per)
	// The subject is the hash tag, so every key of one subject lands on one
	// Redis Cluster slot.
	key := l.prefix + "rl:{" + subject + "}:" + r.Name + ":" + strconv.FormatInt(window, 36)
	n, err := l.kv.Incr(ctx, key, r.Per+time.Second)
	if err != nil {
		return fmt.Errorf("ratelimit: count %s: %w", r.Name, err)
	}
	if n > r.Max {
		end := time.Unix(0, (window+1)*int64(r.Per))
		return &Error{Rule: r, RetryAfter: end.Sub(now)}
	}
	return nil
}
