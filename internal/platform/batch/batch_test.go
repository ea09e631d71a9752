package batch

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// gate is a run function that reports each batch and, while held, blocks
// in it: tests queue requests behind a running batch to get a known next
// batch.
type gate struct {
	mu      sync.Mutex
	batches [][]int
	started chan []int
	release chan struct{}
}

func newGate() *gate {
	return &gate{started: make(chan []int, 100), release: make(chan struct{})}
}

func (g *gate) run(_ context.Context, reqs []int) ([]int, error) {
	g.mu.Lock()
	g.batches = append(g.batches, slices.Clone(reqs))
	g.mu.Unlock()
	g.started <- slices.Clone(reqs)
	<-g.release
	out := make([]int, len(reqs))
	for i, r := range reqs {
		out[i] = r * 10
	}
	return out, nil
}

func (g *gate) open() { close(g.release) }

func (g *gate) sizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var s []int
	for _, b := range g.batches {
		s = append(s, len(b))
	}
	return s
}

// queued waits until n requests wait in c's queue.
func queued[Req, Res any](t *testing.T, c *Committer[Req, Res], n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := c.Waiting()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", got, n)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

type answer struct {
	req, res int
	err      error
}

// submit runs Do(req) in a goroutine and sends its answer to out.
func submit(c *Committer[int, int], ctx context.Context, req int, out chan<- answer) {
	go func() {
		res, err := c.Do(ctx, req)
		out <- answer{req, res, err}
	}()
}

// answered waits for n answers on out, each the gate's answer to its request.
func answered(t *testing.T, out <-chan answer, n int) {
	t.Helper()
	for range n {
		if a := <-out; a.err != nil || a.res != a.req*10 {
			t.Fatalf("request %d: %d %v", a.req, a.res, a.err)
		}
	}
}

func TestBatchesQueueBehindARunningBatch(t *testing.T) {
	g := newGate()
	c := New(g.run, 256)
	defer c.Close()
	out := make(chan answer, 100)
	submit(c, context.Background(), 0, out)
	<-g.started // batch [0] runs and blocks
	for i := 1; i <= 50; i++ {
		submit(c, context.Background(), i, out)
	}
	queued(t, c, 50)
	g.open()
	answered(t, out, 51)
	if s := g.sizes(); !slices.Equal(s, []int{1, 50}) {
		t.Fatalf("batch sizes %v, want [1 50]", s)
	}
	if st := c.Stats(); st.Batches != 2 || st.Requests != 51 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBatchesKeepOrderAndMax(t *testing.T) {
	g := newGate()
	c := New(g.run, 10)
	defer c.Close()
	out := make(chan answer, 100)
	submit(c, context.Background(), 0, out)
	<-g.started
	// Queued one by one from here: the queue order is known.
	for i := 1; i <= 25; i++ {
		submit(c, context.Background(), i, out)
		queued(t, c, i)
	}
	g.open()
	answered(t, out, 26)
	g.mu.Lock()
	defer g.mu.Unlock()
	want := [][]int{{0}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, {21, 22, 23, 24, 25}}
	if len(g.batches) != len(want) {
		t.Fatalf("batches %v", g.batches)
	}
	for i := range want {
		if !slices.Equal(g.batches[i], want[i]) {
			t.Fatalf("batches %v, want %v", g.batches, want)
		}
	}
}

// TestManyConcurrentCallers: each caller gets its own answer, and under
// load the runs carry several requests each.
func TestManyConcurrentCallers(t *testing.T) {
	var calls, reqs int
	var mu sync.Mutex
	c := New(func(_ context.Context, rs []int) ([]int, error) {
		mu.Lock()
		calls++
		reqs += len(rs)
		mu.Unlock()
		time.Sleep(200 * time.Microsecond) // a commit
		out := make([]int, len(rs))
		for i, r := range rs {
			out[i] = -r
		}
		return out, nil
	}, 64)
	const n = 2000
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := c.Do(context.Background(), i)
			if err != nil || res != -i {
				t.Errorf("request %d: %d %v", i, res, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	c.Close()
	if reqs != n || calls >= n/4 {
		t.Fatalf("%d requests in %d runs: not grouped", reqs, calls)
	}
	t.Logf("%d requests in %d runs (%.1f per run)", reqs, calls, float64(reqs)/float64(calls))
}

func TestCloseDrains(t *testing.T) {
	g := newGate()
	c := New(g.run, 256)
	out := make(chan answer, 100)
	submit(c, context.Background(), 0, out)
	<-g.started
	for i := 1; i <= 20; i++ {
		submit(c, context.Background(), i, out)
	}
	queued(t, c, 20)
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	// Close refuses new requests at once, while the queue still drains.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		closing := c.closed
		c.mu.Unlock()
		if closing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Close did not start")
		}
	}
	if _, err := c.Do(context.Background(), 99); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do while closing: %v", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned before the queued requests were answered")
	case <-time.After(20 * time.Millisecond):
	}
	g.open()
	<-closed
	answered(t, out, 21)
	if _, err := c.Do(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close: %v", err)
	}
	c.Close() // twice is fine
}

