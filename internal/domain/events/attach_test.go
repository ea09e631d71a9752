package events_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// attach attaches c to user's stream; stop cancels it and returns the
// error it ended with (end is called exactly once).
func attach(t *testing.T, s *events.Service, user, since int64, c *collector) (ended <-chan error, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	s.Attach(ctx, user, since, c.send, func(err error) { done <- err })
	return done, func() error {
		cancel()
		err := <-done
		select {
		case again := <-done:
			t.Errorf("end called twice (%v, then %v)", err, again)
		case <-time.After(20 * time.Millisecond):
		}
		return err
	}
}

// Attach sends the replay then live events, none lost or repeated, in
// order: also those published during the replay (it subscribes before it
// reads the log and drops what it sent already), and those published in
// parallel, from many goroutines, to an idle attached stream.
func TestAttachReplayThenLiveNoLossNoRepeat(t *testing.T) {
	for name, svc := range services(t) {
		t.Run(name, func(t *testing.T) {
			s, p := svc(t)
			publish(t, p, 1, 50)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); publish(t, p, 1, 150) }()
			c := newCollector()
			_, stop := attach(t, s, 1, 10, c)
			wg.Wait()
			c.waitN(t, 190) // idle again: the parallel publishes wake it
			for range 10 {
				wg.Add(1)
				go func() { defer wg.Done(); publish(t, p, 1, 10) }()
			}
			wg.Wait()
			c.waitN(t, 290)
			time.Sleep(50 * time.Millisecond) // nothing more may come
			if err := stop(); !errors.Is(err, context.Canceled) {
				t.Fatalf("stream ended with %v", err)
			}
			if got := c.seqs(); !slices.Equal(got, seqRange(11, 300)) {
				t.Fatalf("frames = %v; want 11..300 once each, in order", got)
			}
		})
	}
}

// When events after since were dropped, the first frame is resync with
// the latest seq; live events follow it.
func TestAttachResync(t *testing.T) {
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{Cap: 3})})
	publish(t, s, 3, 6)
	c := newCollector()
	_, stop := attach(t, s, 3, 2, c)
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
func TestAttachSinceAboveLatest(t *testing.T) {
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{})})
	publish(t, s, 4, 2)
	c := newCollector()
	_, stop := attach(t, s, 4, 99, c)
	defer stop()
	if got := c.seqs(); len(got) != 0 { // Attach replays before it returns
		t.Fatalf("replayed %v", got)
	}
	publish(t, s, 4, 1)
	c.waitN(t, 1)
	if got := c.seqs(); !slices.Equal(got, []int64{3}) {
		t.Fatalf("frames = %v", got)
	}
}

// dropFanout loses every event: only a catch-up from the log brings them.
type dropFanout struct{}

func (dropFanout) Send(context.Context, []events.Stored) error { return nil }
func (dropFanout) Run(ctx context.Context, _ *events.Hub)      { <-ctx.Done() }

// A poke (the fan-out reconnected) makes an idle attached stream catch up
// from the log.
func TestAttachCatchUpOnPoke(t *testing.T) {
	hub := events.NewHub(nil)
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{}), Hub: hub, Fanout: dropFanout{}})
	c := newCollector()
	_, stop := attach(t, s, 7, 0, c)
	defer stop()
	publish(t, s, 7, 3)
	time.Sleep(30 * time.Millisecond)
	if got := c.seqs(); len(got) != 0 {
		t.Fatalf("frames = %v before the poke", got)
	}
	hub.PokeAll()
	c.waitN(t, 3)
	if got := c.seqs(); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("frames = %v; want 1 2 3", got)
	}
}

// When the log lost its state under an attached stream (a Redis restart
// without its last writes), new events reuse seqs the client has seen:
// the catch-up after the fan-out reconnects tells the client to reload
// (resync at the latest seq) instead of silently dropping them.
func TestAttachResyncWhenTheLogLostItsState(t *testing.T) {
	log := events.NewMemory(clock.Real{}, events.Limits{})
	hub := events.NewHub(nil)
	s := events.New(events.Deps{Log: log, Hub: hub})
	c := newCollector()
	_, stop := attach(t, s, 7, 0, c)
	defer stop()
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

// A subscriber that does not keep up is cut off (ErrSlowConsumer), even
// while its write hangs.
func TestAttachSlowConsumerCutOff(t *testing.T) {
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{}), Buffer: 4})
	block := make(chan struct{})
	defer close(block)
	started := make(chan struct{}, 1)
	done := make(chan error, 2)
	s.Attach(context.Background(), 5, 0, func(ctx context.Context, _ events.Event) error {
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
	}, func(err error) { done <- err })
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
}

// An attached stream with nothing to send holds no goroutine; one that
// fails to send ends with send's error.
func TestAttachIdleHoldsNoGoroutine(t *testing.T) {
	s := events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{})})
	const n = 200
	publish(t, s, 1, 1)
	before := runtime.NumGoroutine()
	cols := make([]*collector, n)
	stops := make([]func() error, n)
	for i := range n {
		cols[i] = newCollector()
		_, stops[i] = attach(t, s, int64(i%2+1), 0, cols[i])
	}
	publish(t, s, 1, 1)
	publish(t, s, 2, 1)
	for _, c := range cols {
		c.waitN(t, 1)
	}
	var got int
	for range 100 { // the writers exit once they sent
		if got = runtime.NumGoroutine() - before; got <= 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got > 0 {
		t.Fatalf("%d idle attached streams hold %d goroutines; want none", n, got)
	}
	for _, stop := range stops {
		if err := stop(); !errors.Is(err, context.Canceled) {
			t.Fatalf("stream ended with %v", err)
		}
	}

	failed := errors.New("socket gone")
	ended := make(chan error, 1)
	s.Attach(context.Background(), 3, 0, func(context.Context, events.Event) error { return failed },
		func(err error) { ended <- err })
	publish(t, s, 3, 1)
	if err := <-ended; !errors.Is(err, failed) {
		t.Fatalf("stream ended with %v; want send's error", err)
	}
}
