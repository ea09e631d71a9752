// Package taskstest is the contract test every tasks.Queue implementation
// passes: the in-process pool and asynq on Redis run the same suite.
package taskstest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/tasks"
)

// Runner runs the workers behind a queue until ctx is done, then shuts down
// gracefully and returns.
type Runner interface {
	Run(ctx context.Context) error
}

// Factory builds, for one subtest, an isolated queue (its own asynq queue
// name, say) and the Runner that executes its tasks with the handlers of
// mux. The suite starts and stops the Runner itself. Retries must use a tiny
// backoff (tens of milliseconds) and the Runner should poll often, or the
// suite gets slow; timing assertions allow for asynq's one-second retry
// precision.
type Factory func(t *testing.T, mux *tasks.Mux) (tasks.Queue, Runner)

// wait bounds every "eventually" in the suite.
const wait = 15 * time.Second

// settle is how long the suite watches for runs that must not happen. It
// covers one asynq retry cycle (one-second precision plus the check interval).
const settle = 1500 * time.Millisecond

// Run runs the contract suite. Subtests run in parallel, each with its own
// queue and runner.
func Run(t *testing.T, newQueue Factory) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, newQueue Factory)
	}{
		{"RunsOnceWithPayload", testRunsOnce},
		{"RetriesUntilSuccess", testRetries},
		{"SkipRetryIsNotRetried", testSkipRetry},
		{"MaxRetryBoundsAttempts", testMaxRetry},
		{"PanicIsAFailure", testPanic},
		{"AttemptTimeout", testTimeout},
		{"UniqueID", testUniqueID},
		{"IDReusableAfterFailure", testIDReusableAfterFailure},
		{"ConcurrentEnqueue", testConcurrentEnqueue},
		{"GracefulShutdown", testGracefulShutdown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newQueue)
		})
	}
}

// start runs r in the background and returns a stop function that cancels
// it and waits for Run to return (also registered as a cleanup).
func start(t *testing.T, r Runner) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil after shutdown", err)
				}
			case <-time.After(wait):
				t.Errorf("Run did not return within %v of cancellation", wait)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func enqueue(t *testing.T, q tasks.Queue, task tasks.Task) {
	t.Helper()
	if err := q.Enqueue(t.Context(), task); err != nil {
		t.Fatalf("Enqueue(%s %q): %v", task.Type, task.ID, err)
	}
}

// eventually polls cond until it holds or the suite's wait passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", wait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stays checks that cond keeps holding for d.
func stays(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("%s no longer holds", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countIs(c *atomic.Int32, n int32) func() bool {
	return func() bool { return c.Load() == n }
}

func testRunsOnce(t *testing.T, newQueue Factory) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	got := make(chan []byte, 10)
	mux.Handle("test:once", func(_ context.Context, payload []byte) error {
		calls.Add(1)
		got <- payload
		return nil
	})
	q, r := newQueue(t, mux)
	payload := []byte(`{"user_id":42}`)
	// Enqueued before the runner starts: it must wait, not be lost.
	enqueue(t, q, tasks.Task{Type: "test:once", Payload: payload})
	copy(payload, "XXXX") // the queue owns a copy
	start(t, r)
	select {
	case p := <-got:
		if string(p) != `{"user_id":42}` {
			t.Fatalf("handler got payload %q, want %q", p, `{"user_id":42}`)
		}
	case <-time.After(wait):
		t.Fatalf("task did not run within %v", wait)
	}
	stays(t, "exactly one run", 300*time.Millisecond, countIs(&calls, 1))
}

func testRetries(t *testing.T, newQueue Factory) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	mux.Handle("test:flaky", func(context.Context, []byte) error {
		if n := calls.Add(1); n <= 2 {
			return fmt.Errorf("flaky failure %d", n)
		}
		return nil
	})
	q, r := newQueue(t, mux)
	start(t, r)
	enqueue(t, q, tasks.Task{Type: "test:flaky"})
	eventually(t, "three runs", func() bool { return calls.Load() >= 3 })
	stays(t, "no run after success", 300*time.Millisecond, countIs(&calls, 3))
}

func testSkipRetry(t *testing.T, newQueue Factory) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	mux.Handle("test:skip", func(context.Context, []byte) error {
		calls.Add(1)
		return fmt.Errorf("phone number invalid: %w", tasks.ErrSkipRetry)
	})
	q, r := newQueue(t, mux)
	start(t, r)
	enqueue(t, q, tasks.Task{Type: "test:skip"})
	eventually(t, "one run", func() bool { return calls.Load() >= 1 })
	stays(t, "no retry after ErrSkipRetry", settle, countIs(&calls, 1))
}

func testMaxRetry(t *testing.T, newQueue Factory) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	mux.Handle("test:broken", func(context.Context, []byte) error {
		calls.Add(1)
		return errors.New("always fails")
	})
	q, r := newQueue(t, mux)
	start(t, r)
	enqueue(t, q, tasks.Task{Type: "test:broken", MaxRetry: 1})
	eventually(t, "two runs (one retry)", func() bool { return calls.Load() >= 2 })
	stays(t, "no run beyond MaxRetry", settle, countIs(&calls, 2))
}

func testPanic(t *testing.T, newQueue Factory) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	mux.Handle("test:panic", func(context.Context, []byte) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return nil
	})
	q, r := newQueue(t, mux)
	start(t, r)
	enqueue(t, q, tasks.Task{Type: "test:panic"})
	eventually(t, "a retry after the panic", func() bool { return calls.Load() >= 2 })
	stays(t, "no run after success", 300*time.Millisecond, countIs(&calls, 2))
}

