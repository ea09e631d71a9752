// Package model holds the plain types of Swiper's domain: users, profiles,
// photos, swipes, matches, scores, quotas and messages, and the errors every
// store reports. Domain services take and return these; the store reads and
// writes them (the bun tags name their columns; they import nothing).
package model

import (
	"errors"
	"time"
)

// Errors a store reports, wrapped with what failed.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrFull     = errors.New("limit reached")
)

// Swipe actions as stored in swipes.action.
const (
	ActionLike      int8 = 1
	ActionSuperlike int8 = 2
	ActionDislike   int8 = 3
)

// IsLike reports whether the action is a like or a superlike.
func IsLike(action int8) bool { return action == ActionLike || action == ActionSuperlike }

// User is a row of users.
type User struct {
	ID           int64      `bun:"id,pk,autoincrement"`
	Phone        string     `bun:"phone"`
	Nickname     string     `bun:"nickname"`
	Gender       string     `bun:"gender"`
	Birthday     string     `bun:"birthday"` // YYYY-MM-DD
	City         string     `bun:"city"`
	CellLat      *int32     `bun:"cell_lat"` // latitude in 1/100 degree (~1 km cell), nil = no location
	CellLng      *int32     `bun:"cell_lng"`
	Avatar       string     `bun:"avatar"`
	AvatarKey    string     `bun:"avatar_key"`
	VIPLevel     int        `bun:"vip_level"`
	VIPExpiresAt *time.Time `bun:"vip_expires_at"`
	CreatedAt    time.Time  `bun:"created_at"`
	ActiveAt     time.Time  `bun:"active_at"`
	BannedAt     *time.Time `bun:"banned_at"`  // suspended by an operator: unknown to everyone
	DeletedAt    *time.Time `bun:"deleted_at"` // the account was deleted: the row is a tombstone
}

// Profile is a row of profiles (dating preferences).
type Profile struct {
	UserID       int64  `bun:"user_id,pk"`
	DatingGender string `bun:"dating_gender"`
	DatingCity   string `bun:"dating_city"`
	MinDistance  int    `bun:"min_distance"`
	MaxDistance  int    `bun:"max_distance"`
	MinDatingAge int    `bun:"min_dating_age"`
	MaxDatingAge int    `bun:"max_dating_age"`
	Vibration    bool   `bun:"vibration"`
	OnlyMatched  bool   `bun:"only_matched"`
	AutoPlay     bool   `bun:"auto_play"`
	Edited       bool   `bun:"edited"` // the owner changed it once: dating_gender no longer follows gender
}

// Photo is a row of photos.
type Photo struct {
	ID         int64     `bun:"id,pk,autoincrement"`
	UserID     int64     `bun:"user_id"`
	Position   int       `bun:"position"`
	URL        string    `bun:"url"`
	StorageKey string    `bun:"storage_key"`
	CreatedAt  time.Time `bun:"created_at"`
}

// Swipe is a row of swipes.
type Swipe struct {
	SwiperID  int64     `bun:"swiper_id,pk"`
	SwipedID  int64     `bun:"swiped_id,pk"`
	Action    int8      `bun:"action"`
	CreatedAt time.Time `bun:"created_at"`
	ID        int64     `bun:"id,scanonly"` // assigned by the database; orders a user's swipes
}

// Score is a row of scores (the hot rank's source of truth).
type Score struct {
	UserID int64 `bun:"user_id,pk"`
	Score  int64 `bun:"score"`
	Swipes int   `bun:"swipes"`
}

// Match is one of a user's matches seen from that user.
type Match struct {
	UserID    int64     `bun:"other_id"`
	MatchedAt time.Time `bun:"matched_at"`
}

// Liker is a user who liked or superliked someone.
type Liker struct {
	UserID    int64     `bun:"swiper_id"`
	Action    int8      `bun:"action"`
	CreatedAt time.Time `bun:"created_at"`
}

// Message is a row of messages.
type Message struct {
	ID       int64     `bun:"id"`
	UserA    int64     `bun:"user_a"`
	UserB    int64     `bun:"user_b"`
	SenderID int64     `bun:"sender_id"`
	ClientID string    `bun:"client_id"`
	Text     string    `bun:"text"`
	SentAt   time.Time `bun:"sent_at"`
}

// NewMessage is a message to store.
type NewMessage struct {
	From, To int64
	ClientID string
	Text     string
	SentAt   time.Time
}

// Sent is the outcome of SendMessage.
type Sent struct {
	Message Message
	Created bool // false: the client_id was sent before; Message is that first one
	Read    bool // the recipient has read Message (only ever true when !Created)
}

// ConvState is the state of a conversation seen from one of its users.
type ConvState struct {
	OtherID       int64
	MatchedAt     time.Time
	LastMessageID int64 // 0: no message yet
	MyRead        int64 // my read mark: messages to me with id <= it are read
	OtherRead     int64 // the other user's read mark
	Unread        int   // messages to me above my mark
}

// ReadOutcome is the outcome of MarkRead.
type ReadOutcome struct {
	InConversation bool  // upTo is the id of a message of the conversation (nothing changed otherwise)
	Moved          bool  // the mark moved forward
	Mark           int64 // the reader's mark afterwards
}

// DeckCandidate is what the Card of a user put in a deck shows, read from
// the database (a superliker the deck index does not hold).
type DeckCandidate struct {
	ID          int64  `bun:"id"`
	Nickname    string `bun:"nickname"`
	Gender      string `bun:"gender"`
	Birthday    string `bun:"birthday"`
	City        string `bun:"city"`
	CellLat     *int32 `bun:"cell_lat"`
	CellLng     *int32 `bun:"cell_lng"`
	Avatar      string `bun:"avatar"`
	OnlyMatched bool   `bun:"only_matched"`
}

// SuperlikeOf is a superlike received: who, and when.
type SuperlikeOf struct {
	SwiperID  int64     `bun:"swiper_id"`
	CreatedAt time.Time `bun:"created_at"`
}
