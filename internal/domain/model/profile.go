package model

// QuotaUse is what a user used of the daily quotas on one day (a
// daily_quotas row; none: nothing used).
type QuotaUse struct {
	Likes   int
	Rewinds int
}

// CardFact is what decides a Card of a user beyond the user's row: the
// album setting of their profile, and what lies between them and the
// viewer.
type CardFact struct {
	ID           int64 `bun:"id"`
	OnlyMatched  bool  `bun:"only_matched"`  // the album is for matches only (true without a profile row, as its default)
	Matched      bool  `bun:"matched"`       // the viewer and the user are matched
	SuperlikedMe bool  `bun:"superliked_me"` // the user superliked the viewer
}
