package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// DB is the store's own pool, for the tests of this package.
func (s *Store) DB() *bun.DB { return s.db }

// Swipe records sw alone: a SwipeBatch of one. It reports whether sw
// created the match of the two users; the error wraps ErrNotFound (unknown
// swiped user), ErrConflict (already swiped) or ErrFull (likeLimit >= 0 and
// the like quota of day used up; likeLimit < 0 counts without a limit).
func (s *Store) Swipe(ctx context.Context, sw Swipe, day string, likeLimit int, scoreDelta int64) (bool, error) {
	out, err := s.SwipeBatch(ctx, []SwipeReq{{Swipe: sw, Day: day, LikeLimit: likeLimit, ScoreDelta: scoreDelta}})
	if err != nil {
		return false, err
	}
	return out[0].Matched, out[0].Err
}

// RebuildSwipeIndexes is rebuildSwipeIndexes, for the tests.
func (s *Store) RebuildSwipeIndexes(ctx context.Context, add string, poll time.Duration) error {
	return s.rebuildSwipeIndexes(ctx, add, poll)
}
