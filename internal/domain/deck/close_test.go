package deck

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
)

// blockingSource blocks every stamp read until its ctx is done, and counts
// the reads still running.
type blockingSource struct {
	*fakeSource
	started chan struct{}
	running atomic.Int32
}

func (b *blockingSource) DeckStampsNow(ctx context.Context) (store.DeckStamps, error) {
	b.running.Add(1)
	defer b.running.Add(-1)
	select {
	case b.started <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return store.DeckStamps{}, ctx.Err()
}

// A catch-up that Fresh started runs on, after its caller gave up, until
// Close: Close cancels it and returns only once it ended (it used to run on
// context.Background(), which nothing cancelled or waited for, reading a
// database about to close). Fresh after Close fails with ErrClosed.
func TestCloseCancelsAndWaitsForCatchUps(t *testing.T) {
	src := &blockingSource{fakeSource: newFake(), started: make(chan struct{}, 1)}
	ix := New(src, time.Now)
	caller, leave := context.WithCancel(context.Background())
	freshDone := make(chan error, 1)
	go func() { freshDone <- ix.Fresh(caller) }()
	select {
	case <-src.started:
	case <-time.After(time.Minute):
		t.Fatal("the catch-up never started")
	}
	// A second caller queues the next catch-up behind the running one.
	queued := make(chan error, 1)
	go func() { queued <- ix.Fresh(context.Background()) }()
	leave()
	ix.Close()
	if n := src.running.Load(); n != 0 {
		t.Fatalf("%d catch-ups still reading the database after Close", n)
	}
	if err := <-freshDone; err == nil {
		t.Fatal("a cancelled catch-up reported success")
	}
	select {
	case err := <-queued:
		if err == nil {
			t.Fatal("the queued catch-up reported success")
		}
	case <-time.After(time.Minute):
		t.Fatal("the queued caller was never answered")
	}
	if err := ix.Fresh(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Fresh after Close: %v", err)
	}
}
