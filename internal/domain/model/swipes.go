package model

import (
	"context"
	"errors"
	"time"
)

// The facts a batch of swipes or a rewind is decided on, and the outcomes
// that are written: the store reads and writes these, the social module
// decides between (see ARCHITECTURE.md, "The path of a swipe").

// Pair is a swipe's direction: From swiped To.
type Pair struct{ From, To int64 }

// QuotaKey names the daily quota row of a user and a local day.
type QuotaKey struct {
	User int64
	Day  string
}

// SwipeUser is what a swipe needs of a user: the VIP columns.
type SwipeUser struct {
	VIPLevel     int
	VIPExpiresAt *time.Time
}

// SwipeFactsQuery says what SwipeTx.Facts reads.
type SwipeFactsQuery struct {
	Pairs  []Pair     // the batch's swipes: users, stored swipes, blocks
	Quotas []QuotaKey // the quota rows of its likes
}

// SwipeFacts is what the database holds about a batch of swipes.
type SwipeFacts struct {
	// Users holds the swipers and swiped users that exist and are neither
	// banned nor deleted, read in share mode: a ban or an account deletion
	// (which write those rows) waits for the batch's commit, and a batch
	// after it reads the change, so no swipe commits after a deletion has
	// removed the user's swipes.
	Users map[int64]SwipeUser
	// Swiped holds the pairs already swiped (locked: a concurrent batch
	// that inserted one is waited for, then seen).
	Swiped map[Pair]bool
	// Blocked holds both directions of every block between the two users
	// of a pair.
	Blocked map[Pair]bool
	// Used holds the likes used of the quota rows that exist (locked).
	Used map[QuotaKey]int
	// Latest holds each swiper's latest swipe time (created_at).
	Latest map[int64]time.Time
}

// PairState is a pair's like_pairs row as Record reads it back (locked),
// for the pair (A, B) with A < B.
type PairState struct {
	ALikes, BLikes bool // A liked B, B liked A
	Matched        bool // the two are matched already
	Blocked        bool // one blocked the other
}

// ScoreAdd adds to the score of a user.
type ScoreAdd struct {
	User          int64
	Delta, Swipes int64
}

// NewMatch is a match to create (A < B).
type NewMatch struct {
	A, B int64
	At   time.Time
}

// SwipeRecord is what SwipeTx.Record writes: a batch's decided swipes,
// the likes among them (marked on their pairs' rows), the likes added to
// quota rows and the scores added.
type SwipeRecord struct {
	Swipes []Swipe
	Likes  []Pair
	Quota  map[QuotaKey]int
	Scores []ScoreAdd
}

// SwipeTx is the transaction of a batch of swipes: the store's reads and
// writes, in the order the social module calls them; a deadlock or a
// certification conflict runs the whole transaction, decisions included,
// again.
type SwipeTx interface {
	// Facts reads the batch's users, stored pairs (locked), blocks,
	// existing quota rows (locked) and swipers' latest swipe times.
	Facts(ctx context.Context, q SwipeFactsQuery) (SwipeFacts, error)
	// LockQuotas creates the missing quota rows keys and returns the
	// likes used of each, locked.
	LockQuotas(ctx context.Context, keys []QuotaKey) (map[QuotaKey]int, error)
	// Record writes the decided swipes, their likes' sides of their pairs'
	// rows, the quotas and the scores, and reads the likes' pair rows back,
	// locked.
	Record(ctx context.Context, r SwipeRecord) (map[Pair]PairState, error)
	// InsertMatches creates the matches decided on the pair rows.
	InsertMatches(ctx context.Context, ms []NewMatch) error
}

// RewindFacts is what a rewind is decided on.
type RewindFacts struct {
	Latest  *Swipe // the user's latest swipe (nil: none)
	Matched bool   // its two users are matched
	Rewinds int    // rewinds the user used on the day asked
}

// RewindUndo is a rewind as decided on RewindFacts.
type RewindUndo struct {
	Swipe      Swipe  // the latest swipe, as read
	Matched    bool   // its users' match, as read: removed with it
	Day        string // the day whose rewinds the rewind uses
	MaxRewinds int    // rewinds allowed on Day
	ScoreDelta int64  // added to the swiped user's score
	LikeDay    string // the day whose like quota gets the swipe's like back ("": none)
}

// ErrStale refuses a RewindUndo whose facts changed since they were read
// (the swipe is gone or no longer the latest, or the match came or went).
var ErrStale = errors.New("rewind facts changed")
