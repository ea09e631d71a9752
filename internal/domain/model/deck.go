package model

import "time"

// DeckRow is what the in-memory deck index keeps of a user: the fields the
// recommendation filters read, and the user's own preferences. Users
// without a profile row have none (they never were in a deck).
type DeckRow struct {
	ID           int64     `bun:"id"`
	Nickname     string    `bun:"nickname"`
	Avatar       string    `bun:"avatar"`
	Gender       string    `bun:"gender"`
	Birthday     string    `bun:"birthday"`
	City         string    `bun:"city"`
	CellLat      *int32    `bun:"cell_lat"`
	CellLng      *int32    `bun:"cell_lng"`
	ActiveAt     time.Time `bun:"active_at"`
	DatingGender string    `bun:"dating_gender"`
	DatingCity   string    `bun:"dating_city"`
	MinDistance  int       `bun:"min_distance"`
	MaxDistance  int       `bun:"max_distance"`
	MinDatingAge int       `bun:"min_dating_age"`
	MaxDatingAge int       `bun:"max_dating_age"`
	OnlyMatched  bool      `bun:"only_matched"`
	PhotoCount   int       `bun:"photo_count"`
}

// DeckStamps are the newest updated_at of users and profiles, as text that
// sorts like the stamps ("" = no row yet): times on MySQL, a zero-padded
// sequence on SQLite.
type DeckStamps struct{ Users, Profiles string }

// DeckActive is a user's activity stamp, as the deck index reads it.
type DeckActive struct {
	ID       int64     `bun:"id"`
	ActiveAt time.Time `bun:"active_at"`
}

// DeckSwipe is a committed swipe (or a rewound one) as the deck state sees
// it.
type DeckSwipe struct {
	Swiper, Swiped int64
	Superlike      bool
	At             time.Time // orders the superlikers of Swiped
}

// Superliker is a user who superliked the viewer, and when.
type Superliker struct {
	ID int64
	At time.Time
}

// DeckToken is what a deck state's Fill needs from the probe that missed.
// Only the deck state that issued it reads its fields: callers pass it
// back as they got it.
type DeckToken struct{ Epoch, Gen string }

// DeckProbe is what a deck learns about its viewer from the deck state.
type DeckProbe struct {
	// Hit: the viewer's state is cached; Swiped and Superlikers are valid.
	// On a miss the caller reads the database and calls Fill with Token.
	Hit bool
	// Swiped holds the probed ids the viewer swiped (or is matched with).
	Swiped map[int64]bool
	// Superlikers: who superliked the viewer and was not swiped by them,
	// newest first, at most the limit asked.
	Superlikers []int64
	// Version counts the committed changes of deck-visible user data that
	// were reported to the deck state.
	Version int64
	Token   DeckToken
}
