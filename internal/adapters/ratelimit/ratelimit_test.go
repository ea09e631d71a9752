package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/ratelimit"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

func TestAllow(t *testing.T) {
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	l := ratelimit.New(kv.NewMemory(c), c, "t:")
	r := ratelimit.Rule{Name: "uploads", Max: 3, Per: time.Hour}
	for i := 0; i < 3; i++ {
		if err := l.Allow(ctx, r, "u1"); err != nil {
			t.Fatalf("action %d: %v", i+1, err)
		}
	}
	err := l.Allow(ctx, r, "u1")
	var le *ratelimit.Error
	if !errors.As(err, &le) {
		t.Fatalf("4th action: got %v, want *ratelimit.Error", err)
	}
	if le.RetryAfter != time.Hour {
		t.Fatalf("RetryAfter = %s, want 1h (the window started at 10:00)", le.RetryAfter)
	}
	if err := l.Allow(ctx, r, "u2"); err != nil {
		t.Fatalf("another subject is not limited: %v", err)
	}
	c.Advance(time.Hour)
	if err := l.Allow(ctx, r, "u1"); err != nil {
		t.Fatalf("next window: %v", err)
	}
	if err := l.Allow(ctx, ratelimit.Rule{Name: "off", Max: 0, Per: time.Hour}, "u1"); err != nil {
		t.Fatalf("Max 0 is no limit: %v", err)
	}
}
