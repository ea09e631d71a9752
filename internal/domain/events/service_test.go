package events_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// collector receives a stream's frames.
type collector struct {
	mu  sync.Mutex
	evs []events.Event
	got chan struct{}
}

func newCollector() *collector { return &collector{got: make(chan struct{}, 1<<16)} }

func (c *collector) send(_ context.Context, ev events.Event) error {
	c.mu.Lock()
	c.evs = append(c.evs, ev)
	c.mu.Unlock()
	c.got <- struct{}{}
	return nil
}

func (c *collector) seqs() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []int64{}
	for _, e := range c.evs {
		out = append(out, e.Seq)
	}
	return out
}

// waitN waits until n frames arrived.
func (c *collector) waitN(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		have := len(c.evs)
		c.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-c.got:
		case <-deadline:
			t.Fatalf("got %d frames %v, want %d", have, c.seqs(), n)
		}
	}
}

func seqRange(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func publish(t *testing.T, s *events.Service, to int64, n int) {
	t.Helper()
	for range n {
		if err := s.Publish(context.Background(), events.Outgoing{To: to, Type: events.TypeMatch, Data: map[string]int{"x": 1}}); err != nil {
			t.Fatal(err)
		}
	}
}

// A Key published twice gives one event.
func TestPublishKeyOnce(t *testing.T) {
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{})})
	c := newCollector()
	_, stop := attach(t, s, 6, 0, c)
	defer stop()
	for range 3 {
		if err := s.Publish(context.Background(), events.Outgoing{To: 6, Type: events.TypeMessage, Data: 1, Key: "m1"}); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, s, 6, 1)
	c.waitN(t, 2)
	time.Sleep(30 * time.Millisecond)
	if got := c.seqs(); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("frames = %v; want [1 2]", got)
	}
}

// services are the Service wirings, each as the service a stream is
// attached to and the one that publishes: in-process (the same), and Redis (two
// replicas' services sharing one Redis, with their fan-out receivers).
func services(t *testing.T) map[string]func(t *testing.T) (streamOn, publishOn *events.Service) {
	out := map[string]func(t *testing.T) (*events.Service, *events.Service){
		"memory": func(t *testing.T) (*events.Service, *events.Service) {
			s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{})})
			return s, s
		},
	}
	if os.Getenv("SWIPER_TEST_REDIS_URL") != "" {
		out["redis"] = func(t *testing.T) (*events.Service, *events.Service) {
			c, prefix := testenv.RedisClient(t)
			return redisService(t, c, prefix), redisService(t, c, prefix)
		}
	}
	return out
}

func redisService(t *testing.T, c redis.UniversalClient, prefix string) *events.Service {
	s := events.New(events.Deps{Log: events.NewRedis(c, prefix, clock.Real{}, events.Limits{}),
		Fanout: events.NewRedisFanout(c, prefix)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(50 * time.Millisecond) // subscribed
	return s
}

// When the fan-out's Redis connection is lost, what was published until
// it resubscribed never arrives through pub/sub: every stream then
// catches up from the log, so the socket misses nothing. (An event
// appended to the log without a fan-out stands for one published while
// the subscriber was away: only the catch-up can bring it.)
func TestRedisFanoutCatchUpAfterReconnect(t *testing.T) {
	url := os.Getenv("SWIPER_TEST_REDIS_URL")
	if url == "" {
		t.Skip("SWIPER_TEST_REDIS_URL not set")
	}
	c, prefix := testenv.RedisClient(t)
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Skipf("not a single-server URL: %v", err)
	}
	name := "evtest-" + strings.Trim(prefix, ":")
	opt.ClientName = name
	sub := redis.NewClient(opt) // the stream side's own client, to find its connection
	defer sub.Close()
	l := events.NewRedis(c, prefix, clock.Real{}, events.Limits{})
	s := events.New(events.Deps{Log: l, Fanout: events.NewRedisFanout(sub, prefix)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	p := redisService(t, c, prefix)
	col := newCollector()
	_, stop := attach(t, s, 9, 0, col)
	defer stop()
	time.Sleep(100 * time.Millisecond) // the fan-out subscribed
	publish(t, p, 9, 1)
	col.waitN(t, 1)
	if _, err := l.Append(context.Background(), events.Record{To: 9, Type: events.TypeMatch, Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if got := col.seqs(); len(got) != 1 {
		t.Fatalf("frames = %v before the reconnection", got)
	}

	list, err := c.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") || !strings.Contains(line, " sub=1 ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok {
				if err := c.ClientKillByFilter(context.Background(), "ID", id).Err(); err != nil {
					t.Fatal(err)
				}
				killed++
			}
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d subscriber connections; want 1\n%s", killed, list)
	}
	col.waitN(t, 2) // caught up from the log after resubscribing
	publish(t, p, 9, 1)
	col.waitN(t, 3)
	if got := col.seqs(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("frames = %v; want 1 2 3", got)
	}
}
