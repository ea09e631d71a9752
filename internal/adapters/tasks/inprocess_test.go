package tasks_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/tasks"
	"github.com/swiper-social/swiper/internal/adapters/tasks/taskstest"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func tinyBackoff(int) time.Duration { return 10 * time.Millisecond }

func TestInProcessContract(t *testing.T) {
	taskstest.Run(t, func(t *testing.T, mux *tasks.Mux) (tasks.Queue, taskstest.Runner) {
		q := tasks.NewInProcess(mux, tasks.InProcessOptions{
			Workers: 4,
			Log:     quietLog(),
			Backoff: tinyBackoff,
		})
		return q, q
	})
}

// lockedBuffer is an io.Writer safe for concurrent log writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// run starts q.Run and returns a function that cancels it and reports how
// long Run took to return.
func run(t *testing.T, q *tasks.InProcess) (stop func() time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	return func() time.Duration {
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
		}
		return time.Since(start)
	}
}

func TestInProcessEnqueueAfterShutdown(t *testing.T) {
	mux := tasks.NewMux()
	mux.Handle("t", func(context.Context, []byte) error { return nil })
	q := tasks.NewInProcess(mux, tasks.InProcessOptions{Log: quietLog()})
	stop := run(t, q)
	stop()
	err := q.Enqueue(t.Context(), tasks.Task{Type: "t"})
	if !errors.Is(err, tasks.ErrClosed) {
		t.Fatalf("Enqueue after shutdown = %v, want ErrClosed", err)
	}
	if err := q.Run(t.Context()); !errors.Is(err, tasks.ErrClosed) {
		t.Fatalf("Run after shutdown = %v, want ErrClosed", err)
	}
}

func TestInProcessRunTwice(t *testing.T) {
	q := tasks.NewInProcess(tasks.NewMux(), tasks.InProcessOptions{Log: quietLog()})
	stop := run(t, q)
	defer stop()
	time.Sleep(20 * time.Millisecond)
	if err := q.Run(t.Context()); err == nil {
		t.Fatal("second Run succeeded")
	}
}

func TestInProcessUnknownType(t *testing.T) {
	q := tasks.NewInProcess(tasks.NewMux(), tasks.InProcessOptions{Log: quietLog()})
	if err := q.Enqueue(t.Context(), tasks.Task{Type: "nope"}); err == nil {
		t.Fatal("Enqueue of a type without handler succeeded")
	}
	if err := q.Enqueue(t.Context(), tasks.Task{}); err == nil {
		t.Fatal("Enqueue of an empty type succeeded")
	}
}

func TestInProcessQueueFull(t *testing.T) {
	mux := tasks.NewMux()
	mux.Handle("t", func(context.Context, []byte) error { return nil })
	q := tasks.NewInProcess(mux, tasks.InProcessOptions{Log: quietLog(), QueueSize: 2})
	for range 2 {
		if err := q.Enqueue(t.Context(), tasks.Task{Type: "t"}); err != nil {
			t.Fatalf("Enqueue: %v", err)
		}
	}
	err := q.Enqueue(t.Context(), tasks.Task{Type: "t"})
	if !errors.Is(err, tasks.ErrQueueFull) {
		t.Fatalf("Enqueue beyond QueueSize = %v, want ErrQueueFull", err)
	}
	// A duplicate ID is still a no-op, not an error, when full.
	if err := q.Enqueue(t.Context(), tasks.Task{Type: "t", ID: "x"}); !errors.Is(err, tasks.ErrQueueFull) {
		t.Fatalf("Enqueue of a new ID beyond QueueSize = %v, want ErrQueueFull", err)
	}
}

