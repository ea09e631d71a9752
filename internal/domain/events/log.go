package events

import (
	"context"
	"encoding/json"
	"time"
)

// Record is an event to append to one user's log: Outgoing with its data
// encoded.
type Record struct {
	To   int64
	Type string
	Data json.RawMessage
	Key  string // idempotency key within the horizon; "" = none
}

// Stored is an event appended to user To's log, with the seq it got.
type Stored struct {
	To int64
	Event
	// Sent is when the publisher appended it (Unix nanoseconds, the
	// publisher's wall clock): the fan-out latency is measured from it.
	Sent int64
}

// Replay is what a log holds after a seq.
type Replay struct {
	Events []Event // every held event after the seq asked for, in order
	Latest int64   // the user's latest seq (0: none ever)
	// Gap: events after the seq asked for were dropped (older than the
	// horizon, or beyond the cap): the client must resync.
	Gap bool
}

// Log is a per-user numbered event log. Implementations: Memory, SQLite
// (embedded path), Redis (production); all pass eventstest.
type Log interface {
	// Append appends each record to its user's log and returns those
	// appended, with their seqs: per user, seqs start at 1 and increase
	// strictly, without gaps, whatever runs concurrently. A record whose
	// (To, Key) was appended within the horizon is skipped.
	Append(ctx context.Context, recs ...Record) ([]Stored, error)
	// Since returns the events of user held after seq since, in order.
	Since(ctx context.Context, user, since int64) (Replay, error)
	// Forget removes everything held for user: events, publish keys and
	// the seq (a deleted account).
	Forget(ctx context.Context, user int64) error
}

// Limits bound what a log keeps per user.
type Limits struct {
	// Horizon is how long events (and publish keys) are kept at least.
	Horizon time.Duration
	// Cap is the most events kept per user (memory safety): older ones are
	// dropped first, even within the horizon.
	Cap int
}

// DefaultLimits: a day of events, at most 5,000 per user.
func DefaultLimits() Limits { return Limits{Horizon: 24 * time.Hour, Cap: 5000} }

func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.Horizon <= 0 {
		l.Horizon = d.Horizon
	}
	if l.Cap <= 0 {
		l.Cap = d.Cap
	}
	return l
}

// gap reports whether a client that saw every event up to since has missed
// dropped ones, given the first held seq (0: none held) and the latest.
// since 0 means "from the oldest held": never a gap.
func gap(since, first, latest int64) bool {
	if since <= 0 || since >= latest {
		return false
	}
	if first == 0 {
		return true
	}
	return first > since+1
}
