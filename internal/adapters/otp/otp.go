// Package otp keeps the state of SMS verification codes and enforces their
// limits atomically: a SQLite store for the embedded path (in the database
// file, so codes, counters and locks survive a restart), a Redis store (Lua
// scripts) for production, and an in-process store. All pass the same
// contract test (otptest).
//
// The store never sees a code, only its keyed hash (computed by the auth
// service). All decisions are made inside one atomic step per call (on a
// Redis Cluster an Issue counted against an IP takes two, see Redis), so
// concurrent requests can never overrun a limit.
package otp

import (
	"context"
	"time"
)

// Policy holds the limits (defaults from API.md §2).
type Policy struct {
	CodeTTL      time.Duration // 300 s: a code is valid this long after it was sent
	Interval     time.Duration // 60 s between two codes for one phone
	DailyLimit   int           // 10 codes per phone per local day
	IPLimit      int           // 30 codes per client IP per fixed hour window; 0 = off
	MaxFailures  int           // 5: the 5th wrong attempt burns the code and locks the phone
	LockDuration time.Duration // 15 min
	FailureTTL   time.Duration // 24 h: the wrong-attempt counter is forgotten this long after the last failure
}

// DefaultPolicy returns the policy of API.md.
func DefaultPolicy() Policy {
	return Policy{
		CodeTTL: 300 * time.Second, Interval: 60 * time.Second, DailyLimit: 10, IPLimit: 30,
		MaxFailures: 5, LockDuration: 15 * time.Minute, FailureTTL: 24 * time.Hour,
	}
}

// IssueRequest asks to record a newly generated code.
type IssueRequest struct {
	Phone    string    // E.164
	IP       string    // what the per-IP limit counts: a client IP, or an IPv6 /64 ("" = not counted)
	CodeHash []byte    // keyed hash of the code
	Now      time.Time // injected clock
	DayKey   string    // local calendar day, e.g. "2026-11-25" (server time zone)
	DayEnd   time.Time // start of the next local day (for Retry-After)
}

// Outcome of Issue or Verify.
type Outcome int

const (
	OK         Outcome = iota // Issue: code stored; Verify: code matched and consumed
	Locked                    // phone locked after too many wrong codes (API 1007)
	TooSoon                   // Issue: within Interval of the last send (1006)
	DailyLimit                // Issue: DailyLimit codes already sent today (1006)
	IPLimit                   // Issue: IPLimit codes already sent from this IP this hour (1006)
	WrongCode                 // Verify: code does not match (1004)
	NoCode                    // Verify: expired, used, burned or never sent (1005)
)

// Result is the answer of Issue or Verify.
type Result struct {
	Outcome Outcome
	// RetryAfter is set for Locked, TooSoon, DailyLimit and IPLimit: how long
	// until the request can succeed (rounded up to whole seconds by callers).
	RetryAfter time.Duration
}

// Store is the atomic state machine of verification codes.
//
// Issue, in order: if the phone is locked → Locked (RetryAfter = lock left).
// If a code was sent less than Interval ago → TooSoon (RetryAfter = rest of
// the interval). If DailyLimit codes were sent for this phone on DayKey →
// DailyLimit (RetryAfter = DayEnd-Now). If IPLimit > 0 and IPLimit codes were
// issued for IP in the current fixed hour window (Now truncated to the hour)
// → IPLimit (RetryAfter = end of the window - Now). Otherwise the new hash
// replaces any previous code (which stops being valid), expiring at
// Now+CodeTTL, and the phone, day and IP counters are incremented. Rejected
// requests change nothing. The failure counter is never touched by Issue.
//
// Verify: if locked → Locked. If there is no valid code (none, expired,
// consumed, burned) → NoCode, failure count unchanged. If the hash matches →
// OK: the code is consumed and the failure counter reset. Otherwise the
// failure counter is incremented (it expires FailureTTL after the last
// failure); when it reaches MaxFailures or more, the code is burned, the
// phone is locked for LockDuration, and the answer is Locked; below that,
// WrongCode. The counter is not reset by a lock, so after a lock one more
// wrong code locks again; only a successful Verify resets it.
//
// Check is Verify that consumes nothing on a match: OK leaves the code valid
// and the failure counter as it was. Every other answer is Verify's, with
// the same effects (a wrong code counts, and may burn the code and lock the
// phone). A login checks the code, then does the work that can fail (the
// database), and only then verifies, so a failure there leaves the code
// usable (API.md §1: a request that fails with 503 consumed nothing).
type Store interface {
	Issue(ctx context.Context, req IssueRequest) (Result, error)
	Check(ctx context.Context, phone string, codeHash []byte, now time.Time) (Result, error)
	Verify(ctx context.Context, phone string, codeHash []byte, now time.Time) (Result, error)
}

// Then is what a successful verification also does in its atomic step: the
// login stores the session it opens, so a code is never consumed without
// its session being stored, nor a session stored without its code being
// consumed.
type Then struct {
	// Key is set to Value, expiring after TTL (<= 0: never).
	Key   string
	Value []byte
	TTL   time.Duration
}

// Chainer is a Store that does Then in the step of a successful Verify. The
// key of Then is one of the kv.Store the store was made with (NewRedis's
// kv.Redis, NewSQLite's kv.SQLite).
type Chainer interface {
	Store
	// VerifyThen is Verify that, when the outcome is OK, also sets then.Key.
	// Any other outcome sets nothing. (On a Redis Cluster the key is set
	// just before the code is consumed and deleted again should it not be;
	// when that deletion fails too the call returns an error.)
	VerifyThen(ctx context.Context, phone string, codeHash []byte, now time.Time, then Then) (Result, error)
}

// Reader is a Store that reads keys along with a Check, in its round trip.
type Reader interface {
	Store
	// CheckRead is Check that, when the outcome is OK, also returns the
	// values of keys (of the kv.Store the store was made with) in
	// order, nil for a missing key. Any other outcome returns no values.
	// The keys are read at one instant, or (on a Redis Cluster, keys of
	// one slot) one after the other in their order: a key is never read
	// after one that follows it.
	CheckRead(ctx context.Context, phone string, codeHash []byte, now time.Time, keys []string) (Result, [][]byte, error)
}
