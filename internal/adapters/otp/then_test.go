package otp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/otp"
)

type (
	verifyThen func(s *otp.Redis, ctx context.Context, phone string, hash []byte, now time.Time, then otp.Then) (otp.Result, error)
	checkRead  func(s *otp.Redis, ctx context.Context, phone string, hash []byte, now time.Time, keys []string) (otp.Result, [][]byte, error)
)

// VerifyThen sets its key only with a successful verification, as a key of
// the kv.Store with the same prefix: in one script, and the way it does on
// a Redis Cluster (the set, the script, and the set undone unless the code
// was consumed).
func TestRedisVerifyThen(t *testing.T) {
	for name, vt := range map[string]verifyThen{
		"Script": (*otp.Redis).VerifyThen,
		"Apart":  otp.VerifyThenApart,
	} {
		t.Run(name, func(t *testing.T) { testVerifyThen(t, vt) })
	}
}

// CheckRead reads its keys only with a matching code, and consumes
// nothing: in one script, and the ways it does on a Redis Cluster (script
// and reads in one pipeline; script then reads).
func TestRedisCheckRead(t *testing.T) {
	for name, cr := range map[string]checkRead{
		"Script": (*otp.Redis).CheckRead,
		"Apart":  otp.CheckReadApart,
		"Steps":  otp.CheckReadSteps,
	} {
		t.Run(name, func(t *testing.T) { testCheckRead(t, cr) })
	}
}

// redisRig is a Redis code store and the kv.Store on the same prefix.
type redisRig struct {
	t     *testing.T
	s     *otp.Redis
	store *kv.Redis
	p     otp.Policy
	now   time.Time
}

const thenPhone = "+8613800000001"

