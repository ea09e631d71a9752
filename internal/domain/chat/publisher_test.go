package chat

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/platform/batch"
)

// recorder is a Publisher that keeps what it was given, blocking each
// call until release is closed when block is set.
type recorder struct {
	mu      sync.Mutex
	calls   [][]string
	fail    int // the call (from 1) that fails
	block   bool
	entered chan struct{}
	release chan struct{}
}

func (r *recorder) Publish(_ context.Context, evs ...events.Outgoing) error {
	r.mu.Lock()
	keys := make([]string, len(evs))
	for i, ev := range evs {
		keys[i] = ev.Key
	}
	r.calls = append(r.calls, keys)
	var err error
	if len(r.calls) == r.fail {
		err = errors.New("redis down")
	}
	block := r.block
	r.block = false
	r.mu.Unlock()
	if block {
		close(r.entered)
		<-r.release
	}
	return err
}

// TestInOrderKeepsCommitOrder: batches queued while one is published go
// out together, after it, in the order they were queued; every batch is
// answered, with the error of its call; close publishes what is queued.
func TestInOrderKeepsCommitOrder(t *testing.T) {
	r := &recorder{fail: 2, block: true, entered: make(chan struct{}), release: make(chan struct{})}
	q := newInOrder(r)
	first := q.add([]events.Outgoing{{Key: "m1"}})
	<-r.entered // the first call is running: the next ones queue
	var ps []*publication
	for _, k := range []string{"m2", "m3", "m4"} {
		ps = append(ps, q.add([]events.Outgoing{{Key: k}, {Key: k + "'"}}))
	}
	close(r.release)
	<-first.done
	for _, p := range ps {
		<-p.done
		if p.err == nil {
			t.Fatal("a batch of the failed call has no error")
		}
	}
	if first.err != nil {
		t.Fatalf("first batch: %v", first.err)
	}
	last := q.add([]events.Outgoing{{Key: "m5"}})
	q.close()
	q.close() // again: nothing
	select {
	case <-last.done:
	default:
		t.Fatal("close returned before the queued batch was published")
	}
	want := [][]string{{"m1"}, {"m2", "m2'", "m3", "m3'", "m4", "m4'"}, {"m5"}}
	if len(r.calls) != len(want) {
		t.Fatalf("calls %v, want %v", r.calls, want)
	}
	for i := range want {
		if len(r.calls[i]) != len(want[i]) {
			t.Fatalf("calls %v, want %v", r.calls, want)
		}
		for j := range want[i] {
			if r.calls[i][j] != want[i][j] {
				t.Fatalf("calls %v, want %v", r.calls, want)
			}
		}
	}
}

// TestSendShardsKeepAConversationTogether: both directions of a
// conversation go to one committer (its messages commit in order), and
// conversations spread over all of them.
func TestSendShardsKeepAConversationTogether(t *testing.T) {
	const n = 2
	used := map[int]int{}
	for a := int64(1); a <= 50; a++ {
		for b := a + 1; b <= 50; b++ {
			x, y := batch.Pick(convKey(a, b), n), batch.Pick(convKey(b, a), n)
			if x != y {
				t.Fatalf("%d→%d on committer %d, %d→%d on %d", a, b, x, b, a, y)
			}
			used[x]++
		}
	}
	if len(used) != n || used[0] < 400 || used[1] < 400 {
		t.Fatalf("conversations per committer: %v", used)
	}
}
