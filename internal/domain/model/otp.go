package model

import "time"

// CodePolicy holds the limits of SMS verification codes (defaults from
// API.md §2); the code stores (adapters/otp) apply it atomically.
type CodePolicy struct {
	CodeTTL      time.Duration // 300 s: a code is valid this long after it was sent
	Interval     time.Duration // 60 s between two codes for one phone
	DailyLimit   int           // 10 codes per phone per local day
	IPLimit      int           // 30 codes per client IP per fixed hour window; 0 = off
	MaxFailures  int           // 5: the 5th wrong attempt burns the code and locks the phone
	LockDuration time.Duration // 15 min
	FailureTTL   time.Duration // 24 h: the wrong-attempt counter is forgotten this long after the last failure
}

// DefaultCodePolicy returns the policy of API.md.
func DefaultCodePolicy() CodePolicy {
	return CodePolicy{
		CodeTTL: 300 * time.Second, Interval: 60 * time.Second, DailyLimit: 10, IPLimit: 30,
		MaxFailures: 5, LockDuration: 15 * time.Minute, FailureTTL: 24 * time.Hour,
	}
}

// CodeIssue asks a code store to record a newly generated code.
type CodeIssue struct {
	Phone    string    // E.164
	IP       string    // what the per-IP limit counts: a client IP, or an IPv6 /64 ("" = not counted)
	CodeHash []byte    // keyed hash of the code
	Now      time.Time // injected clock
	DayKey   string    // local calendar day, e.g. "2026-11-25" (server time zone)
	DayEnd   time.Time // start of the next local day (for Retry-After)
}

// CodeOutcome is the outcome of issuing or verifying a code.
type CodeOutcome int

// The outcomes of a code store.
const (
	CodeOK         CodeOutcome = iota // Issue: code stored; Verify: code matched and consumed
	CodeLocked                        // phone locked after too many wrong codes (API 1007)
	CodeTooSoon                       // Issue: within Interval of the last send (1006)
	CodeDailyLimit                    // Issue: DailyLimit codes already sent today (1006)
	CodeIPLimit                       // Issue: IPLimit codes already sent from this IP this hour (1006)
	CodeWrong                         // Verify: code does not match (1004)
	CodeNone                          // Verify: expired, used, burned or never sent (1005)
)

// CodeResult is the answer of issuing or verifying a code.
type CodeResult struct {
	Outcome CodeOutcome
	// RetryAfter is set for CodeLocked, CodeTooSoon, CodeDailyLimit and
	// CodeIPLimit: how long until the request can succeed (rounded up to
	// whole seconds by callers).
	RetryAfter time.Duration
}

// CodeThen is what a successful verification also does in its atomic
// step: the login stores the session it opens, so a code is never consumed
// without its session being stored, nor a session stored without its code
// being consumed.
type CodeThen struct {
	// Key is set to Value, expiring after TTL (<= 0: never).
	Key   string
	Value []byte
	TTL   time.Duration
}
