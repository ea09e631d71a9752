package events

import (
	"sync"
	"time"
)

// Hub holds this replica's subscribers (open sockets) per user and hands
// each delivered event to every subscriber of its user without blocking: a
// subscriber whose buffer is full is cut off (Overflowed), never waited for.
type Hub struct {
	metrics *Metrics

	mu   sync.Mutex
	subs map[int64]map[*Subscription]struct{}
}

// NewHub returns an empty hub; m may be nil.
func NewHub(m *Metrics) *Hub {
	return &Hub{metrics: m, subs: map[int64]map[*Subscription]struct{}{}}
}

// Subscription is one subscriber of a user's live events. Its queue is
// bounded but grows only with what is waiting: an idle socket holds no
// buffer (a preallocated channel of 256 events was 12 KiB per socket).
type Subscription struct {
	User   int64
	hub    *Hub
	mu     sync.Mutex
	queue  []Event       // live events not taken yet, at most max
	max    int           // the bound of queue
	poke   chan struct{} // 1-buffered: catch up from the log (the fan-out may have lost events)
	over   chan struct{} // closed when the queue overflowed
	once   sync.Once
	onOver func() // called once on overflow (may be nil)
	wake   func() // called, without blocking, after each push and poke (may be nil)
}

// Watch registers a subscriber of user's live events that queues at most
// buf of them and holds no goroutine while idle: onReady (may be nil) is
// called, without blocking and from any goroutine, after each event queued
// and each poke (the subscriber then drains Take and Pokes until Idle);
// onOverflow (may be nil) is called, once and without blocking, when it
// falls behind by more than buf.
func (h *Hub) Watch(user int64, buf int, onReady, onOverflow func()) *Subscription {
	s := &Subscription{User: user, hub: h, max: max(buf, 1),
		poke: make(chan struct{}, 1), over: make(chan struct{}), onOver: onOverflow, wake: onReady}
	h.mu.Lock()
	m := h.subs[user]
	if m == nil {
		m = map[*Subscription]struct{}{}
		h.subs[user] = m
	}
	m[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close unregisters s.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if m := h.subs[s.User]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(h.subs, s.User)
		}
	}
}

// Take returns the queued live events, oldest first, and empties the
// queue (they may be out of order or have gaps: the reader catches up
// from the log).
func (s *Subscription) Take() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queue
	s.queue = nil
	return q
}

// push queues ev; false when the queue is full.
func (s *Subscription) push(ev Event) bool {
	s.mu.Lock()
	full := len(s.queue) >= s.max
	if !full {
		s.queue = append(s.queue, ev)
	}
	s.mu.Unlock()
	if !full && s.wake != nil {
		s.wake()
	}
	return !full
}

// Idle reports whether nothing is queued and no catch-up was asked for.
func (s *Subscription) Idle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) == 0 && len(s.poke) == 0
}

// Pokes signal that live events may have been lost: catch up from the log.
func (s *Subscription) Pokes() <-chan struct{} { return s.poke }

// Overflowed is closed when the subscriber fell behind by more than its
// buffer (a slow consumer): its connection should end.
func (s *Subscription) Overflowed() <-chan struct{} { return s.over }

// Deliver hands ev to every local subscriber of its user.
func (h *Hub) Deliver(ev Stored) {
	if h.metrics != nil && ev.Sent > 0 {
		h.metrics.fanout.Observe(time.Since(time.Unix(0, ev.Sent)).Seconds())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[ev.To] {
		if !s.push(ev.Event) {
			s.once.Do(func() {
				close(s.over)
				if s.onOver != nil {
					s.onOver()
				}
				if h.metrics != nil {
					h.metrics.slow.Inc()
				}
			})
		}
	}
}

// PokeAll asks every local subscriber to catch up from the log (after the
// fan-out reconnected: what was published meanwhile never arrived).
func (h *Hub) PokeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.subs {
		for s := range m {
			select {
			case s.poke <- struct{}{}:
			default:
			}
			if s.wake != nil {
				s.wake()
			}
		}
	}
}

// Len is the number of local subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.subs {
		n += len(m)
	}
	return n
}
