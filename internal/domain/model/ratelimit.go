package model

import (
	"fmt"
	"time"
)

// RateRule is one limit: at most Max actions named Name per subject in
// each window of length Per (fixed or rolling, as the limiter counts). A
// zero Max means no limit.
type RateRule struct {
	Name string
	Max  int64
	Per  time.Duration
}

// RateError is returned when a subject has used up a RateRule (API code
// 2008).
type RateError struct {
	Rule       RateRule
	RetryAfter time.Duration // until the window lets one more action in
}

func (e *RateError) Error() string {
	return fmt.Sprintf("ratelimit: %s: more than %d per %s", e.Rule.Name, e.Rule.Max, e.Rule.Per)
}

// RateAction is one action counted by a rolling-window limit: the subject
// it is counted against and the member naming it (the same member taken
// again while in the window counts once).
type RateAction struct{ Subject, Member string }

// RateTaken is an action a rolling-window limit counted: Key and Member
// name its entry, for the limiter to give back an action refused after
// all. Counted is false when the take made no entry (the member was
// already in the window, or there is no limit): then there is nothing to
// give back.
type RateTaken struct {
	Key, Member string
	Counted     bool
}