func TestErrorGoesToEveryMember(t *testing.T) {
	boom := errors.New("boom")
	g := newGate()
	first := true
	c := New(func(ctx context.Context, reqs []int) ([]int, error) {
		if first {
			first = false
			return g.run(ctx, reqs)
		}
		return nil, boom
	}, 256)
	defer c.Close()
	out := make(chan answer, 100)
	submit(c, context.Background(), 0, out)
	<-g.started
	for i := 1; i <= 5; i++ {
		submit(c, context.Background(), i, out)
	}
	queued(t, c, 5)
	g.open()
	failed := 0
	for range 6 {
		a := <-out
		switch {
		case a.req == 0 && a.err == nil:
		case a.req != 0 && errors.Is(a.err, boom):
			failed++
		default:
			t.Fatalf("request %d: %d %v", a.req, a.res, a.err)
		}
	}
	if failed != 5 {
		t.Fatalf("%d failed", failed)
	}
}

func TestWrongResultCount(t *testing.T) {
	c := New(func(context.Context, []int) ([]int, error) { return nil, nil }, 8)
	defer c.Close()
	if _, err := c.Do(context.Background(), 1); err == nil {
		t.Fatal("no error for a missing result")
	}
}

func TestPanicReachesEveryCaller(t *testing.T) {
	g := newGate()
	first := true
	c := New(func(ctx context.Context, reqs []int) ([]int, error) {
		if first {
			first = false
			return g.run(ctx, reqs)
		}
		if slices.Contains(reqs, 13) {
			panic("unlucky")
		}
		return reqs, nil
	}, 256)
	defer c.Close()
	type got struct {
		req int
		p   any
		err error
	}
	out := make(chan got, 10)
	do := func(req int) {
		go func() {
			defer func() {
				if v := recover(); v != nil {
					out <- got{req: req, p: v}
				}
			}()
			_, err := c.Do(context.Background(), req)
			out <- got{req: req, err: err}
		}()
	}
	do(0)
	<-g.started
	do(12)
	do(13)
	queued(t, c, 2)
	g.open()
	panicked := 0
	for range 3 {
		r := <-out
		if r.req == 0 {
			if r.p != nil || r.err != nil {
				t.Fatalf("request 0: %v %v", r.p, r.err)
			}
			continue
		}
		pe, ok := r.p.(*PanicError)
		if !ok || pe.Value != "unlucky" || len(pe.Stack) == 0 {
			t.Fatalf("request %d: panic %v, err %v", r.req, r.p, r.err)
		}
		panicked++
	}
	if panicked != 2 {
		t.Fatalf("%d callers saw the panic", panicked)
	}
	// The committer survives the panic.
	if res, err := c.Do(context.Background(), 4); err != nil || res != 4 {
		t.Fatalf("after a panic: %d %v", res, err)
	}
}

func TestGoexitDoesNotStrandCallers(t *testing.T) {
	c := New(func(_ context.Context, reqs []int) ([]int, error) {
		if reqs[0] == 1 {
			runtime.Goexit()
		}
		return reqs, nil
	}, 8)
	defer c.Close()
	if _, err := c.Do(context.Background(), 1); !errors.Is(err, errGoexit) {
		t.Fatalf("Goexit: %v", err)
	}
	if res, err := c.Do(context.Background(), 2); err != nil || res != 2 {
		t.Fatalf("after Goexit: %d %v", res, err)
	}
}

func TestCancelledBeforeItsBatch(t *testing.T) {
	g := newGate()
	c := New(g.run, 256)
	defer c.Close()
	out := make(chan answer, 10)
	submit(c, context.Background(), 0, out)
	<-g.started
	ctx, cancel := context.WithCancel(context.Background())
	submit(c, ctx, 1, out)
	submit(c, context.Background(), 2, out)
	queued(t, c, 2)
	cancel()
	a := <-out
	if a.req != 1 || !errors.Is(a.err, context.Canceled) {
		t.Fatalf("cancelled request: %+v", a)
	}
	g.open()
	answered(t, out, 2)
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.batches) != 2 || !slices.Equal(g.batches[1], []int{2}) {
		t.Fatalf("the cancelled request reached run: %v", g.batches)
	}
	if _, err := c.Do(ctx, 3); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do with an ended ctx: %v", err)
	}
}

func TestCancelledInsideItsBatchIsAnswered(t *testing.T) {
	g := newGate()
	c := New(g.run, 256)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan answer, 1)
	submit(c, ctx, 7, out)
	<-g.started // in the batch
	cancel()
	select {
	case a := <-out:
		t.Fatalf("answered before its batch ended: %+v", a)
	case <-time.After(20 * time.Millisecond):
	}
	g.open()
	if a := <-out; a.err != nil || a.res != 70 {
		t.Fatalf("committed request: %+v", a)
	}
}
