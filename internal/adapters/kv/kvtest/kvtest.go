// Package kvtest is the contract test every kv.Store implementation passes.
package kvtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Factory returns a fresh, isolated store for one subtest. When the store
// judges expiry by a fake clock it returns that clock, and the suite
// advances it; otherwise it returns nil and the suite sleeps in real time
// (TTLs are kept well under a second).
type Factory func(t *testing.T) (kv.Store, *clock.Fake)

// ttl is the expiry used by the TTL subtests: short enough to sleep through
// on a real Redis, long enough not to lapse between two commands.
const ttl = 400 * time.Millisecond

// Run runs the contract suite against stores made by newStore. Subtests run
// in parallel, each with its own store.
func Run(t *testing.T, newStore Factory) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s kv.Store, pass func(time.Duration))
	}{
		{"GetMissing", testGetMissing},
		{"SetGet", testSetGet},
		{"Overwrite", testOverwrite},
		{"EmptyValue", testEmptyValue},
		{"MGet", testMGet},
		{"Del", testDel},
		{"TTLExpiry", testTTLExpiry},
		{"OverwriteClearsTTL", testOverwriteClearsTTL},
		{"IncrFromMissing", testIncrFromMissing},
		{"IncrConcurrent", testIncrConcurrent},
		{"IncrSetsTTL", testIncrSetsTTL},
		{"IncrNotInteger", testIncrNotInteger},
		{"ValuesAreCopies", testValuesAreCopies},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, fake := newStore(t)
			pass := func(d time.Duration) {
				if fake != nil {
					fake.Advance(d)
					return
				}
				time.Sleep(d)
			}
			tc.fn(t, s, pass)
		})
	}
}

func mustSet(t *testing.T, s kv.Store, key, value string, ttl time.Duration) {
	t.Helper()
	if err := s.Set(t.Context(), key, []byte(value), ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func wantValue(t *testing.T, s kv.Store, key, want string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if string(got) != want {
		t.Fatalf("Get(%q) = %q, want %q", key, got, want)
	}
}

func wantNotFound(t *testing.T, s kv.Store, key string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want kv.ErrNotFound", key, got, err)
	}
	if errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("Get(%q): not found must not look like an outage: %v", key, err)
	}
}

func testGetMissing(t *testing.T, s kv.Store, _ func(time.Duration)) {
	wantNotFound(t, s, "missing")
}

func testSetGet(t *testing.T, s kv.Store, _ func(time.Duration)) {
	mustSet(t, s, "a", "hello", 0)
	wantValue(t, s, "a", "hello")
	bin := string([]byte{0, 1, 2, 0xff, '\n'})
	mustSet(t, s, "bin", bin, 0)
	wantValue(t, s, "bin", bin)
}

func testOverwrite(t *testing.T, s kv.Store, _ func(time.Duration)) {
	mustSet(t, s, "a", "one", 0)
	mustSet(t, s, "a", "two", 0)
	wantValue(t, s, "a", "two")
}

func testEmptyValue(t *testing.T, s kv.Store, _ func(time.Duration)) {
	mustSet(t, s, "empty", "", 0)
	wantValue(t, s, "empty", "")
	got, err := s.MGet(t.Context(), "empty", "missing")
	if err != nil {
		t.Fatalf("MGet: %v", err)
	}
	if got[0] == nil || len(got[0]) != 0 || got[1] != nil {
		t.Fatalf("MGet(empty, missing) = %#v, want [[] nil]", got)
	}
}

func testMGet(t *testing.T, s kv.Store, _ func(time.Duration)) {
	mustSet(t, s, "k1", "v1", 0)
	mustSet(t, s, "k3", "v3", 0)
	got, err := s.MGet(t.Context(), "k1", "k2", "k3", "k1")
	if err != nil {
		t.Fatalf("MGet: %v", err)
	}
	want := [][]byte{[]byte("v1"), nil, []byte("v3"), []byte("v1")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("MGet mismatch (-want +got):\n%s", diff)
	}
	if got[1] != nil {
		t.Fatalf("MGet gap = %#v, want nil", got[1])
	}
	none, err := s.MGet(t.Context())
	if err != nil || len(none) != 0 {
		t.Fatalf("MGet() = %v, %v; want empty, nil", none, err)
	}
}

func testDel(t *testing.T, s kv.Store, _ func(time.Duration)) {
	mustSet(t, s, "d1", "x", 0)
	mustSet(t, s, "d2", "y", 0)
	mustSet(t, s, "keep", "z", 0)
	if err := s.Del(t.Context(), "d1", "d2", "absent"); err != nil {
		t.Fatalf("Del: %v", err)
	}
	wantNotFound(t, s, "d1")
	wantNotFound(t, s, "d2")
	wantValue(t, s, "keep", "z")
	if err := s.Del(t.Context()); err != nil {
		t.Fatalf("Del(): %v", err)
	}
	if err := s.Del(t.Context(), "absent"); err != nil {
		t.Fatalf("Del(absent): %v", err)
	}
}