func TestInProcessDrainsQueuedTasksOnShutdown(t *testing.T) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	mux.Handle("t", func(context.Context, []byte) error {
		time.Sleep(10 * time.Millisecond)
		calls.Add(1)
		return nil
	})
	q := tasks.NewInProcess(mux, tasks.InProcessOptions{Log: quietLog(), Workers: 1})
	for range 5 {
		if err := q.Enqueue(t.Context(), tasks.Task{Type: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	stop := run(t, q)
	stop()
	if n := calls.Load(); n != 5 {
		t.Fatalf("%d of 5 queued tasks ran before Run returned", n)
	}
}

func TestInProcessDropsRetriesAtShutdown(t *testing.T) {
	mux := tasks.NewMux()
	var calls atomic.Int32
	mux.Handle("sms:send", func(context.Context, []byte) error {
		calls.Add(1)
		return errors.New("provider down")
	})
	var logs lockedBuffer
	q := tasks.NewInProcess(mux, tasks.InProcessOptions{
		Log:     slog.New(slog.NewTextHandler(&logs, nil)),
		Backoff: func(int) time.Duration { return time.Hour },
	})
	stop := run(t, q)
	if err := q.Enqueue(t.Context(), tasks.Task{Type: "sms:send", ID: "otp-1"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() == 0 || !strings.Contains(logs.String(), "will retry") {
		if time.Now().After(deadline) {
			t.Fatal("task did not fail")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if d := stop(); d > time.Second {
		t.Fatalf("Run took %v to return; a pending retry must not hold up shutdown", d)
	}
	out := logs.String()
	if !strings.Contains(out, "task dropped") || !strings.Contains(out, "id=otp-1") {
		t.Fatalf("the dropped retry was not logged; logs:\n%s", out)
	}
}

func TestInProcessShutdownTimeout(t *testing.T) {
	mux := tasks.NewMux()
	var cancelled atomic.Bool
	var calls atomic.Int32
	mux.Handle("stuck", func(ctx context.Context, _ []byte) error {
		calls.Add(1)
		<-ctx.Done()
		cancelled.Store(true)
		return ctx.Err()
	})
	var logs lockedBuffer
	q := tasks.NewInProcess(mux, tasks.InProcessOptions{
		Log:             slog.New(slog.NewTextHandler(&logs, nil)),
		Workers:         1,
		ShutdownTimeout: 100 * time.Millisecond,
	})
	for range 2 { // the second never starts: one worker, stuck on the first
		if err := q.Enqueue(t.Context(), tasks.Task{Type: "stuck", Timeout: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	stop := run(t, q)
	for calls.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if d := stop(); d > 2*time.Second {
		t.Fatalf("Run took %v with a 100ms shutdown timeout", d)
	}
	if !cancelled.Load() {
		t.Fatal("the running handler's context was not cancelled after the shutdown timeout")
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d handlers ran, want 1", n)
	}
	if !strings.Contains(logs.String(), "not started before the shutdown timeout") {
		t.Fatalf("the unstarted task was not logged as dropped; logs:\n%s", logs.String())
	}
}

func TestInProcessHandlerGetsOwnPayloadCopy(t *testing.T) {
	mux := tasks.NewMux()
	var mu sync.Mutex
	var got []string
	mux.Handle("t", func(_ context.Context, p []byte) error {
		mu.Lock()
		got = append(got, string(p))
		n := len(got)
		mu.Unlock()
		copy(p, "XX") // a handler scribbling on its payload must not affect the retry
		if n == 1 {
			return errors.New("retry me")
		}
		return nil
	})
	q := tasks.NewInProcess(mux, tasks.InProcessOptions{Log: quietLog(), Backoff: tinyBackoff})
	stop := run(t, q)
	defer stop()
	if err := q.Enqueue(t.Context(), tasks.Task{Type: "t", Payload: []byte("ok")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no retry")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if got[0] != "ok" || got[1] != "ok" {
		t.Fatalf("payloads = %q, want [ok ok]", got)
	}
}

// TestInProcessRunWorkers checks that RunWorkers(ctx, n) runs n handlers at
// once (`swiper serve --workers=N` on the embedded path), not the default 4.
func TestInProcessRunWorkers(t *testing.T) {
	for _, n := range []int{1, 6} {
		mux := tasks.NewMux()
		var running, peak atomic.Int32
		release := make(chan struct{})
		mux.Handle("t", func(context.Context, []byte) error {
			cur := running.Add(1)
			for {
				p := peak.Load()
				if cur <= p || peak.CompareAndSwap(p, cur) {
					break
				}
			}
			<-release
			running.Add(-1)
			return nil
		})
		q := tasks.NewInProcess(mux, tasks.InProcessOptions{Log: quietLog()})
		for range 8 {
			if err := q.Enqueue(t.Context(), tasks.Task{Type: "t"}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- q.RunWorkers(ctx, n) }()
		deadline := time.Now().Add(10 * time.Second)
		for peak.Load() < int32(n) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		// Give a wrong pool the chance to start more than n.
		time.Sleep(50 * time.Millisecond)
		if got := peak.Load(); got != int32(n) {
			t.Errorf("RunWorkers(%d): %d handlers ran at once", n, got)
		}
		close(release)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
