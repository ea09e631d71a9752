package otp_test

import (
	"context"
	"encoding/hex"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/otp"
	"github.com/swiper-social/swiper/internal/adapters/otp/otptest"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
	"github.com/swiper-social/swiper/internal/testkit/testenv/rediscluster"
)

// redisClient connects to the test Redis (a Redis Cluster with make
// test-cluster) and removes the test's keys (under a random prefix) at the
// end.
func redisClient(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	return testenv.RedisClient(t)
}

// The contract, with the scripts as they run on one server, and as they
// run on a Redis Cluster (Apart: Issue in two atomic steps when it counts
// an IP; on a cluster URL both are the cluster's).
func TestRedisContract(t *testing.T) {
	testenv.RedisURL(t) // skip (or fail in CI) once, not per scenario
	for name, mk := range map[string]func(redis.UniversalClient, string, otp.Policy) *otp.Redis{
		"Script": func(c redis.UniversalClient, prefix string, p otp.Policy) *otp.Redis {
			return otp.NewRedis(kv.NewRedis(c, prefix), p)
		},
		"Apart": otp.NewRedisApart,
	} {
		t.Run(name, func(t *testing.T) {
			otptest.Run(t, func(t *testing.T, p otp.Policy) otp.Store {
				c, prefix := redisClient(t)
				return mk(c, prefix, p)
			})
		})
	}
}

// TestRedisKeys checks the key layout and that every key expires.
func TestRedisKeys(t *testing.T) {
	c, prefix := redisClient(t)
	ctx := context.Background()
	p := otp.DefaultPolicy()
	s := otp.NewRedis(kv.NewRedis(c, prefix), p)
	zone := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 25, 10, 20, 0, 0, zone)
	dayEnd := time.Date(2026, 11, 26, 0, 0, 0, 0, zone)
	hash := []byte("\x01\x02secret-hash")
	res, err := s.Issue(ctx, otp.IssueRequest{Phone: "+8613800000001", IP: "203.0.113.9",
		CodeHash: hash, Now: now, DayKey: "2026-11-25", DayEnd: dayEnd})
	if err != nil || res.Outcome != otp.OK {
		t.Fatalf("issue: %v %v", res, err)
	}
	phoneKey := prefix + "otp:{+8613800000001}"
	win := now.Truncate(time.Hour)
	ipKey := prefix + "otp:ip:{203.0.113.9}:" + strconv.FormatInt(win.Unix(), 10)
	if keys := testenv.RedisKeys(t, c, prefix+"*"); len(keys) != 2 || !slices.Contains(keys, phoneKey) || !slices.Contains(keys, ipKey) {
		t.Fatalf("keys %v, want %s and %s", keys, phoneKey, ipKey)
	}
	if n, err := c.Get(ctx, ipKey).Int(); err != nil || n != 1 {
		t.Fatalf("IP counter %s: %d %v, want 1", ipKey, n, err)
	}
	// The hash lives until the end of the day (the latest thing that
	// matters) plus a margin; the IP counter until the end of its window.
	ttl, err := c.PTTL(ctx, phoneKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	if min := dayEnd.Sub(now); ttl < min || ttl > min+time.Hour {
		t.Fatalf("phone key TTL %v, want a little over %v", ttl, min)
	}
	ttl, err = c.PTTL(ctx, ipKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	if min := win.Add(time.Hour).Sub(now); ttl < min || ttl > min+time.Hour {
		t.Fatalf("IP key TTL %v, want a little over %v", ttl, min)
	}
	fields, err := c.HGetAll(ctx, phoneKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	for f, v := range fields {
		if strings.Contains(v, string(hash)) {
			t.Fatalf("field %s holds the raw hash bytes; want hex", f)
		}
	}
	if fields["h"] != hex.EncodeToString(hash) {
		t.Fatalf("hash field %q, want hex of the code hash", fields["h"])
	}

	// A lock extends nothing beyond FailureTTL: the hash then lives for the
	// failure counter.
	for range p.MaxFailures {
		if _, err := s.Verify(ctx, "+8613800000001", []byte("wrong"), now); err != nil {
			t.Fatal(err)
		}
	}
	ttl, err = c.PTTL(ctx, phoneKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl < p.FailureTTL || ttl > p.FailureTTL+time.Hour {
		t.Fatalf("phone key TTL after lock %v, want a little over %v", ttl, p.FailureTTL)
	}
}

// TestRedisUnavailable checks that an outage is reported as
// backend.ErrUnavailable, quickly.
func TestRedisUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { _ = c.Close() })
	s := otp.NewRedis(kv.NewRedis(c, "test:"), otp.DefaultPolicy())
	now := time.Now()
	start := time.Now()
	_, err = s.Issue(context.Background(), otp.IssueRequest{Phone: "+8613800000001", CodeHash: []byte{1},
		Now: now, DayKey: "d", DayEnd: now.Add(time.Hour)})
	if !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("Issue: err %v, want ErrUnavailable", err)
	}
	_, err = s.Verify(context.Background(), "+8613800000001", []byte{1}, now)
	if !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("Verify: err %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v, want quick failure", d)
	}
}

// On a Redis Cluster whose nodes forgot their scripts, CheckRead (script
// and reads pipelined) still answers, loading the script again.
func TestRedisClusterCheckReadReloads(t *testing.T) {
	c := rediscluster.Start(t, rediscluster.Options{Masters: 3, NodeTimeout: 5 * time.Second})
	ctx := context.Background()
	rc, err := kv.OpenRedis(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	s := otp.NewRedis(kv.NewRedis(rc, "p:"), otp.DefaultPolicy())
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	if res, err := s.Issue(ctx, otp.IssueRequest{Phone: "+8613800000001", IP: "192.0.2.1", CodeHash: []byte("h"), Now: now,
		DayKey: "2026-12-07", DayEnd: now.Add(14 * time.Hour)}); err != nil || res.Outcome != otp.OK {
		t.Fatalf("issue: %v, %v", res, err)
	}
	if err := kv.NewRedis(rc, "p:").Set(ctx, "c:users:{u:1}", []byte("rec"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, a := range c.Addrs {
		if err := c.Node(t, a).ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
	res, vals, err := s.CheckRead(ctx, "+8613800000001", []byte("h"), now, []string{"c:users:{u:1}", "cg:users:{u:1}"})
	if err != nil || res.Outcome != otp.OK || len(vals) != 2 || string(vals[0]) != "rec" || vals[1] != nil {
		t.Fatalf("CheckRead after SCRIPT FLUSH: %v, %q, %v", res, vals, err)
	}
}
