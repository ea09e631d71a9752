// Package cache is a read-through cache of JSON values over a kv.Store,
// safe against the classic stale-fill race: every key has a generation
// counter that writers bump after committing, and an entry is only served
// when it was filled under the current generation.
package cache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/adapters/kv"
)

// Metrics counts hits and misses per cache name.
type Metrics struct {
	requests *prometheus.CounterVec
}

// NewMetrics registers swiper_cache_requests_total{cache,result} on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "swiper_cache_requests_total",
		Help: "Read-through cache lookups by cache and result (hit, miss).",
	}, []string{"cache", "result"})}
	reg.MustRegister(m.requests)
	return m
}

// Cache caches values of type T by int64 id.
type Cache[T any] struct {
	kv     kv.Store
	name   string
	ttl    time.Duration
	hits   prometheus.Counter
	misses prometheus.Counter
	log    *slog.Logger
	watch  *Watch // nil: only this process writes what is cached
}

// New returns a cache whose keys start with name.
func New[T any](store kv.Store, m *Metrics, name string, ttl time.Duration, log *slog.Logger) *Cache[T] {
	return &Cache[T]{kv: store, name: name, ttl: ttl, log: log,
		hits: m.requests.WithLabelValues(name, "hit"), misses: m.requests.WithLabelValues(name, "miss")}
}

type entry[T any] struct {
	Gen   int64 `json:"g"`
	Value T     `json:"v"`
}

// keys are the value and generation keys of id: c:NAME:{u:ID} and
// cg:NAME:{u:ID}. Ids are user ids; the user's hash tag (kv.UserTag) puts
// every key of one user in one Redis Cluster slot, so an entry and its
// generation are read with one MGET on one node (with the user's session
// generation, at a login), and the users of a page spread over the
// cluster. There is no key every request touches.
func (c *Cache[T]) keys(id int64) (val, gen string) {
	tag := ":" + kv.UserTag(id)
	return "c:" + c.name + tag, "cg:" + c.name + tag
}

// Get returns the value of id, loading and caching it on a miss. A cache
// that does not answer is bypassed (the database stays the truth).
func (c *Cache[T]) Get(ctx context.Context, id int64, load func(ctx context.Context) (T, error)) (T, error) {
	return c.GetRead(ctx, id, nil, load)
}

// Keys are the keys Get reads for id (in one MGet), for a caller that reads
// them together with its own commands, in one round trip.
func (c *Cache[T]) Keys(id int64) []string {
	vk, gk := c.keys(id)
	return []string{vk, gk}
}

// GetRead is Get with the values of Keys(id) already read (nil: not read,
// Get reads them): a hit needs no other round trip.
func (c *Cache[T]) GetRead(ctx context.Context, id int64, vals [][]byte, load func(ctx context.Context) (T, error)) (T, error) {
	vk, gk := c.keys(id)
	if c.watch.Check(ctx) {
		vals = nil // possibly read before an entry was dropped: read again
	}
	if len(vals) != 2 {
		var err error
		if vals, err = c.kv.MGet(ctx, vk, gk); err != nil {
			c.misses.Inc()
			c.log.WarnContext(ctx, "cache unavailable, reading through", "cache", c.name, "err", err)
			return load(ctx)
		}
	}
	gen := parseGen(vals[1])
	if vals[0] != nil {
		var e entry[T]
		if json.Unmarshal(vals[0], &e) == nil && e.Gen == gen {
			c.hits.Inc()
			return e.Value, nil
		}
	}
	c.misses.Inc()
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	if b, err := json.Marshal(entry[T]{Gen: gen, Value: v}); err == nil {
		if err := c.kv.Set(ctx, vk, b, c.ttl); err != nil {
			c.log.WarnContext(ctx, "cache fill failed", "cache", c.name, "err", err)
		}
	}
	return v, nil
}

// Prime caches v, read from the database before this call, as the value of
// id when that is safe: only while id was never invalidated (generation
// 0). A write that committed after v was read then either invalidates
// later (making this entry stale) or already did (and nothing is stored).
// For a row just created, whose first read would otherwise go to the
// database.
func (c *Cache[T]) Prime(ctx context.Context, id int64, v T) {
	c.watch.Check(ctx)
	vk, gk := c.keys(id)
	if _, err := c.kv.Get(ctx, gk); !errors.Is(err, kv.ErrNotFound) {
		if err != nil {
			c.log.WarnContext(ctx, "cache unavailable, not primed", "cache", c.name, "err", err)
		}
		return
	}
	if b, err := json.Marshal(entry[T]{Gen: 0, Value: v}); err == nil {
		if err := c.kv.Set(ctx, vk, b, c.ttl); err != nil {
			c.log.WarnContext(ctx, "cache fill failed", "cache", c.name, "err", err)
		}
	}
}

// Invalidate makes every entry of id filled before now stale. Call it after
// the write committed.
func (c *Cache[T]) Invalidate(ctx context.Context, id int64) error {
	vk, gk := c.keys(id)
	// The generation outlives entries (ttl) by far, so a lost generation can
	// never make an old entry current again.
	if _, err := c.kv.Incr(ctx, gk, c.ttl*4+time.Hour); err != nil {
		return fmt.Errorf("cache %s: invalidate %d: %w", c.name, id, err)
	}
	if err := c.kv.Del(ctx, vk); err != nil && !errors.Is(err, kv.ErrNotFound) {
		return fmt.Errorf("cache %s: invalidate %d: %w", c.name, id, err)
	}
	return nil
}

func parseGen(b []byte) int64 {
	if b == nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(b), 10, 64)
	return n
}