func testTTLExpiry(t *testing.T, s kv.Store, pass func(time.Duration)) {
	mustSet(t, s, "short", "v", ttl)
	mustSet(t, s, "forever", "v", 0)
	mustSet(t, s, "negative", "v", -time.Second) // <= 0: no expiry
	wantValue(t, s, "short", "v")
	pass(ttl + ttl/2)
	wantNotFound(t, s, "short")
	wantValue(t, s, "forever", "v")
	wantValue(t, s, "negative", "v")
	got, err := s.MGet(t.Context(), "short", "forever")
	if err != nil {
		t.Fatalf("MGet: %v", err)
	}
	if got[0] != nil || string(got[1]) != "v" {
		t.Fatalf("MGet after expiry = %q, want [nil v]", got)
	}
}

func testOverwriteClearsTTL(t *testing.T, s kv.Store, pass func(time.Duration)) {
	mustSet(t, s, "k", "old", ttl)
	mustSet(t, s, "k", "new", 0)
	pass(ttl + ttl/2)
	wantValue(t, s, "k", "new")
}

func testIncrFromMissing(t *testing.T, s kv.Store, _ func(time.Duration)) {
	for want := int64(1); want <= 3; want++ {
		n, err := s.Incr(t.Context(), "ctr", 0)
		if err != nil {
			t.Fatalf("Incr: %v", err)
		}
		if n != want {
			t.Fatalf("Incr = %d, want %d", n, want)
		}
	}
	wantValue(t, s, "ctr", "3") // counters are decimal text, as in Redis
	mustSet(t, s, "preset", "41", 0)
	if n, err := s.Incr(t.Context(), "preset", 0); err != nil || n != 42 {
		t.Fatalf("Incr(preset 41) = %d, %v; want 42", n, err)
	}
}

func testIncrConcurrent(t *testing.T, s kv.Store, _ func(time.Duration)) {
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	seen := make(chan int64, n)
	for range n {
		wg.Go(func() {
			v, err := s.Incr(t.Context(), "hot", time.Minute)
			if err != nil {
				errs <- err
				return
			}
			seen <- v
		})
	}
	wg.Wait()
	close(errs)
	close(seen)
	for err := range errs {
		t.Fatalf("Incr: %v", err)
	}
	uniq := make(map[int64]bool, n)
	for v := range seen {
		if uniq[v] {
			t.Fatalf("Incr returned %d twice", v)
		}
		uniq[v] = true
	}
	wantValue(t, s, "hot", fmt.Sprint(n))
}

func testIncrSetsTTL(t *testing.T, s kv.Store, pass func(time.Duration)) {
	if _, err := s.Incr(t.Context(), "win", ttl); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	if n, err := s.Incr(t.Context(), "win", ttl); err != nil || n != 2 {
		t.Fatalf("second Incr = %d, %v; want 2", n, err)
	}
	// A counter without ttl keeps no expiry.
	if _, err := s.Incr(t.Context(), "plain", 0); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	pass(ttl + ttl/2)
	wantNotFound(t, s, "win")
	wantValue(t, s, "plain", "1")
	if n, err := s.Incr(t.Context(), "win", ttl); err != nil || n != 1 {
		t.Fatalf("Incr after expiry = %d, %v; want 1", n, err)
	}
}

func testIncrNotInteger(t *testing.T, s kv.Store, _ func(time.Duration)) {
	mustSet(t, s, "text", "abc", 0)
	_, err := s.Incr(t.Context(), "text", time.Minute)
	if err == nil {
		t.Fatal("Incr on a non-integer value succeeded")
	}
	if errors.Is(err, backend.ErrUnavailable) || errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("Incr on a non-integer value: %v; want a plain error", err)
	}
	wantValue(t, s, "text", "abc")
}

func testValuesAreCopies(t *testing.T, s kv.Store, _ func(time.Duration)) {
	in := []byte("original")
	if err := s.Set(t.Context(), "c", in, 0); err != nil {
		t.Fatalf("Set: %v", err)
	}
	copy(in, "XXXXXXXX")
	out, err := s.Get(t.Context(), "c")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(out) != "original" {
		t.Fatalf("Get after mutating the input = %q, want %q", out, "original")
	}
	copy(out, "YYYYYYYY")
	wantValue(t, s, "c", "original")
	many, err := s.MGet(t.Context(), "c")
	if err != nil {
		t.Fatalf("MGet: %v", err)
	}
	copy(many[0], "ZZZZZZZZ")
	wantValue(t, s, "c", "original")
}

func testPing(t *testing.T, s kv.Store, _ func(time.Duration)) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
