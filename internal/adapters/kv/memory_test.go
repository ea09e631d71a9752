package kv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/platform/clock"
)

// The contract suite runs in contract_test.go (package kv_test); this file
// checks the memory store's internals.

func TestMemorySweepRemovesExpiredEntries(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	m := NewMemory(clk)
	const n = 1000
	for i := range n {
		if err := m.Set(ctx, fmt.Sprint("old", i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Minute)
	// Writes of fresh keys sweep samples of the expired ones without anyone
	// reading them.
	for i := range 4 * n {
		if err := m.Set(ctx, fmt.Sprint("new", i%10), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	left := len(m.items)
	m.mu.Unlock()
	if left > n/2 {
		t.Fatalf("%d entries left after sweeping, want most of the %d expired ones gone", left, n)
	}
}

func TestMemoryGetRemovesExpiredEntry(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	m := NewMemory(clk)
	if err := m.Set(ctx, "k", []byte("v"), time.Second); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second) // expiry is inclusive: at ttl the key is gone
	if _, err := m.Get(ctx, "k"); err != ErrNotFound {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
	m.mu.Lock()
	_, ok := m.items["k"]
	m.mu.Unlock()
	if ok {
		t.Fatal("expired entry still stored after Get")
	}
}

func TestMemorySweepCostIsBounded(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	m := NewMemory(clk)
	for i := range 10_000 {
		if err := m.Set(ctx, fmt.Sprint(i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour)
	m.mu.Lock()
	before := len(m.items)
	m.writes = sweepEvery - 1
	m.wrote(clk.Now())
	removed := before - len(m.items)
	m.mu.Unlock()
	if removed > sweepSample {
		t.Fatalf("one sweep removed %d entries, want at most %d", removed, sweepSample)
	}
}
