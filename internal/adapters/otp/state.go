package otp

import (
	"crypto/subtle"
	"time"
)

// phoneState is everything a Go store (Memory, SQLite) knows about one
// phone; the Redis store keeps the same fields in a hash and decides in Lua.
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

// issue decides Issue (see Store) on the state s of req.Phone (the zero
// state for a phone never seen), with ipSent codes already issued from
// req.IP in the current hour window when countIP. On OK it updates s and
// the caller counts the IP window; any other outcome leaves s as it was.
func issue(p Policy, s *phoneState, req IssueRequest, ipSent int, countIP bool) Result {
	now := req.Now
	if now.Before(s.lockUntil) {
		return Result{Outcome: Locked, RetryAfter: s.lockUntil.Sub(now)}
	}
	if !s.lastSend.IsZero() {
		if next := s.lastSend.Add(p.Interval); now.Before(next) {
			return Result{Outcome: TooSoon, RetryAfter: next.Sub(now)}
		}
	}
	sentToday := 0
	if s.dayKey == req.DayKey {
		sentToday = s.dayCount
	}
	if sentToday >= p.DailyLimit {
		return Result{Outcome: DailyLimit, RetryAfter: req.DayEnd.Sub(now)}
	}
	if countIP && ipSent >= p.IPLimit {
		return Result{Outcome: IPLimit, RetryAfter: ipWindowStart(now).Add(time.Hour).Sub(now)}
	}
	s.codeHash = append([]byte(nil), req.CodeHash...)
	s.codeExp = now.Add(p.CodeTTL)
	s.lastSend = now
	s.dayKey, s.dayCount = req.DayKey, sentToday+1
	s.dayEnd = req.DayEnd
	return Result{Outcome: OK}
}

// countsIP reports whether an Issue of req counts its IP.
func countsIP(p Policy, req IssueRequest) bool { return p.IPLimit > 0 && req.IP != "" }

// ipWindowStart is the start of the fixed hour window of now.
func ipWindowStart(now time.Time) time.Time { return now.Truncate(time.Hour) }

// verify decides Verify (consume) or Check (!consume) (see Store) on the
// state s of a phone, updating it, and reports whether it changed s: a
// matching code is consumed only by Verify, a wrong one counts in both.
func verify(p Policy, s *phoneState, codeHash []byte, now time.Time, consume bool) (Result, bool) {
	if now.Before(s.lockUntil) {
		return Result{Outcome: Locked, RetryAfter: s.lockUntil.Sub(now)}, false
	}
	if s.codeHash == nil || !now.Before(s.codeExp) {
		return Result{Outcome: NoCode}, false
	}
	if subtle.ConstantTimeCompare(s.codeHash, codeHash) == 1 {
		if !consume {
			return Result{Outcome: OK}, false
		}
		s.codeHash, s.codeExp = nil, time.Time{}
		s.fails, s.failExp = 0, time.Time{}
		return Result{Outcome: OK}, true
	}
	if !now.Before(s.failExp) {
		s.fails = 0
	}
	s.fails++
	s.failExp = now.Add(p.FailureTTL)
	if s.fails >= p.MaxFailures {
		s.codeHash, s.codeExp = nil, time.Time{}
		s.lockUntil = now.Add(p.LockDuration)
		return Result{Outcome: Locked, RetryAfter: p.LockDuration}, true
	}
	return Result{Outcome: WrongCode}, true
}
