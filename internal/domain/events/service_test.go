package events_test

import (
	"context"
	"errors"
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

func stream(t *testing.T, s *events.Service, user, since int64, c *collector) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Stream(ctx, user, since, c.send) }()
	return func() error { cancel(); return <-done }
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

// Events published while a stream replays are neither lost nor repeated:
// the stream subscribes before it reads the log and drops what it sent.
func TestStreamReplayThenLiveNoLossNoRepeat(t *testing.T) {
	for name, svc := range services(t) {
		t.Run(name, func(t *testing.T) {
			s, p := svc(t)
			publish(t, p, 1, 50)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); publish(t, p, 1, 150) }()
			c := newCollector()
			stop := stream(t, s, 1, 10, c)
			wg.Wait()
			c.waitN(t, 190)
			time.Sleep(50 * time.Millisecond) // nothing more may come
			if err := stop(); !errors.Is(err, context.Canceled) {
				t.Fatalf("stream ended with %v", err)
			}
			if got := c.seqs(); !slices.Equal(got, seqRange(11, 200)) {
				t.Fatalf("frames = %v; want 11..200 once each, in order", got)
			}
		})
	}
}

// Parallel publishes to one user reach an open stream as 1..N, in order.
func TestStreamParallelPublishesInOrder(t *testing.T) {
	for name, svc := range services(t) {
		t.Run(name, func(t *testing.T) {
			s, p := svc(t)
			c := newCollector()
			stop := stream(t, s, 2, 0, c)
			defer stop()
			time.Sleep(20 * time.Millisecond)
			var wg sync.WaitGroup
			for range 10 {
				wg.Add(1)
				go func() { defer wg.Done(); publish(t, p, 2, 10) }()
			}
			wg.Wait()
			c.waitN(t, 100)
			if got := c.seqs(); !slices.Equal(got, seqRange(1, 100)) {
				t.Fatalf("frames = %v; want 1..100", got)
			}
		})
	}
}

// When events after since were dropped, the first frame is resync with
// the latest seq; live events follow it.
func TestStreamResync(t *testing.T) {
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{Cap: 3})})
	publish(t, s, 3, 6)
	c := newCollector()
	stop := stream(t, s, 3, 2, c)
	defer stop()
	c.waitN(t, 1)
	publish(t, s, 3, 1)
	c.waitN(t, 2)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.evs[0].Type != events.TypeResync || c.evs[0].Seq != 6 || c.evs[1].Seq != 7 {
		t.Fatalf("frames = %+v; want resync (seq 6) then 7", c.evs)
	}
}

// A since above the latest seq replays nothing, and what comes next is
// sent (the log may have lost its state: seqs restart).
func TestStreamSinceAboveLatest(t *testing.T) {
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{})})
	publish(t, s, 4, 2)
	c := newCollector()
	stop := stream(t, s, 4, 99, c)
	defer stop()
	time.Sleep(30 * time.Millisecond)
	if n := len(c.seqs()); n != 0 {
		t.Fatalf("replayed %d frames", n)
	}
	publish(t, s, 4, 1)
	c.waitN(t, 1)
	if got := c.seqs(); !slices.Equal(got, []int64{3}) {
		t.Fatalf("frames = %v", got)
	}
}

// A subscriber that does not keep up is cut off, not buffered without bound.
func TestStreamSlowConsumerCutOff(t *testing.T) {
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{}), Buffer: 4})
	block := make(chan struct{})
	started := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.Stream(context.Background(), 5, 0, func(ctx context.Context, _ events.Event) error {
			select {
			case started <- struct{}{}:
			default:
			}
			select {
			case <-block:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	time.Sleep(20 * time.Millisecond) // subscribed
	publish(t, s, 5, 1)
	<-started // the first frame's write hangs
	publish(t, s, 5, 10)
	select {
	case err := <-done:
		if !errors.Is(err, events.ErrSlowConsumer) {
			t.Fatalf("stream ended with %v; want ErrSlowConsumer", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a stuck subscriber was not cut off")
	}
	close(block)
}

// A Key published twice gives one event.
func TestPublishKeyOnce(t *testing.T) {
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{})})
	c := newCollector()
	stop := stream(t, s, 6, 0, c)
	defer stop()
	time.Sleep(20 * time.Millisecond)
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

// services are the Service wirings, each as the service a stream runs on
// and the one that publishes: in-process (the same), and Redis (two
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
	stop := stream(t, s, 9, 0, col)
	defer stop()
	time.Sleep(100 * time.Millisecond)
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

// When the log lost its state under an open stream (a Redis restart
// without its last writes), new events reuse seqs the client has seen:
// the catch-up after the fan-out reconnects tells the client to reload
// (resync at the latest seq) instead of silently dropping them.
func TestStreamResyncWhenTheLogLostItsState(t *testing.T) {
	log := events.NewMemory(clock.Real{}, events.Limits{})
	hub := events.NewHub(nil)
	s := events.New(events.Deps{Log: log, Hub: hub})
	c := newCollector()
	stop := stream(t, s, 7, 0, c)
	defer stop()
	time.Sleep(20 * time.Millisecond)
	publish(t, s, 7, 5)
	c.waitN(t, 5)
	if err := log.Forget(context.Background(), 7); err != nil {
		t.Fatal(err)
	}
	publish(t, s, 7, 2) // seqs 1 and 2 again: dropped as seen by the live path
	hub.PokeAll()       // what the fan-out does when it reconnects
	c.waitN(t, 6)
	c.mu.Lock()
	last := c.evs[len(c.evs)-1]
	c.mu.Unlock()
	if last.Type != events.TypeResync || last.Seq != 2 {
		t.Fatalf("last frame = %+v; want a resync at seq 2", last)
	}
	publish(t, s, 7, 1)
	c.waitN(t, 7)
	if got := c.seqs(); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 2, 3}) {
		t.Fatalf("frames = %v; want 1..5, resync at 2, then 3", got)
	}
}
