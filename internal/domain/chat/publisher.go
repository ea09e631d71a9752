package chat

import (
	"context"
	"sync"

	"github.com/swiper-social/swiper/internal/domain/events"
)

// publication is the events of one committed batch of messages, queued to
// be published, and, once done is closed, whether that failed.
type publication struct {
	evs  []events.Outgoing
	err  error
	done chan struct{}
}

// inOrder publishes the events of committed batches one goroutine after
// the send committer: in the order they were queued (the order their
// transactions committed), several queued batches in one call. So the next
// batch's transaction runs while the previous batch's events go out, and
// a conversation's events keep the order of its messages.
type inOrder struct {
	events Publisher
	queue  chan *publication
	done   chan struct{}
	closed sync.Once
}

// inOrderMax bounds how many queued batches one Publish call carries.
const inOrderMax = 16

func newInOrder(p Publisher) *inOrder {
	q := &inOrder{events: p, queue: make(chan *publication, inOrderMax), done: make(chan struct{})}
	go q.run()
	return q
}

// add queues the events of a committed batch (waiting while inOrderMax
// batches wait already): called by one goroutine, in commit order.
func (q *inOrder) add(evs []events.Outgoing) *publication {
	p := &publication{evs: evs, done: make(chan struct{})}
	q.queue <- p
	return p
}

// close publishes what was queued and stops (again: nothing); nothing
// may be added after.
func (q *inOrder) close() {
	q.closed.Do(func() { close(q.queue) })
	<-q.done
}

func (q *inOrder) run() {
	defer close(q.done)
	for p := range q.queue {
		ps := []*publication{p}
	more:
		for len(ps) < inOrderMax {
			select {
			case p, ok := <-q.queue:
				if !ok {
					break more
				}
				ps = append(ps, p)
			default:
				break more
			}
		}
		evs := ps[0].evs
		if len(ps) > 1 {
			evs = nil
			for _, p := range ps {
				evs = append(evs, p.evs...)
			}
		}
		// Not any caller's context: the batch committed, its events go out.
		err := q.events.Publish(context.Background(), evs...)
		for _, p := range ps {
			p.err = err
			close(p.done)
		}
	}
}
