package events_test

import (
	"runtime"
	"testing"

	"github.com/swiper-social/swiper/internal/domain/events"
)

// An idle subscriber (an open socket with nothing to send) holds no event
// buffer: 10,000 of them cost a few hundred bytes each, not the 12 KiB of
// a preallocated 256-event channel.
func TestIdleSubscriptionsHoldNoBuffer(t *testing.T) {
	hub := events.NewHub(nil)
	const n = 10_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	subs := make([]*events.Subscription, n)
	for i := range subs {
		subs[i] = hub.Watch(int64(i), 256, nil, nil)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / n
	if per > 1024 {
		t.Fatalf("an idle subscription holds %d bytes; want < 1 KiB", per)
	}
	t.Logf("%d bytes per idle subscription", per)
	// The bound still holds once events arrive.
	for range 257 {
		hub.Deliver(events.Stored{To: 1, Event: events.Event{Seq: 1, Type: events.TypeMatch}})
	}
	select {
	case <-subs[1].Overflowed():
	default:
		t.Fatal("a subscriber 257 events behind (bound 256) was not cut off")
	}
	if got := len(subs[2].Take()); got != 0 {
		t.Fatalf("another user's subscriber got %d events", got)
	}
	runtime.KeepAlive(subs)
}
