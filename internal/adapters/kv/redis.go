package kv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// Redis is a Store on Redis. Every key is stored as prefix+key. Errors other
// than a missing key pass through backend.Classify, so an outage satisfies
// errors.Is(err, backend.ErrUnavailable).
type Redis struct {
	client redis.UniversalClient
	prefix string
	incr   *redis.Script
	mgets  *mgets // MGETs of concurrent callers share round trips
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store on client that prefixes every key with prefix
// (e.g. "swiper:"). The caller owns client and closes it.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix, incr: redis.NewScript(incrScript), mgets: &mgets{client: client}}
}

// Timeouts applied by OpenRedis unless the URL sets them, chosen so that an
// outage fails a request within about two seconds instead of hanging it.
const (
	redisDialTimeout  = 2 * time.Second
	redisReadTimeout  = time.Second
	redisWriteTimeout = time.Second
	redisPoolTimeout  = 2 * time.Second
)

// OpenRedis connects to SWIPER_REDIS_URL (config.ParseRedisURL): one
// server (redis://, rediss://: redis.Client), a Redis Cluster
// (redis+cluster://: redis.ClusterClient) or a master behind Sentinel
// (redis+sentinel://: the failover redis.Client). It applies fail-fast
// timeouts (dial 2 s, read/write 1 s, pool 2 s) unless the URL sets them,
// and pings the server (a node of a cluster: a cluster missing a node
// still serves most keys; Redis.Ping, the readiness check, wants every
// slot). The caller closes the returned client.
func OpenRedis(ctx context.Context, url string) (redis.UniversalClient, error) {
	target, err := config.ParseRedisURL(url)
	if err != nil {
		return nil, fmt.Errorf("kv: %w", err)
	}
	var client redis.UniversalClient
	switch target.Mode {
	case config.RedisCluster:
		opt, err := ClusterOptions(target)
		if err != nil {
			return nil, err
		}
		client = redis.NewClusterClient(opt)
	case config.RedisSentinel:
		opt, err := FailoverOptions(target)
		if err != nil {
			return nil, err
		}
		client = redis.NewFailoverClient(opt)
	default:
		opt, err := redis.ParseURL(url)
		if err != nil {
			return nil, fmt.Errorf("kv: parse redis url: %w", err)
		}
		failFast(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout, &opt.DialerRetries)
		opt.ContextTimeoutEnabled = true
		client = redis.NewClient(opt)
	}
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("kv: ping redis %s %s: %w", target.Mode, strings.Join(target.Addrs, ","), Classify(err))
	}
	return client, nil
}

// failFast sets the timeouts a URL left at zero.
func failFast(dial, read, write, pool *time.Duration, dialerRetries *int) {
	if *dial == 0 {
		*dial = redisDialTimeout
	}
	if *read == 0 {
		*read = redisReadTimeout
	}
	if *write == 0 {
		*write = redisWriteTimeout
	}
	if *pool == 0 {
		*pool = redisPoolTimeout
	}
	if *dialerRetries == 0 {
		// go-redis retries a refused dial 5 times by default; one is enough
		// since commands are retried (MaxRetries) anyway.
		*dialerRetries = 1
	}
}

// goRedisURL writes t in go-redis's own URL form (host, then addr=
// parameters for the other hosts, its options), without credentials, for
// redis.ParseClusterURL and redis.ParseFailoverURL to read the options.
func goRedisURL(t config.RedisTarget, db bool) string {
	q := url.Values{}
	for k, v := range t.Query {
		q[k] = v
	}
	for _, a := range t.Addrs[1:] {
		q.Add("addr", a)
	}
	if t.Mode == config.RedisSentinel {
		q.Set("master_name", t.Master)
	}
	scheme := "redis"
	if t.TLS {
		scheme = "rediss"
	}
	u := scheme + "://" + t.Addrs[0]
	if db {
		u += "/" + strconv.Itoa(t.DB)
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// ClusterOptions are the go-redis options of a redis+cluster:// target,
// with OpenRedis's fail-fast timeouts.
func ClusterOptions(t config.RedisTarget) (*redis.ClusterOptions, error) {
	opt, err := redis.ParseClusterURL(goRedisURL(t, false))
	if err != nil {
		return nil, fmt.Errorf("kv: SWIPER_REDIS_URL: %w", err)
	}
	opt.Username, opt.Password = t.Username, t.Password
	failFast(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout, &opt.DialerRetries)
	opt.ContextTimeoutEnabled = true
	return opt, nil
}

// FailoverOptions are the go-redis options of a redis+sentinel:// target,
// with OpenRedis's fail-fast timeouts. The credentials of the URL are the
// master's; the sentinels are reached without.
func FailoverOptions(t config.RedisTarget) (*redis.FailoverOptions, error) {
	opt, err := redis.ParseFailoverURL(goRedisURL(t, true))
	if err != nil {
		return nil, fmt.Errorf("kv: SWIPER_REDIS_URL: %w", err)
	}
	opt.Username, opt.Password = t.Username, t.Password
	failFast(&opt.DialTimeout, &opt.ReadTimeout, &opt.WriteTimeout, &opt.PoolTimeout, &opt.DialerRetries)
	opt.ContextTimeoutEnabled = true
	return opt, nil
}

// ClusterSlots is the number of hash slots of a Redis Cluster.
const ClusterSlots = 16384

// ping checks that client answers: a single server answers PING; every
// master of a Redis Cluster must answer CLUSTER INFO with the cluster
// state ok and all 16384 slots served, since a cluster missing a slot
// fails every request on a key of it.
func ping(ctx context.Context, client redis.UniversalClient) error {
	cc, ok := client.(*redis.ClusterClient)
	if !ok {
		return client.Ping(ctx).Err()
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		info, err := node.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if err := ClusterHealthy(info); err != nil {
			return fmt.Errorf("node %s: %w", node.Options().Addr, err)
		}
		return nil
	})
}

// ClusterHealthy reads a CLUSTER INFO answer: nil when the node sees the
// cluster state ok with every slot served.
func ClusterHealthy(info string) error {
	state, slots := "", -1
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch k {
		case "cluster_state":
			state = v
		case "cluster_slots_ok":
			slots, _ = strconv.Atoi(v)
		}
	}
	if state != "ok" || slots != ClusterSlots {
		return backend.Unavailable(fmt.Errorf("redis cluster state %q, %d of %d slots ok", state, max(slots, 0), ClusterSlots))
	}
	return nil
}

