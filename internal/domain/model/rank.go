package model

// RankEntry is one user's score as the hot rank's boards hold it.
type RankEntry struct {
	UserID int64
	Score  int64
}
