package tasks

import (
	"testing"
	"time"
)

func TestCeilSecond(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{time.Second, time.Second},
		{300 * time.Millisecond, time.Second},
		{1400 * time.Millisecond, 2 * time.Second},
		{1600 * time.Millisecond, 2 * time.Second},
		{time.Minute, time.Minute},
	} {
		if got := ceilSecond(tc.in); got != tc.want {
			t.Errorf("ceilSecond(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAsynqRetryDelayCountsFromOne(t *testing.T) {
	w := NewAsynqWorker(nil, "q", NewMux(), WorkerOptions{})
	if got := w.retryDelay(0, nil, nil); got != 2*time.Second {
		t.Fatalf("first retry delay = %v, want Backoff(1) = 2s", got)
	}
	if got := w.retryDelay(2, nil, nil); got != 8*time.Second {
		t.Fatalf("third retry delay = %v, want Backoff(3) = 8s", got)
	}
}
