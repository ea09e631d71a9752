package kv_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// countHook counts a client's MGETs sent alone and its pipelines of
// MGETs (with how many they carried), and can hold the first MGET sent
// alone until released.
type countHook struct {
	singles, pipelines, piped atomic.Int64
	hold                      chan struct{} // nil: hold nothing
	held                      atomic.Bool
	panics                    atomic.Bool // the next pipeline of MGETs panics
}

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "mget" {
			h.singles.Add(1)
			if h.hold != nil && h.held.CompareAndSwap(false, true) {
				<-h.hold
			}
		}
		return next(ctx, cmd)
	}
}

func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		n := 0
		for _, c := range cmds {
			if c.Name() == "mget" {
				n++
			}
		}
		if n > 0 { // not a connection's handshake
			h.pipelines.Add(1)
			h.piped.Add(int64(n))
			if h.panics.CompareAndSwap(true, false) {
				panic("pipeline hook")
			}
		}
		return next(ctx, cmds)
	}
}

// MGETs of concurrent callers go out together, one pipeline while a round
// trip is in flight, and each caller gets its own keys' values — also the
// callers whose contexts end while they wait.
func TestMGetsShareRoundTrips(t *testing.T) {
	url := testenv.RedisURL(t)
	client, err := kv.OpenRedis(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	prefix := "swiper-test:mgets:" + rand.Text() + ":"
	defer testenv.DeleteRedisKeys(t, url, prefix+"*")
	const callers = 50
	s := kv.NewRedis(client, prefix)
	for i := range callers {
		if err := s.Set(t.Context(), "{u:"+strconv.Itoa(i)+"}k", []byte("v"+strconv.Itoa(i)), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	h := &countHook{hold: make(chan struct{})}
	client.AddHook(h)

	// The first caller's MGET is held in flight until the others queued.
	var wg sync.WaitGroup
	got := make([][][]byte, callers)
	errs := make([]error, callers)
	mget := func(i int, ctx context.Context) {
		defer wg.Done()
		// Two keys of one slot (a user's keys share a hash tag): one MGET
		// on a Redis Cluster too.
		tag := "{u:" + strconv.Itoa(i) + "}"
		got[i], errs[i] = s.MGet(ctx, tag+"k", tag+"missing")
	}
	wg.Add(1)
	go mget(0, t.Context())
	waitFor(t, "the first MGET in flight", h.held.Load)
	gone, cancel := context.WithCancel(t.Context())
	for i := 1; i < callers; i++ {
		wg.Add(1)
		ctx := t.Context()
		if i%7 == 0 {
			ctx = gone
		}
		go mget(i, ctx)
	}
	waitFor(t, "the others queued", func() bool { return kv.QueuedMGets(s) == callers-1 })
	cancel()
	close(h.hold)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || len(got[i]) != 2 || string(got[i][0]) != "v"+strconv.Itoa(i) || got[i][1] != nil {
			t.Errorf("caller %d: %q, %v", i, got[i], errs[i])
		}
	}
	if s, p, n := h.singles.Load(), h.pipelines.Load(), h.piped.Load(); s != 1 || p != 1 || n != callers-1 {
		t.Errorf("round trips: %d mget commands, %d pipelines of %d; want 1 alone then 1 pipeline of %d", s, p, n, callers-1)
	}

	// A caller alone sends its MGET alone, at once.
	if v, err := s.MGet(t.Context(), "{u:3}k"); err != nil || string(v[0]) != "v3" {
		t.Fatalf("alone: %q, %v", v, err)
	}
	if s, p := h.singles.Load(), h.pipelines.Load(); s != 2 || p != 1 {
		t.Fatalf("a caller alone: %d mget commands, %d pipelines; want 2, 1", s, p)
	}
}

// A panic while sending a pipeline reaches its sender; the callers it
// carried get an error, and the next MGET is sent (nobody waits forever).
func TestMGetsPanicPassesTheTurn(t *testing.T) {
	url := testenv.RedisURL(t)
	client, err := kv.OpenRedis(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	s := kv.NewRedis(client, "swiper-test:mgets:"+rand.Text()+":")
	h := &countHook{hold: make(chan struct{})}
	h.panics.Store(true)
	client.AddHook(h)
	const callers = 10
	var wg sync.WaitGroup
	errs := make([]error, callers)
	var panicked atomic.Int64
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if recover() != nil {
					panicked.Add(1)
				}
			}()
			_, errs[i] = s.MGet(t.Context(), "{u:1}a")
		}()
		if i == 0 {
			waitFor(t, "the first MGET in flight", h.held.Load)
		}
	}
	waitFor(t, "the others queued", func() bool { return kv.QueuedMGets(s) == callers-1 })
	close(h.hold)
	wg.Wait()
	failed := 0
	for _, err := range errs[1:] {
		if err != nil {
			failed++
		}
	}
	// The first waiter sent the pipeline of the 9 and panicked; the 8
	// others it carried failed.
	if errs[0] != nil || panicked.Load() != 1 || failed != callers-2 {
		t.Fatalf("first %v, %d panicked, %d failed; want nil, 1, %d", errs[0], panicked.Load(), failed, callers-2)
	}
	if _, err := s.MGet(t.Context(), "{u:1}a"); err != nil {
		t.Fatalf("after the panic: %v", err)
	}
}

// When Redis is unreachable every waiting caller gets the outage
// (backend.ErrUnavailable), and none waits for another forever.
func TestMGetsOutage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	client := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer client.Close()
	s := kv.NewRedis(client, "p:")
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.MGet(t.Context(), "a", "b")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Errorf("caller %d: %v, want unavailable", i, err)
		}
	}
}
