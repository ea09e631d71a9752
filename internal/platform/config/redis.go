package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// RedisMode is how SWIPER_REDIS_URL reaches Redis.
type RedisMode int

const (
	// RedisSingle is one server: redis://[user:password@]host:port[/db].
	RedisSingle RedisMode = iota
	// RedisCluster is a Redis Cluster reached through any of its nodes:
	// redis+cluster://[user:password@]host:port,host:port,… (no db number).
	RedisCluster
	// RedisSentinel is a master found through Sentinel:
	// redis+sentinel://[user:password@]host:port,…[/db]?master_name=NAME.
	RedisSentinel
)

func (m RedisMode) String() string {
	switch m {
	case RedisCluster:
		return "cluster"
	case RedisSentinel:
		return "sentinel"
	}
	return "single"
}

// RedisTarget is SWIPER_REDIS_URL taken apart.
type RedisTarget struct {
	Mode RedisMode
	TLS  bool // rediss:// (rediss+cluster://, rediss+sentinel://)
	// Addrs are host:port: the server (RedisSingle), the seed nodes
	// (RedisCluster) or the sentinels (RedisSentinel), in URL order.
	Addrs              []string
	Username, Password string // of the Redis servers (not of the sentinels)
	DB                 int    // RedisSingle and RedisSentinel only
	Master             string // RedisSentinel: the master's name (master_name)
	// Query holds the other query parameters, go-redis client options
	// such as dial_timeout=3s (checked when the client is built).
	Query url.Values
}

// Default ports when a host of SWIPER_REDIS_URL has none.
const (
	redisPort    = "6379"
	sentinelPort = "26379"
)

// ParseRedisURL takes SWIPER_REDIS_URL apart:
//
//	redis://[user:password@]host[:port][/db][?options]          one server
//	redis+cluster://[user:password@]host:port[,host:port…][?options]   Redis Cluster
//	redis+sentinel://[user:password@]host:port[,host:port…][/db]?master_name=NAME[&options]
//
// rediss in place of redis selects TLS. A cluster URL lists any reachable
// nodes (the client discovers the others) and has no database number: a
// Redis Cluster has only database 0.
func ParseRedisURL(raw string) (RedisTarget, error) {
	fail := func(format string, args ...any) (RedisTarget, error) {
		return RedisTarget{}, fmt.Errorf("SWIPER_REDIS_URL: "+format, args...)
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return fail("%q is not a URL: want redis://, redis+cluster:// or redis+sentinel://", redact(raw))
	}
	var t RedisTarget
	if t.Mode, t.TLS, ok = redisScheme(scheme); !ok {
		return fail("scheme %q is not redis, rediss, redis+cluster, rediss+cluster, redis+sentinel or rediss+sentinel", scheme)
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		return fail("a fragment (#…) means nothing here")
	}
	rawQuery := ""
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest, rawQuery = rest[:i], rest[i+1:]
	}
	path := ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest, path = rest[:i], rest[i:]
	}
	hosts, err := t.setUserinfo(rest)
	if err != nil {
		return fail("%w", err)
	}
	if hosts == "" {
		return fail("no host in %q", redact(raw))
	}
	if err := t.setAddrs(hosts); err != nil {
		return fail("%w", err)
	}
	if err := t.setDB(path); err != nil {
		return fail("%w", err)
	}
	if err := t.setQuery(rawQuery); err != nil {
		return fail("%w", err)
	}
	return t, nil
}

// redisScheme reads the scheme of SWIPER_REDIS_URL (any case); ok is false
// for an unknown one.
func redisScheme(scheme string) (mode RedisMode, tls, ok bool) {
	switch strings.ToLower(scheme) {
	case "redis":
		return RedisSingle, false, true
	case "rediss":
		return RedisSingle, true, true
	case "redis+cluster":
		return RedisCluster, false, true
	case "rediss+cluster":
		return RedisCluster, true, true
	case "redis+sentinel":
		return RedisSentinel, false, true
	case "rediss+sentinel":
		return RedisSentinel, true, true
	}
	return RedisSingle, false, false
}

