package logging

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the ticker's goroutine.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Buffered lines wait; a line written through goes after them, in one
// write for all of them; a full buffer is written before the line that
// would overflow it, and a line larger than the buffer goes through.
func TestOutputKeepsOrder(t *testing.T) {
	var w lockedBuffer
	o := NewOutput(&w, 16)
	b := o.Buffered()
	fmt.Fprint(b, "a1\n")
	fmt.Fprint(b, "a2\n")
	if w.String() != "" {
		t.Fatalf("buffered lines written at once: %q", w.String())
	}
	fmt.Fprint(o, "E\n")
	if w.String() != "a1\na2\nE\n" || w.writes != 2 {
		t.Fatalf("got %q in %d writes, want the kept lines in one write, then the error", w.String(), w.writes)
	}
	fmt.Fprint(b, "0123456789\n") // 11 bytes
	fmt.Fprint(b, "abcdefgh\n")   // 20 > 16: the first goes first
	if w.String() != "a1\na2\nE\n0123456789\n" {
		t.Fatalf("overflow: %q", w.String())
	}
	fmt.Fprint(b, "a line longer than the buffer\n")
	if want := "a1\na2\nE\n0123456789\nabcdefgh\na line longer than the buffer\n"; w.String() != want {
		t.Fatalf("long line: %q, want %q", w.String(), want)
	}
	fmt.Fprint(b, "last\n")
	if err := o.Flush(); err != nil || !strings.HasSuffix(w.String(), "buffer\nlast\n") {
		t.Fatalf("flush: %v %q", err, w.String())
	}
}

// Start writes the kept lines on its ticks, and its stop a last time.
func TestOutputStart(t *testing.T) {
	var w lockedBuffer
	o := NewOutput(&w, 1<<10)
	stop := o.Start(5 * time.Millisecond)
	fmt.Fprint(o.Buffered(), "tick\n")
	deadline := time.Now().Add(5 * time.Second)
	for w.String() != "tick\n" {
		if time.Now().After(deadline) {
			t.Fatal("a kept line was not written by the ticker")
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	fmt.Fprint(o.Buffered(), "after\n")
	stop() // twice is fine
	if err := o.Flush(); err != nil || w.String() != "tick\nafter\n" {
		t.Fatalf("%v %q", err, w.String())
	}
	o2 := NewOutput(&w, 1<<10)
	stop2 := o2.Start(time.Hour)
	fmt.Fprint(o2.Buffered(), "at stop\n")
	stop2()
	if !strings.HasSuffix(w.String(), "at stop\n") {
		t.Fatalf("stop did not flush: %q", w.String())
	}
}

// Lines from many goroutines, buffered and not, arrive whole.
func TestOutputConcurrentLinesWhole(t *testing.T) {
	var w lockedBuffer
	o := NewOutput(&w, 256)
	log := New(o, true, slog.LevelInfo)
	access := ForAccess(log)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				if i%10 == 0 {
					log.Warn("direct", "g", g, "i", i)
				} else {
					access.Info("request", "g", g, "i", i)
				}
			}
		})
	}
	wg.Wait()
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(w.String(), "\n"), "\n")
	if len(lines) != 1600 {
		t.Fatalf("%d lines, want 1600", len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `{"time":`) || !strings.HasSuffix(l, "}") {
			t.Fatalf("a torn line: %q", l)
		}
	}
}

// The access logger of a logger on an Output writes its buffered lines,
// with the request id and the logger's attributes; on any other writer it
// is the logger itself.
func TestForAccess(t *testing.T) {
	var w lockedBuffer
	o := NewOutput(&w, 1<<10)
	log := New(o, true, slog.LevelInfo).With("component", "http")
	ctx := WithRequestID(context.Background(), "r-1")
	ForAccess(log).InfoContext(ctx, "request", "status", 200)
	if w.String() != "" {
		t.Fatalf("an access line was written at once: %q", w.String())
	}
	log.InfoContext(ctx, "other")
	got := w.String()
	if !strings.Contains(got, `"msg":"request","component":"http","status":200,"request_id":"r-1"`) ||
		!strings.HasSuffix(got, `"msg":"other","component":"http","request_id":"r-1"}`+"\n") {
		t.Fatalf("lines:\n%s", got)
	}
	var plain bytes.Buffer
	l := New(&plain, false, slog.LevelInfo)
	if ForAccess(l) != l {
		t.Fatal("ForAccess of a logger without an Output is not the logger")
	}
	ForAccess(l).Info("request")
	if !strings.Contains(plain.String(), "msg=request") {
		t.Fatalf("%q", plain.String())
	}
}
