// Package events is the per-user event stream of API.md §3 Conversations:
// numbered events (message, read, match, unmatch) kept for replay by
// `since` and fanned out to every open WebSocket of the user on any replica.
package events

import (
	"context"
	"encoding/json"
)

// Event types of the API.
const (
	TypeMessage = "message"
	TypeRead    = "read"
	TypeMatch   = "match"
	TypeUnmatch = "unmatch"
	TypeResync  = "resync"
)

// Event is one frame of a user's stream: {"seq", "type", "data"}.
type Event struct {
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Outgoing is an event to publish to one user: appended to To's stream
// (with the next seq) and sent to every open socket of To. The data of
// most events depends on the recipient (a match's Card is the other user),
// so each recipient gets its own Outgoing.
type Outgoing struct {
	To   int64
	Type string
	Data any // marshalled to JSON
	// Key makes publishing idempotent: an Outgoing whose (To, Key) was
	// published before (within the replay horizon) is not published again.
	// "" = none.
	// Used so that a retried send (same client_id) that failed after the
	// message was stored publishes its event exactly once.
	Key string
}

// Publisher is how the domain services announce events. Each domain
// package declares the same one-method interface for itself.
type Publisher interface {
	Publish(ctx context.Context, evs ...Outgoing) error
}
