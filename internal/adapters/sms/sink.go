package sms

import (
	"context"
	"fmt"
	"sync"

	phonenum "github.com/swiper-social/swiper/internal/domain/phone"
)

// Sink records sent codes in memory, for tests and end-to-end tests. It is
// safe for concurrent use. It is itself a Sender, and its Record method fits
// NewConsole's sink parameter. The zero value is ready to use.
type Sink struct {
	mu      sync.Mutex
	codes   map[string][]string // phone → codes in the order sent
	changed chan struct{}       // closed and replaced on every Record
}

// Record stores code as the latest code sent to phone.
func (s *Sink) Record(phone, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.codes == nil {
		s.codes = make(map[string][]string)
	}
	s.codes[phone] = append(s.codes[phone], code)
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// Send records the code; it never fails.
func (s *Sink) Send(_ context.Context, phone, code string) error {
	s.Record(phone, code)
	return nil
}

// Last returns the latest code sent to phone.
func (s *Sink) Last(phone string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	codes := s.codes[phone]
	if len(codes) == 0 {
		return "", false
	}
	return codes[len(codes)-1], true
}

// Count returns how many codes were sent to phone.
func (s *Sink) Count(phone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.codes[phone])
}

// Wait blocks until at least one code was sent to phone and returns the
// latest one, or returns ctx's error.
func (s *Sink) Wait(ctx context.Context, phone string) (string, error) {
	code, err := s.WaitN(ctx, phone, 1)
	if err != nil {
		return "", err
	}
	if last, ok := s.Last(phone); ok {
		return last, nil
	}
	return code, nil
}

// WaitN blocks until at least n codes were sent to phone and returns the
// n-th one (1-based), or returns ctx's error. Use it after a resend:
// n := sink.Count(phone) + 1; request a code; sink.WaitN(ctx, phone, n).
func (s *Sink) WaitN(ctx context.Context, phone string, n int) (string, error) {
	if n < 1 {
		return "", fmt.Errorf("sms: sink: WaitN needs n >= 1, got %d", n)
	}
	for {
		s.mu.Lock()
		if codes := s.codes[phone]; len(codes) >= n {
			s.mu.Unlock()
			return codes[n-1], nil
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		changed := s.changed
		s.mu.Unlock()

		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("sms: sink: wait for code %d to %s: %w", n, phonenum.Mask(phone), ctx.Err())
		}
	}
}

var _ Sender = (*Sink)(nil)
