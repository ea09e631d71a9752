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

	"github.com/swiper-social/swiper/internal/domain/model"
)

// Policy holds the limits (the domain's model.CodePolicy).
type Policy = model.CodePolicy

// DefaultPolicy returns the policy of API.md (model.DefaultCodePolicy).
func DefaultPolicy() Policy { return model.DefaultCodePolicy() }

// IssueRequest asks to record a newly generated code (model.CodeIssue).
type IssueRequest = model.CodeIssue

// Outcome of Issue or Verify (model.CodeOutcome).
type Outcome = model.CodeOutcome

// The outcomes, as the domain names them.
const (
	OK         = model.CodeOK         // Issue: code stored; Verify: code matched and consumed
	Locked     = model.CodeLocked     // phone locked after too many wrong codes (API 1007)
	TooSoon    = model.CodeTooSoon    // Issue: within Interval of the last send (1006)
	DailyLimit = model.CodeDailyLimit // Issue: DailyLimit codes already sent today (1006)
	IPLimit    = model.CodeIPLimit    // Issue: IPLimit codes already sent from this IP this hour (1006)
	WrongCode  = model.CodeWrong      // Verify: code does not match (1004)
	NoCode     = model.CodeNone       // Verify: expired, used, burned or never sent (1005)
)

// Result is the answer of Issue or Verify (model.CodeResult).
type Result = model.CodeResult

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

// Then is what a successful verification also does in its atomic step
// (model.CodeThen): the login stores the session it opens, so a code is
// never consumed without its session being stored, nor a session stored
// without its code being consumed.
type Then = model.CodeThen

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
