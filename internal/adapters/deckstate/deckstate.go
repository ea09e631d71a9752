// Package deckstate caches, per viewer, what a deck must leave out or put
// first and the database would otherwise be asked on every deck: the users
// the viewer swiped (or is matched with), and the superlikers of the viewer
// newest first. It also carries the version of deck-visible user data, so
// that a replica can tell when its in-memory deck index (internal/deck)
// missed a change committed on another replica.
//
// The database stays the truth. A viewer's state is filled from it on a
// miss and lives for a bounded time; writers report committed swipes and
// rewinds, which update filled states. Every report bumps the viewer's
// generation first, and a fill is dropped when the generation moved since
// the probe that missed, so a fill racing a swipe can never cache the state
// from before that swipe.
//
// Two implementations pass one contract (deckstatetest): Memory, for one
// process, and Redis (Lua scripts), shared by every replica.
package deckstate

import (
	"context"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// The deck state's values are the domain's plain types (package model);
// these names are for this package's code and its callers.
type (
	Swipe      = model.DeckSwipe  // a committed swipe (or a rewound one)
	Superliker = model.Superliker // who superliked the viewer, and when
	Token      = model.DeckToken  // what a Fill needs from the Probe that missed
	Probe      = model.DeckProbe  // what a deck learns about its viewer
)

// Store is the deck state. Every error from an unreachable backend
// satisfies errors.Is(err, backend.ErrUnavailable). The domain declares the
// parts it calls (social.DeckState, safety.DeckState).
type Store interface {
	// Probe reports which of ids viewer swiped and up to limit of viewer's
	// superlikers (limit 0: none).
	Probe(ctx context.Context, viewer int64, ids []int64, limit int) (Probe, error)
	// Fill caches viewer's state read from the database after the Probe
	// that returned tok; it is dropped when a report about viewer (or a
	// Reset) came in since.
	Fill(ctx context.Context, viewer int64, tok Token, swiped []int64, superlikers []Superliker) error
	// Swiped reports committed swipes.
	Swiped(ctx context.Context, sw []Swipe) error
	// Rewound reports a committed rewind of sw.
	Rewound(ctx context.Context, sw Swipe) error
	// Changed reports a committed change of deck-visible user data.
	Changed(ctx context.Context) error
	// Reset drops every cached state (after a bulk load of swipes).
	Reset(ctx context.Context) error
}

// DefaultTTL is how long a filled state lives: it bounds what a report
// that could not be delivered (the backend was down) can leave stale.
const DefaultTTL = 10 * time.Minute

// genTTL is how long a generation outlives its last report: far longer
// than any fill can take.
const genTTL = 24 * time.Hour
