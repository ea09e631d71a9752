package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// Defaults shared by both queue implementations.
const (
	// DefaultMaxRetry is how many times a failed task is retried when
	// neither the task nor the queue says otherwise.
	DefaultMaxRetry = 8
	// DefaultTimeout bounds one attempt when the task sets no Timeout.
	DefaultTimeout = time.Minute
	// DefaultShutdownTimeout is how long shutdown waits for running handlers
	// before cancelling their contexts.
	DefaultShutdownTimeout = 25 * time.Second
	// DefaultQueueSize caps the tasks an InProcess queue holds waiting for a
	// worker; Enqueue beyond it fails with ErrQueueFull.
	DefaultQueueSize = 10_000
)

var (
	// ErrClosed is returned by Enqueue once the queue has shut down.
	ErrClosed = errors.New("tasks: queue closed")
	// ErrQueueFull is returned by InProcess.Enqueue when QueueSize tasks
	// are already waiting.
	ErrQueueFull = errors.New("tasks: queue full")
)

// InProcessOptions configures NewInProcess. Zero values select defaults.
type InProcessOptions struct {
	// Workers is the number of handlers run at once (default 4).
	Workers int
	// Log receives task failures and drops (default slog.Default()).
	Log *slog.Logger
	// MaxRetry is the queue's default retry count (default DefaultMaxRetry).
	MaxRetry int
	// Backoff is the delay before the retry after the n-th failure, n from 1
	// (default Backoff).
	Backoff func(n int) time.Duration
	// Timeout is the queue's default per-attempt timeout (default DefaultTimeout).
	Timeout time.Duration
	// QueueSize caps the tasks waiting for a worker (default DefaultQueueSize).
	QueueSize int
	// ShutdownTimeout bounds the drain after Run's context is done
	// (default DefaultShutdownTimeout); then running handlers' contexts are
	// cancelled and tasks still waiting are dropped.
	ShutdownTimeout time.Duration
}

// InProcess is a Queue that runs tasks on a pool of goroutines in this
// process, for the embedded path (no Redis). Nothing is persisted: tasks
// still queued when the process stops are lost, and the log says so.
//
// Enqueue works before Run starts (tasks wait in memory) and never blocks.
// A task with an ID is unique while it is queued, running or waiting for a
// retry. A failing task is retried after Backoff(n) up to its MaxRetry;
// an error wrapping ErrSkipRetry stops retries; a panic counts as a failure.
type InProcess struct {
	mux  *Mux
	opts InProcessOptions
	log  *slog.Logger

	mu      sync.Mutex
	cond    *sync.Cond // signalled when pending grows or the state changes
	pending []*job     // FIFO of tasks ready to run
	fresh   int        // pending jobs that are first attempts (bounded by QueueSize)
	ids     map[string]struct{}
	waiting map[*job]*time.Timer // tasks waiting for a retry
	started bool
	closed  bool // no more Enqueue; workers drain pending and exit
	aborted bool // shutdown timed out; workers exit without draining
}

type job struct {
	task     Task // Payload owned by the queue; MaxRetry and Timeout resolved
	failures int
}

var _ Queue = (*InProcess)(nil)

