package store

import (
	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// The rows are the domain's plain types (package model); these names are
// for the store's own code.
type (
	User        = model.User
	Profile     = model.Profile
	Photo       = model.Photo
	Swipe       = model.Swipe
	Score       = model.Score
	Match       = model.Match
	Liker       = model.Liker
	Message     = model.Message
	NewMessage  = model.NewMessage
	Sent        = model.Sent
	ConvState   = model.ConvState
	ReadOutcome = model.ReadOutcome

	Pair            = model.Pair
	QuotaKey        = model.QuotaKey
	SwipeUser       = model.SwipeUser
	SwipeFactsQuery = model.SwipeFactsQuery
	SwipeFacts      = model.SwipeFacts
	PairState       = model.PairState
	ScoreAdd        = model.ScoreAdd
	NewMatch        = model.NewMatch
	SwipeRecord     = model.SwipeRecord
	RewindFacts     = model.RewindFacts
	RewindUndo      = model.RewindUndo
	DeckCandidate   = model.DeckCandidate
	SuperlikeOf     = model.SuperlikeOf
)

// Swipe actions as stored in swipes.action.
const (
	ActionLike      = model.ActionLike
	ActionSuperlike = model.ActionSuperlike
	ActionDislike   = model.ActionDislike
)

// ErrStale refuses a RewindUndo whose facts changed since they were read.
var ErrStale = model.ErrStale

// IsLike reports whether the action is a like or a superlike.
func IsLike(action int8) bool { return model.IsLike(action) }

// DailyQuota is a row of daily_quotas: what a user used on a local day.
type DailyQuota struct {
	bun.BaseModel `bun:"table:daily_quotas"`

	UserID  int64  `bun:"user_id,pk"`
	Day     string `bun:"day,pk"`
	Likes   int    `bun:"likes"`
	Rewinds int    `bun:"rewinds"`
}
