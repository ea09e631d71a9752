// Package kv is the key-value store behind the caches, the sessions and the
// rate limits: Redis for production; on the embedded path a SQLite one in
// the database file for what must survive a restart (sessions, rate-limit
// counters) and an in-process one for the caches. All pass the same
// contract test (kvtest).
package kv

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get when the key is absent or expired.
var ErrNotFound = errors.New("kv: not found")

// Store is a small key-value store with per-key expiry. Every error that
// comes from an unreachable backend satisfies errors.Is(err, backend.ErrUnavailable).
type Store interface {
	// Get returns the value of key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// MGet returns the values of keys in order; a missing key gives a nil entry.
	MGet(ctx context.Context, keys ...string) ([][]byte, error)
	// Set stores value under key; ttl <= 0 means no expiry.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Del removes keys; absent keys are ignored.
	Del(ctx context.Context, keys ...string) error
	// Incr adds 1 to the integer at key (missing = 0) atomically, sets the
	// expiry to ttl (when ttl > 0) and returns the new value.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
}