// NewInProcess returns an in-process queue running the handlers of mux.
// Call Run to start the workers.
func NewInProcess(mux *Mux, opts InProcessOptions) *InProcess {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxRetry <= 0 {
		opts.MaxRetry = DefaultMaxRetry
	}
	if opts.Backoff == nil {
		opts.Backoff = Backoff
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	q := &InProcess{
		mux:     mux,
		opts:    opts,
		log:     opts.Log.With("component", "tasks", "queue", "inprocess"),
		ids:     make(map[string]struct{}),
		waiting: make(map[*job]*time.Timer),
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Enqueue queues t. It never blocks: it fails with ErrQueueFull when
// QueueSize tasks are waiting and with ErrClosed after shutdown. Enqueueing
// an ID that is queued, running or waiting for a retry is a no-op.
func (q *InProcess) Enqueue(_ context.Context, t Task) error {
	if t.Type == "" {
		return errors.New("tasks: enqueue: empty task type")
	}
	if _, ok := q.mux.Handler(t.Type); !ok {
		return fmt.Errorf("tasks: enqueue %q: no handler registered", t.Type)
	}
	t.Payload = clone(t.Payload)
	if t.MaxRetry <= 0 {
		t.MaxRetry = q.opts.MaxRetry
	}
	if t.Timeout <= 0 {
		t.Timeout = q.opts.Timeout
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("tasks: enqueue %q: %w", t.Type, ErrClosed)
	}
	if t.ID != "" {
		if _, dup := q.ids[t.ID]; dup {
			return nil
		}
	}
	if q.fresh >= q.opts.QueueSize {
		return fmt.Errorf("tasks: enqueue %q: %w (%d waiting)", t.Type, ErrQueueFull, q.fresh)
	}
	if t.ID != "" {
		q.ids[t.ID] = struct{}{}
	}
	q.pending = append(q.pending, &job{task: t})
	q.fresh++
	q.cond.Signal()
	return nil
}

// Run starts the workers and blocks until ctx is done. Then it shuts down:
// Enqueue starts failing with ErrClosed, tasks waiting for a retry are
// dropped (and logged), and Run waits for the workers to finish the running
// and already queued tasks, up to ShutdownTimeout; past it, handler contexts
// are cancelled and the tasks not yet started are dropped. Handlers run with
// a context that keeps ctx's values but not its cancellation.
// Run returns nil after a shutdown; it can be called only once.
func (q *InProcess) Run(ctx context.Context) error { return q.RunWorkers(ctx, q.opts.Workers) }

// RunWorkers is Run with n workers instead of InProcessOptions.Workers
// (n <= 0 keeps the option): `swiper serve --workers=N` on the embedded path.
func (q *InProcess) RunWorkers(ctx context.Context, n int) error {
	if n <= 0 {
		n = q.opts.Workers
	}
	q.mu.Lock()
	switch {
	case q.closed:
		q.mu.Unlock()
		return fmt.Errorf("tasks: run: %w", ErrClosed)
	case q.started:
		q.mu.Unlock()
		return errors.New("tasks: run: already running")
	}
	q.started = true
	q.mu.Unlock()

	hard, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()

	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { q.work(hard) })
	}
	q.log.InfoContext(ctx, "task workers started", "workers", n)

	<-ctx.Done()
	q.close(ctx)

	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(q.opts.ShutdownTimeout)
	defer timer.Stop()
	select {
	case <-done:
		q.log.InfoContext(ctx, "task workers stopped")
		return nil
	case <-timer.C:
	}

	q.abort(ctx)
	cancelHandlers()
	const grace = time.Second
	select {
	case <-done:
		q.log.WarnContext(ctx, "task workers stopped after cancelling running handlers",
			"shutdown_timeout", q.opts.ShutdownTimeout)
	case <-time.After(grace):
		q.log.ErrorContext(ctx, "task handlers ignore cancellation; abandoning them",
			"shutdown_timeout", q.opts.ShutdownTimeout)
	}
	return nil
}

// close stops accepting tasks and drops those waiting for a retry.
func (q *InProcess) close(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for j, t := range q.waiting {
		delete(q.waiting, j)
		if t.Stop() {
			q.dropLocked(ctx, j, "waiting for a retry at shutdown")
		}
		// Otherwise the timer has fired; its function sees closed and drops j.
	}
	q.cond.Broadcast()
}

// abort makes the workers exit without draining and drops the queued tasks.
func (q *InProcess) abort(ctx context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.aborted = true
	for _, j := range q.pending {
		q.dropLocked(ctx, j, "not started before the shutdown timeout")
	}
	q.pending = nil
	q.fresh = 0
	q.cond.Broadcast()
}

// dropLocked logs and forgets j. q.mu must be held.
func (q *InProcess) dropLocked(ctx context.Context, j *job, why string) {
	if j.task.ID != "" {
		delete(q.ids, j.task.ID)
	}
	q.log.WarnContext(ctx, "task dropped", "type", j.task.Type, "id", j.task.ID,
		"failures", j.failures, "reason", why)
}

// next blocks until a job is ready and returns it, or returns nil when the
// worker should exit.
func (q *InProcess) next() *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.pending) == 0 && !q.closed && !q.aborted {
		q.cond.Wait()
	}
	if q.aborted || len(q.pending) == 0 {
		return nil
	}
	j := q.pending[0]
	q.pending[0] = nil
	q.pending = q.pending[1:]
	if j.failures == 0 {
		q.fresh--
	}
	return j
}

func (q *InProcess) work(ctx context.Context) {
	for {
		j := q.next()
		if j == nil {
			return
		}
		q.attempt(ctx, j)
	}
}

// attempt runs j once and then finishes it or schedules its retry.
func (q *InProcess) attempt(ctx context.Context, j *job) {
	t := j.task
	log := q.log.With("type", t.Type, "id", t.ID, "attempt", j.failures+1)
	h, ok := q.mux.Handler(t.Type)
	if !ok { // checked by Enqueue; only a Mux changed after the fact gets here
		log.ErrorContext(ctx, "task dropped: no handler registered")
		q.finish(j)
		return
	}
	actx, cancel := context.WithTimeout(ctx, t.Timeout)
	err := call(actx, h, clone(t.Payload))
	cancel()
	if err == nil {
		log.DebugContext(ctx, "task done")
		q.finish(j)
		return
	}
	j.failures++
	if pe, ok := errors.AsType[*PanicError](err); ok {
		log.ErrorContext(ctx, "task handler panicked", "panic", pe.Value, "stack", string(pe.Stack))
	}
	switch {
	case errors.Is(err, ErrSkipRetry):
		log.WarnContext(ctx, "task failed; not retried", "err", err)
		q.finish(j)
		return
	case j.failures > t.MaxRetry:
		log.ErrorContext(ctx, "task failed; retries exhausted", "err", err, "max_retry", t.MaxRetry)
		q.finish(j)
		return
	}
	delay := q.opts.Backoff(j.failures)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		log.WarnContext(ctx, "task failed", "err", err)
		q.dropLocked(ctx, j, "failed during shutdown")
		return
	}
	log.WarnContext(ctx, "task failed; will retry", "err", err, "retry_in", delay)
	q.waiting[j] = time.AfterFunc(delay, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		delete(q.waiting, j)
		if q.closed {
			q.dropLocked(ctx, j, "waiting for a retry at shutdown")
			return
		}
		q.pending = append(q.pending, j)
		q.cond.Signal()
	})
}

func (q *InProcess) finish(j *job) {
	if j.task.ID == "" {
		return
	}
	q.mu.Lock()
	delete(q.ids, j.task.ID)
	q.mu.Unlock()
}

// call runs h, turning a panic into an error that counts as a failure.
func call(ctx context.Context, h Handler, payload []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return h(ctx, payload)
}

// PanicError is the failure recorded when a handler panics.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack at the panic
}

func (e *PanicError) Error() string { return fmt.Sprintf("tasks: handler panic: %v", e.Value) }

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	out := make([]byte, len(b))
	copy(out, b)
	return out
}
