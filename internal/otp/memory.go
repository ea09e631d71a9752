package otp

import (
	"context"
	"crypto/subtle"
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

// phoneState is everything the memory store knows about one phone.
type phoneState struct {
	codeHash  []byte    // nil: no code (never sent, consumed or burned)
	codeExp   time.Time // the code is valid while now < codeExp
	lastSend  time.Time // zero: never sent
	dayKey    string    // day of dayCount
	dayCount  int       // codes sent on dayKey
	dayEnd    time.Time // end of dayKey (only used to know when to forget)
	fails     int       // wrong attempts, valid while now < failExp
	failExp   time.Time
	lockUntil time.Time // locked while now < lockUntil
}

// forgetAt is the instant after which nothing in s matters any more.
func (s *phoneState) forgetAt(p Policy) time.Time {
	t := s.dayEnd
	for _, u := range []time.Time{s.codeExp, s.lastSend.Add(p.Interval), s.failExp, s.lockUntil} {
		if u.After(t) {
			t = u
		}
	}
	return t
}

type ipWindow struct {
	ip    string
	start int64 // unix seconds of the start of the hour window
}

// Memory is the in-process Store: one mutex over a map of per-phone state
// and per-IP hour-window counters. Time comes only from the callers.
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

	s := m.phones[req.Phone]
	cur := s
	if cur == nil {
		cur = &phoneState{}
	}
	if now.Before(cur.lockUntil) {
		return Result{Outcome: Locked, RetryAfter: cur.lockUntil.Sub(now)}, nil
	}
	if !cur.lastSend.IsZero() {
		if next := cur.lastSend.Add(m.p.Interval); now.Before(next) {
			return Result{Outcome: TooSoon, RetryAfter: next.Sub(now)}, nil
		}
	}
	sentToday := 0
	if cur.dayKey == req.DayKey {
		sentToday = cur.dayCount
	}
	if sentToday >= m.p.DailyLimit {
		return Result{Outcome: DailyLimit, RetryAfter: req.DayEnd.Sub(now)}, nil
	}
	var win ipWindow
	countIP := m.p.IPLimit > 0 && req.IP != ""
	if countIP {
		start := now.Truncate(time.Hour)
		win = ipWindow{ip: req.IP, start: start.Unix()}
		if m.ips[win] >= m.p.IPLimit {
			return Result{Outcome: IPLimit, RetryAfter: start.Add(time.Hour).Sub(now)}, nil
		}
	}

	if s == nil {
		s = cur
		m.phones[req.Phone] = s
	}
	s.codeHash = append([]byte(nil), req.CodeHash...)
	s.codeExp = now.Add(m.p.CodeTTL)
	s.lastSend = now
	s.dayKey, s.dayCount = req.DayKey, sentToday+1
	s.dayEnd = req.DayEnd
	if countIP {
		m.ips[win]++
	}
	return Result{Outcome: OK}, nil
}

// Verify implements Store.
func (m *Memory) Verify(ctx context.Context, phone string, codeHash []byte, now time.Time) (Result, error) {
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
	if now.Before(s.lockUntil) {
		return Result{Outcome: Locked, RetryAfter: s.lockUntil.Sub(now)}, nil
	}
	if s.codeHash == nil || !now.Before(s.codeExp) {
		return Result{Outcome: NoCode}, nil
	}
	if subtle.ConstantTimeCompare(s.codeHash, codeHash) == 1 {
		s.codeHash, s.codeExp = nil, time.Time{}
		s.fails, s.failExp = 0, time.Time{}
		return Result{Outcome: OK}, nil
	}
	if !now.Before(s.failExp) {
		s.fails = 0
	}
	s.fails++
	s.failExp = now.Add(m.p.FailureTTL)
	if s.fails >= m.p.MaxFailures {
		s.codeHash, s.codeExp = nil, time.Time{}
		s.lockUntil = now.Add(m.p.LockDuration)
		return Result{Outcome: Locked, RetryAfter: m.p.LockDuration}, nil
	}
	return Result{Outcome: WrongCode}, nil
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
