package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/backend"
)

// Redis is a Store on Redis. Every key is stored as prefix+key. Errors other
// than a missing key pass through backend.Classify, so an outage satisfies
// errors.Is(err, backend.ErrUnavailable).
type Redis struct {
	client redis.UniversalClient
	prefix string
	incr   *redis.Script
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store on client that prefixes every key with prefix
// (e.g. "swiper:"). The caller owns client and closes it.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix, incr: redis.NewScript(incrScript)}
}

// Timeouts applied by OpenRedis unless the URL sets them, chosen so that an
// outage fails a request within about two seconds instead of hanging it.
const (
	redisDialTimeout  = 2 * time.Second
	redisReadTimeout  = time.Second
	redisWriteTimeout = time.Second
	redisPoolTimeout  = 2 * time.Second
)

// OpenRedis parses a redis:// or rediss:// URL (see redis.ParseURL), applies
// fail-fast timeouts (dial 2 s, read/write 1 s, pool 2 s) unless the URL sets
// them, and pings the server. The caller closes the returned client.
func OpenRedis(ctx context.Context, url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("kv: parse redis url: %w", err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = redisDialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = redisReadTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = redisWriteTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = redisPoolTimeout
	}
	if opt.DialerRetries == 0 {
		// go-redis retries a refused dial 5 times by default; one is enough
		// since commands are retried (MaxRetries) anyway.
		opt.DialerRetries = 1
	}
	opt.ContextTimeoutEnabled = true
	client := redis.NewClient(opt)
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("kv: ping redis %s: %w", opt.Addr, backend.Classify(err))
	}
	return client, nil
}

func (r *Redis) key(k string) string { return r.prefix + k }

// isCluster reports whether multi-key commands must be split per key
// because the keys may live in different hash slots.
func (r *Redis) isCluster() bool {
	_, ok := r.client.(*redis.ClusterClient)
	return ok
}

// Get returns the value of key, or ErrNotFound.
func (r *Redis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.client.Get(ctx, r.key(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("kv: get %q: %w", key, backend.Classify(err))
	}
	return v, nil
}

// MGet returns the values of keys in order; a missing key gives a nil entry.
func (r *Redis) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if r.isCluster() {
		cmds := make([]*redis.StringCmd, len(keys))
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Get(ctx, r.key(k))
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("kv: mget %d keys: %w", len(keys), backend.Classify(err))
		}
		for i, c := range cmds {
			v, err := c.Bytes()
			switch {
			case errors.Is(err, redis.Nil):
			case err != nil:
				return nil, fmt.Errorf("kv: mget %q: %w", keys[i], backend.Classify(err))
			default:
				out[i] = v
			}
		}
		return out, nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.key(k)
	}
	vals, err := r.client.MGet(ctx, full...).Result()
	if err != nil {
		return nil, fmt.Errorf("kv: mget %d keys: %w", len(keys), backend.Classify(err))
	}
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
		case string:
			out[i] = []byte(v)
		case []byte:
			out[i] = v
		default:
			return nil, fmt.Errorf("kv: mget %q: unexpected reply type %T", keys[i], v)
		}
	}
	return out, nil
}

// Set stores value under key; ttl <= 0 means no expiry.
func (r *Redis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		ttl = 0 // go-redis reads -1 as KEEPTTL
	}
	if value == nil {
		value = []byte{}
	}
	if err := r.client.Set(ctx, r.key(key), value, ttl).Err(); err != nil {
		return fmt.Errorf("kv: set %q: %w", key, backend.Classify(err))
	}
	return nil
}

// Del removes keys; absent keys are ignored.
func (r *Redis) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.key(k)
	}
	var err error
	if r.isCluster() && len(full) > 1 {
		_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range full {
				p.Del(ctx, k)
			}
			return nil
		})
	} else {
		err = r.client.Del(ctx, full...).Err()
	}
	if err != nil {
		return fmt.Errorf("kv: del %d keys: %w", len(keys), backend.Classify(err))
	}
	return nil
}

// incrScript increments KEYS[1] and, when ARGV[1] > 0, sets its expiry to
// ARGV[1] milliseconds. As a script it is atomic, and a failed INCR (not an
// integer) aborts it before the expiry is touched.
const incrScript = `
local n = redis.call('INCR', KEYS[1])
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return n
`

// Incr adds 1 to the integer at key (missing = 0) and, when ttl > 0, sets its
// expiry to ttl atomically (a tiny Lua script), so a counter never exists
// without its expiry.
func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	ms := int64(0)
	if ttl > 0 {
		ms = max(ttl.Milliseconds(), 1)
	}
	n, err := r.incr.Run(ctx, r.client, []string{r.key(key)}, ms).Int64()
	if err != nil {
		return 0, fmt.Errorf("kv: incr %q: %w", key, backend.Classify(err))
	}
	return n, nil
}

// Ping reports whether Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("kv: ping: %w", backend.Classify(err))
	}
	return nil
}
