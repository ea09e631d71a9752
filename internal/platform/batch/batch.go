// Package batch is a group committer: concurrent requests share one run of
// a function (typically one database transaction, hence one commit), and
// each caller gets its own answer once that run is over.
//
// One goroutine per Committer takes the first waiting request and every
// other request already queued (without waiting for more), up to a maximum,
// runs them, answers them, and starts again. Batching is natural: while a
// batch runs, the next one queues, so the batches grow with the load and a
// lone request is never delayed.
package batch

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// ErrClosed is the answer of Do after Close.
var ErrClosed = errors.New("batch: committer closed")

// PanicError is what Do panics with when run panicked: the value and the
// stack of the original panic (the callers' own stacks say nothing).
type PanicError struct {
	Value any
	Stack []byte
}

func (p *PanicError) Error() string {
	return fmt.Sprintf("batch: run panicked: %v\n\n%s", p.Value, p.Stack)
}

// errGoexit answers a batch whose run called runtime.Goexit.
var errGoexit = errors.New("batch: run called runtime.Goexit")

// Stats counts what a Committer did.
type Stats struct {
	Batches  uint64 // runs of the function
	Requests uint64 // requests those runs carried
}

// Committer groups requests of type Req into runs of one function.
type Committer[Req, Res any] struct {
	run func(ctx context.Context, reqs []Req) ([]Res, error)
	max int

	mu     sync.Mutex
	queue  []*call[Req, Res]
	closed bool
	wake   chan struct{} // a token after each enqueue and at Close
	done   chan struct{} // closed once the loop drained the queue after Close

	batches, requests atomic.Uint64
}

type call[Req, Res any] struct {
	ctx   context.Context
	req   Req
	taken bool // in a batch; under Committer.mu
	gone  bool // answered before any batch (its ctx ended); under Committer.mu

	// Written by the loop before done is closed.
	res   Res
	err   error
	panic *PanicError
	done  chan struct{}
}

// New starts a Committer. run gets a batch of 1 to maxSize requests, in the
// order they were queued, and returns one result per request, in the same
// order; an error of run is the answer of every request of the batch. Its
// ctx is not any caller's: a request that joined a batch is run and answered
// even when its caller gave up meanwhile.
func New[Req, Res any](run func(ctx context.Context, reqs []Req) ([]Res, error), maxSize int) *Committer[Req, Res] {
	c := &Committer[Req, Res]{run: run, max: max(maxSize, 1), wake: make(chan struct{}, 1), done: make(chan struct{})}
	go c.loop()
	return c
}

// Do queues req and waits for its answer. When ctx ends before req's batch
// starts, req is dropped and Do returns ctx.Err(); once in a batch, req is
// run and Do waits for its answer. After Close, Do returns ErrClosed. When
// run panics, Do panics with a *PanicError in the caller's goroutine.
func (c *Committer[Req, Res]) Do(ctx context.Context, req Req) (Res, error) {
	var zero Res
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	cl := &call[Req, Res]{ctx: ctx, req: req, done: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return zero, ErrClosed
	}
	c.queue = append(c.queue, cl)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default: // a token is already there
	}
	select {
	case <-cl.done:
	case <-ctx.Done():
		c.mu.Lock()
		taken := cl.taken
		if !taken {
			cl.gone = true
		}
		c.mu.Unlock()
		if !taken {
			return zero, ctx.Err()
		}
		<-cl.done
	}
	if cl.panic != nil {
		panic(cl.panic)
	}
	return cl.res, cl.err
}

// Close stops accepting requests, waits until every queued request has been
// run and answered, and returns. It may be called more than once.
func (c *Committer[Req, Res]) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	<-c.done
}

// Waiting is how many requests wait for a batch to start.
func (c *Committer[Req, Res]) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, cl := range c.queue {
		if !cl.gone {
			n++
		}
	}
	return n
}

// Stats returns the counts so far.
func (c *Committer[Req, Res]) Stats() Stats {
	return Stats{Batches: c.batches.Load(), Requests: c.requests.Load()}
}

func (c *Committer[Req, Res]) loop() {
	for {
		b, ok := c.next()
		if !ok {
			close(c.done)
			return
		}
		if len(b) > 0 {
			c.commit(b)
		}
	}
}

// next waits for requests and takes the next batch; false once closed and
// drained. Requests whose ctx ended are answered with ctx.Err() here.
func (c *Committer[Req, Res]) next() ([]*call[Req, Res], bool) {
	c.mu.Lock()
	for len(c.queue) == 0 {
		if c.closed {
			c.mu.Unlock()
			return nil, false
		}
		c.mu.Unlock()
		<-c.wake
		c.mu.Lock()
	}
	var b []*call[Req, Res]
	i := 0
	for ; i < len(c.queue) && len(b) < c.max; i++ {
		cl := c.queue[i]
		if cl.gone {
			continue
		}
		if err := cl.ctx.Err(); err != nil {
			cl.gone, cl.err = true, err
			close(cl.done)
			continue
		}
		cl.taken = true
		b = append(b, cl)
	}
	rest := copy(c.queue, c.queue[i:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	c.mu.Unlock()
	return b, true
}

// commit runs one batch and answers its requests.
func (c *Committer[Req, Res]) commit(b []*call[Req, Res]) {
	finished := false
	defer func() {
		if !finished { // run called runtime.Goexit, which ends this goroutine
			for _, cl := range b {
				cl.err = errGoexit
				close(cl.done)
			}
			go c.loop()
		}
	}()
	reqs := make([]Req, len(b))
	for i, cl := range b {
		reqs[i] = cl.req
	}
	c.batches.Add(1)
	c.requests.Add(uint64(len(b)))
	res, p, err := c.runSafely(reqs)
	if err == nil && p == nil && len(res) != len(reqs) {
		err = fmt.Errorf("batch: run returned %d results for %d requests", len(res), len(reqs))
	}
	for i, cl := range b {
		switch {
		case p != nil:
			cl.panic = p
		case err != nil:
			cl.err = err
		default:
			cl.res = res[i]
		}
		close(cl.done)
	}
	finished = true
}

func (c *Committer[Req, Res]) runSafely(reqs []Req) (res []Res, p *PanicError, err error) {
	defer func() {
		if v := recover(); v != nil {
			p = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	res, err = c.run(context.Background(), reqs)
	return res, nil, err
}