func newRedisRig(t *testing.T) *redisRig {
	c, prefix := redisClient(t)
	p := otp.DefaultPolicy()
	return &redisRig{t: t, s: otp.NewRedis(kv.NewRedis(c, prefix), p), store: kv.NewRedis(c, prefix), p: p,
		now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
}

func (r *redisRig) issue(hash string) {
	r.t.Helper()
	res, err := r.s.Issue(context.Background(), otp.IssueRequest{Phone: thenPhone, CodeHash: []byte(hash), Now: r.now,
		DayKey: "2026-12-07", DayEnd: r.now.Add(14 * time.Hour)})
	if err != nil || res.Outcome != otp.OK {
		r.t.Fatalf("issue: %v, %v", res, err)
	}
}

func (r *redisRig) absent(key string) {
	r.t.Helper()
	if _, err := r.store.Get(context.Background(), key); !errors.Is(err, kv.ErrNotFound) {
		r.t.Fatalf("%s exists (err %v); nothing may be set without a successful verification", key, err)
	}
}

func testVerifyThen(t *testing.T, verify verifyThen) {
	r := newRedisRig(t)
	ctx := context.Background()
	then := func(key string, ttl time.Duration) otp.Then {
		return otp.Then{Key: key, Value: []byte(`{"uid":1}`), TTL: ttl}
	}

	r.issue("h1")
	res, err := verify(r.s, ctx, thenPhone, []byte("h2"), r.now, then("sess:a", time.Hour))
	if err != nil || res.Outcome != otp.WrongCode {
		t.Fatalf("wrong code: %v, %v", res, err)
	}
	r.absent("sess:a")

	res, err = verify(r.s, ctx, thenPhone, []byte("h1"), r.now, then("sess:b", time.Hour))
	if err != nil || res.Outcome != otp.OK {
		t.Fatalf("right code: %v, %v", res, err)
	}
	if v, err := r.store.Get(ctx, "sess:b"); err != nil || string(v) != `{"uid":1}` {
		t.Fatalf("session through kv: %q, %v", v, err)
	}

	// The code was consumed: a second use sets nothing.
	res, err = verify(r.s, ctx, thenPhone, []byte("h1"), r.now, then("sess:c", time.Hour))
	if err != nil || res.Outcome != otp.NoCode {
		t.Fatalf("reused code: %v, %v", res, err)
	}
	r.absent("sess:c")

	// No expiry.
	r.now = r.now.Add(r.p.Interval)
	r.issue("h3")
	if res, err := verify(r.s, ctx, thenPhone, []byte("h3"), r.now, then("sess:d", 0)); err != nil || res.Outcome != otp.OK {
		t.Fatalf("no TTL: %v, %v", res, err)
	}
	if _, err := r.store.Get(ctx, "sess:d"); err != nil {
		t.Fatalf("session without TTL: %v", err)
	}

	// Locked: nothing set, even with the right code.
	r.now = r.now.Add(r.p.Interval)
	r.issue("h5")
	for range r.p.MaxFailures {
		if _, err := verify(r.s, ctx, thenPhone, []byte("bad"), r.now, then("sess:e", time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	res, err = verify(r.s, ctx, thenPhone, []byte("h5"), r.now, then("sess:f", time.Hour))
	if err != nil || res.Outcome != otp.Locked || res.RetryAfter <= 0 {
		t.Fatalf("locked: %v, %v", res, err)
	}
	r.absent("sess:e")
	r.absent("sess:f")

	if _, err := verify(r.s, ctx, "", []byte("h"), r.now, then("sess:g", time.Hour)); !errors.Is(err, otp.ErrInvalid) {
		t.Fatalf("empty phone: %v, want ErrInvalid", err)
	}
}

func testCheckRead(t *testing.T, check checkRead) {
	r := newRedisRig(t)
	ctx := context.Background()
	if err := r.store.Set(ctx, "c:user:1", []byte(`{"x":1}`), time.Hour); err != nil {
		t.Fatal(err)
	}
	keys := []string{"c:user:1", "cg:user:1"}

	r.issue("h1")
	res, vals, err := check(r.s, ctx, thenPhone, []byte("h2"), r.now, keys)
	if err != nil || res.Outcome != otp.WrongCode || vals != nil {
		t.Fatalf("wrong code: %v, %q, %v", res, vals, err)
	}
	// A match reads, and consumes nothing: it matches again, and Verify
	// consumes it then.
	for i := range 2 {
		res, vals, err = check(r.s, ctx, thenPhone, []byte("h1"), r.now, keys)
		if err != nil || res.Outcome != otp.OK {
			t.Fatalf("right code #%d: %v, %v", i+1, res, err)
		}
		if len(vals) != 2 || string(vals[0]) != `{"x":1}` || vals[1] != nil {
			t.Fatalf("values %q, want the entry and nil", vals)
		}
	}
	if res, err := r.s.Verify(ctx, thenPhone, []byte("h1"), r.now); err != nil || res.Outcome != otp.OK {
		t.Fatalf("verify after the checks: %v, %v", res, err)
	}
	res, vals, err = check(r.s, ctx, thenPhone, []byte("h1"), r.now, keys)
	if err != nil || res.Outcome != otp.NoCode || vals != nil {
		t.Fatalf("consumed code: %v, %q, %v", res, vals, err)
	}
	// The wrong code of the first check counted: with MaxFailures-2 more,
	// one wrong Verify locks (the successful Verify reset it, so a new
	// code's round starts from 0 — check that the reset happened).
	r.now = r.now.Add(r.p.Interval)
	r.issue("h3")
	for i := range r.p.MaxFailures - 1 {
		if res, _, err := check(r.s, ctx, thenPhone, []byte("bad"), r.now, keys); err != nil || res.Outcome != otp.WrongCode {
			t.Fatalf("wrong check #%d: %v, %v", i+1, res, err)
		}
	}
	res, vals, err = check(r.s, ctx, thenPhone, []byte("bad"), r.now, keys)
	if err != nil || res.Outcome != otp.Locked || vals != nil {
		t.Fatalf("wrong check #%d: %v, %q, %v; want Locked", r.p.MaxFailures, res, vals, err)
	}
}
