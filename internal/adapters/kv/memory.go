package kv

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Sweep tuning: every sweepEvery writes, up to sweepSample entries are
// examined and the expired ones removed, so the cost of one write stays
// bounded however large the map grows (Redis samples keys the same way).
const (
	sweepEvery  = 64
	sweepSample = 32
)

// Memory is an in-process Store: the embedded path's caches (what it holds
// is lost by a restart). Expiry is judged by the injected clock; expired entries are removed when they are read and by
// a small sweep that runs on writes. It starts no goroutine. Values are
// copied in and out, so callers may reuse their slices.
type Memory struct {
	clk clock.Clock

	mu     sync.Mutex
	items  map[string]memItem
	writes int // writes since the last sweep
}

type memItem struct {
	value   []byte
	expires time.Time // zero: no expiry
}

func (it memItem) expired(now time.Time) bool {
	return !it.expires.IsZero() && !now.Before(it.expires)
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-process store that reads the time from clk.
func NewMemory(clk clock.Clock) *Memory {
	return &Memory{clk: clk, items: make(map[string]memItem)}
}

// lookup returns the live item of key, deleting it when expired.
// m.mu must be held.
func (m *Memory) lookup(key string, now time.Time) (memItem, bool) {
	it, ok := m.items[key]
	if !ok {
		return memItem{}, false
	}
	if it.expired(now) {
		delete(m.items, key)
		return memItem{}, false
	}
	return it, true
}

// wrote counts a write and sweeps a sample of entries every sweepEvery
// writes. m.mu must be held.
func (m *Memory) wrote(now time.Time) {
	m.writes++
	if m.writes < sweepEvery {
		return
	}
	m.writes = 0
	n := 0
	for k, it := range m.items { // map iteration starts at a random entry
		if it.expired(now) {
			delete(m.items, k)
		}
		n++
		if n >= sweepSample {
			break
		}
	}
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return now.Add(ttl)
}

// Get returns a copy of the value of key, or ErrNotFound.
func (m *Memory) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.lookup(key, m.clk.Now())
	if !ok {
		return nil, ErrNotFound
	}
	return clone(it.value), nil
}

// MGet returns copies of the values of keys in order; missing keys give nil.
func (m *Memory) MGet(_ context.Context, keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clk.Now()
	for i, k := range keys {
		if it, ok := m.lookup(k, now); ok {
			out[i] = clone(it.value)
		}
	}
	return out, nil
}

// Set stores a copy of value under key; ttl <= 0 means no expiry.
func (m *Memory) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clk.Now()
	m.items[key] = memItem{value: clone(value), expires: expiry(now, ttl)}
	m.wrote(now)
	return nil
}

// Del removes keys; absent keys are ignored.
func (m *Memory) Del(_ context.Context, keys ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		delete(m.items, k)
	}
	return nil
}

// Incr adds 1 to the decimal integer stored at key (missing = 0), sets the
// expiry to ttl when ttl > 0, and returns the new value. Like Redis, the
// value is stored as decimal text, so Get returns e.g. "3".
func (m *Memory) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clk.Now()
	var n int64
	it, ok := m.lookup(key, now)
	if ok {
		v, err := strconv.ParseInt(string(it.value), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("kv: incr %q: value is not an integer", key)
		}
		n = v
	}
	if n == math.MaxInt64 {
		return 0, fmt.Errorf("kv: incr %q: increment would overflow", key)
	}
	n++
	if ttl > 0 {
		it.expires = now.Add(ttl)
	}
	it.value = strconv.AppendInt(nil, n, 10)
	m.items[key] = it
	m.wrote(now)
	return n, nil
}

// Ping always succeeds.
func (m *Memory) Ping(context.Context) error { return nil }

// clone copies b; the copy is never nil, so a stored empty value reads back
// as an empty, non-nil slice (as from Redis) and MGet can tell it from a gap.
func clone(b []byte) []byte {
	out := make([]byte, len(b))
	copy(out, b)
	return out
}
