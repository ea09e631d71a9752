package otp

import (
	"context"
	"sync"
	"time"
)

// sweepEvery is the minimum number of calls between two sweeps of expired
// state. A sweep also waits until at least as many calls as there are
// entries have been made, so its cost stays O(1) per call amortised.
const sweepEvery = 1024

// sweepGrace keeps state a little past the instant it stops mattering, so a
// caller whose clock lags slightly behind another's still sees it.
const sweepGrace = time.Minute

type ipWindow struct {
	ip    string
	start int64 // unix seconds of the start of the hour window
}

// Memory is the in-process Store: one mutex over a map of per-phone state
// and per-IP hour-window counters, forgotten by a restart (the app uses it
// only on a MySQL database without Redis; the embedded path has SQLite).
// Time comes only from the callers.
type Memory struct {
	p Policy

	mu     sync.Mutex
	phones map[string]*phoneState
	ips    map[ipWindow]int
	calls  int // calls since the last sweep
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-process store enforcing p.
func NewMemory(p Policy) *Memory {
	return &Memory{p: p, phones: make(map[string]*phoneState), ips: make(map[ipWindow]int)}
}

// Issue implements Store.
func (m *Memory) Issue(ctx context.Context, req IssueRequest) (Result, error) {
	if err := checkIssue(ctx, req); err != nil {
		return Result{}, err
	}
	now := req.Now
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybeSweep(now)

	var cur phoneState
	if s := m.phones[req.Phone]; s != nil {
		cur = *s
	}
	countIP := countsIP(m.p, req)
	win := ipWindow{ip: req.IP, start: ipWindowStart(now).Unix()}
	res := issue(m.p, &cur, req, m.ips[win], countIP)
	if res.Outcome != OK {
		return res, nil
	}
	m.phones[req.Phone] = &cur
	if countIP {
		m.ips[win]++
	}
	return res, nil
}

// Verify implements Store.
func (m *Memory) Verify(ctx context.Context, phone string, codeHash []byte, now time.Time) (Result, error) {
	return m.verify(ctx, phone, codeHash, now, true)
}

// Check implements Store.
func (m *Memory) Check(ctx context.Context, phone string, codeHash []byte, now time.Time) (Result, error) {
	return m.verify(ctx, phone, codeHash, now, false)
}

func (m *Memory) verify(ctx context.Context, phone string, codeHash []byte, now time.Time, consume bool) (Result, error) {
	if err := checkVerify(ctx, phone); err != nil {
		return Result{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybeSweep(now)

	s := m.phones[phone]
	if s == nil {
		return Result{Outcome: NoCode}, nil
	}
	res, _ := verify(m.p, s, codeHash, now, consume)
	return res, nil
}

// maybeSweep drops state that no longer matters, every so many calls.
// m.mu must be held.
func (m *Memory) maybeSweep(now time.Time) {
	m.calls++
	if m.calls < sweepEvery || m.calls < len(m.phones)+len(m.ips) {
		return
	}
	m.calls = 0
	m.sweep(now)
}

// sweep drops per-phone state whose every part is over and IP windows whose
// hour is over. m.mu must be held.
func (m *Memory) sweep(now time.Time) {
	cutoff := now.Add(-sweepGrace)
	for phone, s := range m.phones {
		if s.forgetAt(m.p).Before(cutoff) {
			delete(m.phones, phone)
		}
	}
	for w := range m.ips {
		if time.Unix(w.start, 0).Add(time.Hour).Before(cutoff) {
			delete(m.ips, w)
		}
	}
}
