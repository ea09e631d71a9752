package otp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/kv"
	"github.com/swiper-social/swiper/internal/otp"
)

type verifyThen func(s *otp.Redis, ctx context.Context, phone string, hash []byte, now time.Time, then otp.Then) (otp.Result, [][]byte, error)

// VerifyThen does Then only with a successful verification, on the keys
// of the kv.Store with the same prefix: in one script, and the way it does
// on a Redis Cluster (script, then pipeline).
func TestRedisVerifyThen(t *testing.T) {
	for name, vt := range map[string]verifyThen{
		"Script": (*otp.Redis).VerifyThen,
		"Apart":  otp.VerifyThenApart,
	} {
		t.Run(name, func(t *testing.T) { testVerifyThen(t, vt) })
	}
}

func testVerifyThen(t *testing.T, verify verifyThen) {
	c, prefix := redisClient(t)
	ctx := context.Background()
	p := otp.DefaultPolicy()
	s := otp.NewRedis(c, prefix, p)
	store := kv.NewRedis(c, prefix)
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	const phone = "+8613800000001"
	issue := func(hash string) {
		t.Helper()
		res, err := s.Issue(ctx, otp.IssueRequest{Phone: phone, CodeHash: []byte(hash), Now: now,
			DayKey: "2026-12-07", DayEnd: now.Add(14 * time.Hour)})
		if err != nil || res.Outcome != otp.OK {
			t.Fatalf("issue: %v, %v", res, err)
		}
	}
	absent := func(key string) {
		t.Helper()
		if _, err := store.Get(ctx, key); !errors.Is(err, kv.ErrNotFound) {
			t.Fatalf("%s exists (err %v); nothing may be set without a successful verification", key, err)
		}
	}
	if err := store.Set(ctx, "c:user:1", []byte(`{"x":1}`), time.Hour); err != nil {
		t.Fatal(err)
	}
	then := func(key string, ttl time.Duration) otp.Then {
		return otp.Then{Key: key, Value: []byte(`{"uid":1}`), TTL: ttl, Get: []string{"c:user:1", "cg:user:1"}}
	}

	issue("h1")
	res, vals, err := verify(s, ctx, phone, []byte("h2"), now, then("sess:a", time.Hour))
	if err != nil || res.Outcome != otp.WrongCode || vals != nil {
		t.Fatalf("wrong code: %v, %q, %v", res, vals, err)
	}
	absent("sess:a")

	res, vals, err = verify(s, ctx, phone, []byte("h1"), now, then("sess:b", time.Hour))
	if err != nil || res.Outcome != otp.OK {
		t.Fatalf("right code: %v, %v", res, err)
	}
	if len(vals) != 2 || string(vals[0]) != `{"x":1}` || vals[1] != nil {
		t.Fatalf("values %q, want the entry and nil", vals)
	}
	if v, err := store.Get(ctx, "sess:b"); err != nil || string(v) != `{"uid":1}` {
		t.Fatalf("session through kv: %q, %v", v, err)
	}
	if ttl := c.PTTL(ctx, prefix+"sess:b").Val(); ttl < time.Hour-time.Minute || ttl > time.Hour {
		t.Fatalf("session TTL %v, want 1h", ttl)
	}

	// The code was consumed: a second use sets nothing.
	res, vals, err = verify(s, ctx, phone, []byte("h1"), now, then("sess:c", time.Hour))
	if err != nil || res.Outcome != otp.NoCode || vals != nil {
		t.Fatalf("reused code: %v, %q, %v", res, vals, err)
	}
	absent("sess:c")

	// No expiry, and reads without a write.
	now = now.Add(p.Interval)
	issue("h3")
	if res, _, err := verify(s, ctx, phone, []byte("h3"), now, then("sess:d", 0)); err != nil || res.Outcome != otp.OK {
		t.Fatalf("no TTL: %v, %v", res, err)
	}
	if ttl := c.PTTL(ctx, prefix+"sess:d").Val(); ttl != -1 {
		t.Fatalf("session TTL %v, want none", ttl)
	}
	now = now.Add(p.Interval)
	issue("h4")
	res, vals, err = verify(s, ctx, phone, []byte("h4"), now, otp.Then{Get: []string{"c:user:1"}})
	if err != nil || res.Outcome != otp.OK || len(vals) != 1 || string(vals[0]) != `{"x":1}` {
		t.Fatalf("reads only: %v, %q, %v", res, vals, err)
	}

	// Locked: nothing set, even with the right code.
	now = now.Add(p.Interval)
	issue("h5")
	for range p.MaxFailures {
		if _, _, err := verify(s, ctx, phone, []byte("bad"), now, then("sess:e", time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	res, vals, err = verify(s, ctx, phone, []byte("h5"), now, then("sess:f", time.Hour))
	if err != nil || res.Outcome != otp.Locked || res.RetryAfter <= 0 || vals != nil {
		t.Fatalf("locked: %v, %q, %v", res, vals, err)
	}
	absent("sess:e")
	absent("sess:f")

	if _, _, err := verify(s, ctx, "", []byte("h"), now, then("sess:g", time.Hour)); !errors.Is(err, otp.ErrInvalid) {
		t.Fatalf("empty phone: %v, want ErrInvalid", err)
	}
}
