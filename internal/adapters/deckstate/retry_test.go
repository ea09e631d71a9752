package deckstate_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/deckstate"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// flaky fails every call while down.
type flaky struct {
	deckstate.Store
	down bool
}

var errDown = errors.New("down")

func (f *flaky) Swiped(ctx context.Context, sw []deckstate.Swipe) error {
	if f.down {
		return errDown
	}
	return f.Store.Swiped(ctx, sw)
}

func (f *flaky) Rewound(ctx context.Context, sw deckstate.Swipe) error {
	if f.down {
		return errDown
	}
	return f.Store.Rewound(ctx, sw)
}

func TestRetryingDeliversInOrder(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	mem := deckstate.NewMemory(clock.NewFake(t0), time.Hour)
	f := &flaky{Store: mem}
	r := deckstate.NewRetrying(f, 100, slog.New(slog.NewTextHandler(io.Discard, nil)))
	fill := func() {
		p, _ := mem.Probe(ctx, 7, nil, 0)
		if err := mem.Fill(ctx, 7, p.Token, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	fill()
	f.down = true
	if err := r.Swiped(ctx, []deckstate.Swipe{{Swiper: 7, Swiped: 5, At: t0}}); !errors.Is(err, errDown) {
		t.Fatalf("failed report answered %v", err)
	}
	f.down = false
	// A later report waits behind the failed one instead of overtaking it.
	if err := r.Swiped(ctx, []deckstate.Swipe{{Swiper: 7, Swiped: 6, At: t0}}); err != nil {
		t.Fatal(err)
	}
	if p, _ := mem.Probe(ctx, 7, []int64{5, 6}, 0); len(p.Swiped) != 0 {
		t.Fatalf("delivered out of order: %v", p.Swiped)
	}
	if r.Pending() != 2 {
		t.Fatalf("pending %d, want 2", r.Pending())
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := mem.Probe(ctx, 7, []int64{5, 6}, 0); !p.Swiped[5] || !p.Swiped[6] {
		t.Fatalf("after flush: %+v", p)
	}
	if r.Pending() != 0 {
		t.Fatalf("pending %d after flush", r.Pending())
	}
	// Bounded: the oldest are dropped.
	f.down = true
	for i := range 150 {
		_ = r.Swiped(ctx, []deckstate.Swipe{{Swiper: 7, Swiped: int64(100 + i), At: t0}})
	}
	if r.Pending() != 100 {
		t.Fatalf("pending %d, want the bound 100", r.Pending())
	}
	if err := r.Flush(ctx); !errors.Is(err, errDown) || r.Pending() != 100 {
		t.Fatalf("flush while down: %v, pending %d", err, r.Pending())
	}
}