func testTimeout(t *testing.T, newQueue Factory) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	type seen struct {
		left time.Duration // time to the deadline at the start
		err  error         // ctx.Err() once the context is done
	}
	first := make(chan seen, 1)
	mux.Handle("test:slow", func(ctx context.Context, _ []byte) error {
		if calls.Add(1) > 1 {
			return nil
		}
		deadline, ok := ctx.Deadline()
		if !ok {
			first <- seen{left: -1}
			return errors.New("no deadline")
		}
		left := time.Until(deadline)
		select {
		case <-ctx.Done():
			first <- seen{left: left, err: ctx.Err()}
			return ctx.Err()
		case <-time.After(5 * time.Second):
			first <- seen{left: left}
			return errors.New("context not cancelled at the timeout")
		}
	})
	q, r := newQueue(t, mux)
	start(t, r)
	enqueue(t, q, tasks.Task{Type: "test:slow", Timeout: time.Second, MaxRetry: 1})
	var s seen
	select {
	case s = <-first:
	case <-time.After(wait):
		t.Fatalf("task did not run within %v", wait)
	}
	if s.left <= 0 || s.left > 2*time.Second {
		t.Fatalf("first attempt had %v to its deadline, want about 1s", s.left)
	}
	if !errors.Is(s.err, context.DeadlineExceeded) {
		t.Fatalf("first attempt's context ended with %v, want context.DeadlineExceeded", s.err)
	}
	eventually(t, "a retry after the timeout", func() bool { return calls.Load() >= 2 })
}

func testUniqueID(t *testing.T, newQueue Factory) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	release := make(chan struct{})
	mux.Handle("test:unique", func(ctx context.Context, _ []byte) error {
		calls.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	q, r := newQueue(t, mux)
	start(t, r)
	task := tasks.Task{Type: "test:unique", ID: "match:7:9"}
	enqueue(t, q, task)
	enqueue(t, q, task) // pending: no-op
	eventually(t, "the first run", func() bool { return calls.Load() >= 1 })
	enqueue(t, q, task) // running: no-op
	stays(t, "one run while the first is running", 300*time.Millisecond, countIs(&calls, 1))
	close(release)

	// Once it finished, the ID is free again. Completion is recorded just
	// after the handler returns, so retry the enqueue until it takes.
	reenqueueUntil(t, q, task, &calls, 2)
	stays(t, "exactly two runs", 300*time.Millisecond, countIs(&calls, 2))
}

// reenqueueUntil enqueues task until calls reaches want. It waits between
// tries long enough that a try which did take runs first.
func reenqueueUntil(t *testing.T, q tasks.Queue, task tasks.Task, calls *atomic.Int32, want int32) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for calls.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("re-enqueued %q did not run within %v", task.ID, wait)
		}
		enqueue(t, q, task)
		for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end) && calls.Load() < want; {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func testIDReusableAfterFailure(t *testing.T, newQueue Factory) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	mux.Handle("test:once-bad", func(context.Context, []byte) error {
		if calls.Add(1) == 1 {
			return fmt.Errorf("bad input: %w", tasks.ErrSkipRetry)
		}
		return nil
	})
	q, r := newQueue(t, mux)
	start(t, r)
	task := tasks.Task{Type: "test:once-bad", ID: "sms:123"}
	enqueue(t, q, task)
	eventually(t, "the first run", func() bool { return calls.Load() >= 1 })
	// The dead task must not block its ID for ever.
	reenqueueUntil(t, q, task, &calls, 2)
	stays(t, "exactly two runs", 300*time.Millisecond, countIs(&calls, 2))
}

func testConcurrentEnqueue(t *testing.T, newQueue Factory) {
	const n = 50
	mux := tasks.NewMux()
	var mu sync.Mutex
	seen := make(map[string]int)
	mux.Handle("test:many", func(_ context.Context, payload []byte) error {
		mu.Lock()
		seen[string(payload)]++
		mu.Unlock()
		return nil
	})
	q, r := newQueue(t, mux)
	start(t, r)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			task := tasks.Task{Type: "test:many", Payload: fmt.Appendf(nil, "p%d", i)}
			if i%2 == 0 {
				task.ID = fmt.Sprintf("many-%d", i) // distinct IDs are all kept
			}
			if err := q.Enqueue(t.Context(), task); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Enqueue: %v", err)
	}
	eventually(t, fmt.Sprintf("%d distinct tasks", n), func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	})
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for p, c := range seen {
		if c != 1 {
			t.Errorf("task %s ran %d times, want 1", p, c)
		}
	}
}

func testGracefulShutdown(t *testing.T, newQueue Factory) {
	mux := tasks.NewMux()
	started := make(chan struct{})
	var finished atomic.Bool
	var ctxErr atomic.Value
	mux.Handle("test:inflight", func(ctx context.Context, _ []byte) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		ctxErr.Store(fmt.Sprint(ctx.Err()))
		finished.Store(true)
		return nil
	})
	q, r := newQueue(t, mux)
	stop := start(t, r)
	enqueue(t, q, tasks.Task{Type: "test:inflight", Timeout: 10 * time.Second})
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatalf("task did not start within %v", wait)
	}
	stop() // cancels and waits for Run to return
	if !finished.Load() {
		t.Fatal("Run returned before the in-flight handler finished")
	}
	if got := ctxErr.Load(); got != "<nil>" {
		t.Fatalf("in-flight handler's context was cancelled by shutdown: %v", got)
	}
}
