package kv

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// mgets sends the MGETs of concurrent callers together: one pipeline, one
// round trip, while one is in flight. Every authenticated request reads its
// session with an MGET (auth), so at a few dozen requests in flight this
// saves most of a write and a read system call per request on both the
// replica and Redis, which on small machines cost more than the command.
//
// No goroutine of its own: a caller that finds no round trip in flight
// sends one for itself and whoever queued meanwhile, then hands the queue
// to its first waiter, who sends the next one. A caller alone waits for
// nothing; the others wait for at most the round trip in flight before
// theirs.
type mgets struct {
	client redis.UniversalClient

	mu    sync.Mutex
	busy  bool // a round trip is in flight, or its sender hands over
	queue []*mgetCall
}

// mgetsMax bounds the MGETs of one pipeline.
const mgetsMax = 128

type mgetCall struct {
	keys []string // full keys, of one slot on a cluster
	vals []any
	err  error
	lead bool          // set before done: this call sends the next pipeline
	done chan struct{} // one token: answered, or leading
}

// do is MGET keys, sent with the MGETs of the other callers queued.
func (m *mgets) do(ctx context.Context, keys []string) ([]any, error) {
	c := &mgetCall{keys: keys, done: make(chan struct{}, 1)}
	m.mu.Lock()
	if m.busy {
		m.queue = append(m.queue, c)
		m.mu.Unlock()
		<-c.done
		if !c.lead {
			return c.vals, c.err
		}
		m.mu.Lock()
	}
	m.busy = true
	n := min(len(m.queue), mgetsMax-1)
	batch := make([]*mgetCall, 0, 1+n)
	batch = append(append(batch, c), m.queue[:n]...)
	m.queue = append(m.queue[:0:0], m.queue[n:]...)
	m.mu.Unlock()

	defer m.handOver(batch)
	// Not c's context alone: the pipeline answers every call of the batch
	// (the client's read and write timeouts bound it).
	m.send(context.WithoutCancel(ctx), batch)
	return c.vals, c.err
}

// handOver answers the other calls of batch (an error if sending it
// panicked) and passes the turn to the first call queued, or ends it.
func (m *mgets) handOver(batch []*mgetCall) {
	if p := recover(); p != nil {
		for _, o := range batch {
			o.vals, o.err = nil, fmt.Errorf("kv: mget panicked: %v", p)
		}
		defer panic(p) // after the others are answered and the turn passed
	}
	for _, o := range batch[1:] {
		o.done <- struct{}{}
	}
	m.mu.Lock()
	if len(m.queue) > 0 {
		next := m.queue[0]
		m.queue = m.queue[1:]
		m.mu.Unlock()
		next.lead = true
		next.done <- struct{}{}
	} else {
		m.busy = false
		m.mu.Unlock()
	}
}

// send runs batch's MGETs in one round trip and sets each call's answer.
func (m *mgets) send(ctx context.Context, batch []*mgetCall) {
	if len(batch) == 1 {
		c := batch[0]
		c.vals, c.err = m.client.MGet(ctx, c.keys...).Result()
		return
	}
	cmds := make([]*redis.SliceCmd, len(batch))
	_, err := m.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range batch {
			cmds[i] = p.MGet(ctx, c.keys...)
		}
		return nil
	})
	for i, c := range batch {
		if c.vals, c.err = cmds[i].Result(); c.err == nil && c.vals == nil {
			c.err = err // not sent (go-redis sets the commands' errors; to be sure)
		}
	}
}
