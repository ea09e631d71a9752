package otp

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestMemorySweep checks that state which no longer matters is dropped, and
// state which does is kept.
func TestMemorySweep(t *testing.T) {
	ctx := context.Background()
	p := DefaultPolicy()
	m := NewMemory(p)
	zone := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, zone)
	dayEnd := time.Date(2026, 11, 26, 0, 0, 0, 0, zone)
	issue := func(phone, ip string, now time.Time) {
		t.Helper()
		res, err := m.Issue(ctx, IssueRequest{Phone: phone, IP: ip, CodeHash: []byte{1}, Now: now,
			DayKey: now.In(zone).Format("2006-01-02"), DayEnd: dayEnd})
		if err != nil || res.Outcome != OK {
			t.Fatalf("issue %s: %v %v", phone, res, err)
		}
	}
	const n = 5000
	for i := range n {
		issue(fmt.Sprintf("+1555%07d", i), fmt.Sprintf("10.0.%d.%d", i/250, i%250), now)
	}
	// One phone gets locked: its failure counter lasts FailureTTL (24 h).
	locked := "+15559999999"
	issue(locked, "", now)
	for range p.MaxFailures {
		if _, err := m.Verify(ctx, locked, []byte{2}, now); err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	phones, ips := len(m.phones), len(m.ips)
	m.mu.Unlock()
	if phones != n+1 || ips != n {
		t.Fatalf("before: %d phones, %d IP windows; want %d, %d", phones, ips, n+1, n)
	}

	// After the day is over (and the grace), everything but the failure
	// counter is over; enough calls trigger a sweep.
	later := dayEnd.Add(2 * time.Minute)
	for i := range 2 * n {
		if _, err := m.Verify(ctx, fmt.Sprintf("+1666%07d", i), []byte{1}, later); err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	phones, ips = len(m.phones), len(m.ips)
	_, kept := m.phones[locked]
	m.mu.Unlock()
	if phones != 1 || ips != 0 || !kept {
		t.Fatalf("after sweep: %d phones (locked kept: %v), %d IP windows; want 1 (true), 0", phones, kept, ips)
	}
	// The counter still matters: one more wrong code locks again.
	issue(locked, "", later)
	res, err := m.Verify(ctx, locked, []byte{2}, later)
	if err != nil || res.Outcome != Locked {
		t.Fatalf("verify after sweep: %v %v, want Locked", res, err)
	}
	// Once FailureTTL is over, it goes too.
	end := later.Add(p.FailureTTL + 2*time.Minute)
	for i := range 4 * sweepEvery {
		if _, err := m.Verify(ctx, fmt.Sprintf("+1777%07d", i), []byte{1}, end); err != nil {
			t.Fatal(err)
		}
	}
	m.mu.Lock()
	phones = len(m.phones)
	m.mu.Unlock()
	if phones != 0 {
		t.Fatalf("after FailureTTL: %d phones, want 0", phones)
	}
}
