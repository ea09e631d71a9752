package backend_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/swiper-social/swiper/internal/platform/backend"
)

// TestClassify: connection failures, a server gone in the middle of an
// answer (EOF) included, become ErrUnavailable (503); other errors stay.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err  error
		down bool
	}{
		{fmt.Errorf("ratelimit: take messages: %w", io.EOF), true},
		{io.ErrUnexpectedEOF, true},
		{syscall.ECONNREFUSED, true},
		{fmt.Errorf("x: %w", syscall.ECONNRESET), true},
		{context.DeadlineExceeded, true},
		{errors.New("ERR wrong number of arguments"), false},
		{context.Canceled, false},
	} {
		got := backend.Classify(c.err)
		if errors.Is(got, backend.ErrUnavailable) != c.down {
			t.Errorf("Classify(%v) = %v, unavailable %v, want %v", c.err, got, !c.down, c.down)
		}
		if !errors.Is(got, c.err) {
			t.Errorf("Classify(%v) lost the error", c.err)
		}
	}
}
