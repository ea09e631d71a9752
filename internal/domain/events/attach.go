package events

import (
	"context"
	"sync"
)

// Attach streams user's events after since to send (API.md §3: a socket
// per open client), in order, each once: first those held in the log (or a
// resync frame when some were dropped), then live ones. It subscribes
// before it reads the log, so that nothing published meanwhile is lost,
// and drops what it already sent. No goroutine waits while there is
// nothing to send (many sockets are idle): Attach replays the log in the
// caller's goroutine and returns; afterwards a goroutine runs only while
// live events or a catch-up are pending (started by the hub, it exits when
// they are sent). The stream ends when ctx is done, send fails or the
// subscriber falls behind (ErrSlowConsumer): end is then called once, with
// that error, from the stream's goroutine.
func (s *Service) Attach(ctx context.Context, user, since int64, send func(context.Context, Event) error, end func(error)) {
	ctx, cancel := context.WithCancel(ctx)
	a := &attachment{ctx: ctx, cancel: cancel, end: end, running: true,
		st: &stream{s: s, user: user, last: since, send: send}}
	// A subscriber that falls behind is cut off at once, even in the
	// middle of a write that blocks on it.
	a.sub = s.hub.Watch(user, s.buf, a.wake, cancel)
	a.stopWake = context.AfterFunc(ctx, a.wake)
	n, err := a.st.catchUp(ctx, true)
	if s.metrics != nil {
		s.metrics.replay.Observe(float64(n))
	}
	if err != nil {
		a.finish(a.st.failed(a.sub, err))
		return
	}
	a.drain()
}

// attachment is the state of an attached stream. At most one goroutine
// drains it at a time (running).
type attachment struct {
	ctx      context.Context
	cancel   context.CancelFunc
	st       *stream
	sub      *Subscription
	stopWake func() bool
	end      func(error)

	mu      sync.Mutex
	running bool // a goroutine is draining
	ended   bool
}

// wake starts a goroutine to drain a, unless one is running or a ended.
func (a *attachment) wake() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running || a.ended {
		return
	}
	a.running = true
	go a.drain()
}

// drain sends what is pending (a catch-up, live events) until nothing is,
// then returns; or ends the stream.
func (a *attachment) drain() {
	for {
		if isClosed(a.sub.Overflowed()) {
			a.finish(ErrSlowConsumer)
			return
		}
		if err := a.ctx.Err(); err != nil {
			a.finish(err)
			return
		}
		select {
		case <-a.sub.Pokes():
			if _, err := a.st.catchUp(a.ctx, false); err != nil {
				a.finish(a.st.failed(a.sub, err))
				return
			}
		default:
		}
		for _, ev := range a.sub.Take() {
			if err := a.st.live(a.ctx, ev); err != nil {
				a.finish(a.st.failed(a.sub, err))
				return
			}
		}
		// Whatever arrives after this check wakes a new goroutine.
		a.mu.Lock()
		if a.sub.Idle() && a.ctx.Err() == nil {
			a.running = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
	}
}

// finish ends the stream with err.
func (a *attachment) finish(err error) {
	a.mu.Lock()
	a.ended = true
	a.mu.Unlock()
	a.stopWake()
	a.sub.Close()
	a.cancel()
	a.end(err)
}
