package logging

import (
	"io"
	"sync"
	"time"
)

// Output is a process's log destination (stderr) shared by its loggers.
// Records are written through at once, except those written through
// Buffered (the access log: a line per HTTP request), which are kept until
// size bytes are waiting, until a record is written through (so the order
// of the lines is kept), or until the next tick of Start, whichever comes
// first: one write of many lines instead of a write system call per
// request, as nginx's `access_log ... buffer= flush=` does. A write error
// is the caller's of the write that met it; kept lines are then dropped.
type Output struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	size int
}

// NewOutput returns an Output writing to w, keeping at most size bytes of
// buffered lines.
func NewOutput(w io.Writer, size int) *Output {
	return &Output{w: w, size: size}
}

// Write writes p at once, after the lines kept before it.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.flushLocked(); err != nil {
		return 0, err
	}
	return o.w.Write(p)
}

// Buffered returns the writer whose lines are kept (slog handlers write a
// whole record per call).
func (o *Output) Buffered() io.Writer { return bufferedOutput{o} }

type bufferedOutput struct{ o *Output }

func (b bufferedOutput) Write(p []byte) (int, error) {
	o := b.o
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.buf)+len(p) > o.size {
		if err := o.flushLocked(); err != nil {
			return 0, err
		}
	}
	if len(p) > o.size {
		return o.w.Write(p)
	}
	o.buf = append(o.buf, p...)
	return len(p), nil
}

// Flush writes the kept lines.
func (o *Output) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flushLocked()
}

func (o *Output) flushLocked() error {
	if len(o.buf) == 0 {
		return nil
	}
	_, err := o.w.Write(o.buf)
	o.buf = o.buf[:0]
	return err
}

// Start flushes the kept lines every interval until the returned stop is
// called, which flushes them a last time.
func (o *Output) Start(every time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = o.Flush() // the next write meets the error again
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
			_ = o.Flush()
		})
	}
}