// setUserinfo sets Username and Password from the [user:password@] that may
// start authority (host list, no path or query) and returns the host list.
func (t *RedisTarget) setUserinfo(authority string) (hosts string, err error) {
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return authority, nil
	}
	user, pass, _ := strings.Cut(authority[:at], ":")
	if t.Username, err = url.PathUnescape(user); err != nil {
		return "", errors.New("bad user name escape")
	}
	if t.Password, err = url.PathUnescape(pass); err != nil {
		return "", errors.New("bad password escape")
	}
	return authority[at+1:], nil
}

// setAddrs sets Addrs from the comma-separated host list, adding the default
// port of the mode to hosts without one.
func (t *RedisTarget) setAddrs(hosts string) error {
	def := redisPort
	if t.Mode == RedisSentinel {
		def = sentinelPort
	}
	for _, h := range strings.Split(hosts, ",") {
		addr, err := hostPort(strings.TrimSpace(h), def)
		if err != nil {
			return err
		}
		t.Addrs = append(t.Addrs, addr)
	}
	if t.Mode == RedisSingle && len(t.Addrs) > 1 {
		return fmt.Errorf("redis:// takes one host; for a Redis Cluster write redis+cluster://%s", hosts)
	}
	return nil
}

// setDB sets DB from the URL path ("" or "/" leaves it 0).
func (t *RedisTarget) setDB(path string) error {
	db := strings.Trim(path, "/")
	if db == "" {
		return nil
	}
	if t.Mode == RedisCluster {
		return fmt.Errorf("a Redis Cluster has no database numbers: remove %q (use SWIPER_REDIS_NAMESPACE to share one)", path)
	}
	n, err := strconv.Atoi(db)
	if err != nil || n < 0 {
		return fmt.Errorf("database %q is not a non-negative number", db)
	}
	t.DB = n
	return nil
}

// setQuery sets Master (sentinel) and Query from the URL query. Options the
// URL itself spells (addr, username, …) are refused rather than silently
// overriding it; db= is allowed only for a single server.
func (t *RedisTarget) setQuery(rawQuery string) error {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("bad query: %w", err)
	}
	for _, k := range []string{"addr", "db", "username", "password"} {
		if q.Has(k) && !(k == "db" && t.Mode == RedisSingle) {
			return fmt.Errorf("option %s= is not taken here: write it in the URL itself", k)
		}
	}
	if t.Mode == RedisSentinel {
		t.Master = q.Get("master_name")
		q.Del("master_name")
		if t.Master == "" {
			return errors.New("redis+sentinel:// needs ?master_name=NAME")
		}
	} else if q.Has("master_name") {
		return errors.New("master_name= is only for redis+sentinel://")
	}
	t.Query = q
	return nil
}

// hostPort checks one host[:port] of the URL and adds the default port.
func hostPort(h, def string) (string, error) {
	if h == "" {
		return "", errors.New("empty host in the host list")
	}
	host, port := h, def
	if strings.HasPrefix(h, "[") || strings.Count(h, ":") == 1 {
		var err error
		if host, port, err = net.SplitHostPort(h); err != nil {
			if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
				host, port = strings.Trim(h, "[]"), def
			} else {
				return "", fmt.Errorf("host %q: %v", h, err)
			}
		}
	} else if strings.Contains(h, ":") {
		return "", fmt.Errorf("host %q: write an IPv6 address in brackets, [addr]:port", h)
	}
	if host == "" || strings.ContainsAny(host, " /@?#[]") {
		return "", fmt.Errorf("host %q is not a host name or address", h)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("host %q: port %q is not 1-65535", h, port)
	}
	return net.JoinHostPort(host, port), nil
}

// redact hides the password of a URL in messages.
func redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		if at := strings.LastIndexByte(raw, '@'); at >= 0 {
			return "…@" + raw[at+1:]
		}
		return raw
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
			return scheme + "://" + user + ":…@" + rest[at+1:]
		}
	}
	return raw
}