func (r *Redis) key(k string) string { return r.prefix + k }

// Key is the Redis key that key of this store is kept under (the prefix is
// this type's alone). Adapters whose scripts also touch keys of this store
// (otp.Redis: a login's session set with the code's consumption, a user's
// cached record read with the code's check) are made with the store and
// name its keys through Key, so they agree on the layout by construction.
func (r *Redis) Key(key string) string { return r.key(key) }

// Client is the client the store was made with.
func (r *Redis) Client() redis.UniversalClient { return r.client }

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
		return nil, fmt.Errorf("kv: get %q: %w", key, Classify(err))
	}
	return v, nil
}

// MGet returns the values of keys in order; a missing key gives a nil entry.
// On a Redis Cluster, where one MGET must not span hash slots, the keys
// are grouped by slot: one MGET per slot, all in one pipeline (go-redis
// sends each node its share at once).
func (r *Redis) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var groups [][]int
	if r.isCluster() {
		groups = bySlot(r.prefix, keys)
	}
	if len(groups) <= 1 {
		// One server, or keys of one slot (a user's, which share
		// UserTag): one MGET, no pipeline.
		if err := r.mgetOne(ctx, out, keys); err != nil {
			return nil, err
		}
		return out, nil
	}
	cmds := make([]*redis.SliceCmd, len(groups))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, g := range groups {
			full := make([]string, len(g))
			for j, at := range g {
				full[j] = r.key(keys[at])
			}
			cmds[i] = p.MGet(ctx, full...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kv: mget %d keys: %w", len(keys), Classify(err))
	}
	for i, c := range cmds {
		if err := fill(out, c.Val(), keys, groups[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mgetOne reads keys with one MGET into out (sent with other callers'
// MGETs: mgets).
func (r *Redis) mgetOne(ctx context.Context, out [][]byte, keys []string) error {
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.key(k)
	}
	vals, err := r.mgets.do(ctx, full)
	if err != nil {
		return fmt.Errorf("kv: mget %d keys: %w", len(keys), Classify(err))
	}
	return fill(out, vals, keys, nil)
}

// fill stores an MGET answer in out: vals[j] is the value of
// keys[at[j]] (at nil: of keys[j]).
func fill(out [][]byte, vals []any, keys []string, at []int) error {
	if at == nil && len(vals) != len(out) || at != nil && len(vals) != len(at) {
		return fmt.Errorf("kv: mget: %d values for %d keys", len(vals), max(len(at), len(out)))
	}
	for j, v := range vals {
		i := j
		if at != nil {
			i = at[j]
		}
		switch v := v.(type) {
		case nil:
		case string:
			out[i] = []byte(v)
		case []byte:
			out[i] = v
		default:
			return fmt.Errorf("kv: mget %q: unexpected reply type %T", keys[i], v)
		}
	}
	return nil
}

// bySlot groups the indexes of keys (each prefixed) by hash slot, in order
// of first appearance.
func bySlot(prefix string, keys []string) [][]int {
	index := map[int]int{}
	var groups [][]int
	for i, k := range keys {
		s := Slot(prefix + k)
		g, ok := index[s]
		if !ok {
			g = len(groups)
			index[s] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
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
		return fmt.Errorf("kv: set %q: %w", key, Classify(err))
	}
	return nil
}

// Del removes keys; absent keys are ignored. On a Redis Cluster the keys
// are grouped by hash slot like MGet's.
func (r *Redis) Del(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	var err error
	if r.isCluster() && len(keys) > 1 {
		_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, g := range bySlot(r.prefix, keys) {
				full := make([]string, len(g))
				for j, at := range g {
					full[j] = r.key(keys[at])
				}
				p.Del(ctx, full...)
			}
			return nil
		})
	} else {
		full := make([]string, len(keys))
		for i, k := range keys {
			full[i] = r.key(k)
		}
		err = r.client.Del(ctx, full...).Err()
	}
	if err != nil {
		return fmt.Errorf("kv: del %d keys: %w", len(keys), Classify(err))
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
		return 0, fmt.Errorf("kv: incr %q: %w", key, Classify(err))
	}
	return n, nil
}

// Ping reports whether Redis answers; on a Redis Cluster, whether every
// master answers and sees the cluster ok with all 16384 slots served.
func (r *Redis) Ping(ctx context.Context) error {
	if err := ping(ctx, r.client); err != nil {
		return fmt.Errorf("kv: ping: %w", Classify(err))
	}
	return nil
}

// Classify is backend.ClassifyRedis: the replies of an unavailable Redis
// satisfy errors.Is(err, backend.ErrUnavailable), as connection failures
// do, so that they are answered 503, not 500.
func Classify(err error) error { return backend.ClassifyRedis(err) }
