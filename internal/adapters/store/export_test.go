package store

import (
	"context"
	"fmt"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/uptrace/bun"
)

// DB is the store's own pool, for the tests of this package.
func (s *Store) DB() *bun.DB { return s.db }

// Swipe records sw alone, as test data through the SwipeTx functions
// with the simplest rules: the pair swiped already is ErrConflict, a like
// beyond likeLimit on day (>= 0) is ErrFull, a like crossing the reverse
// one matches (reported), scoreDelta goes to the swiped user.
func (s *Store) Swipe(ctx context.Context, sw Swipe, day string, likeLimit int, scoreDelta int64) (bool, error) {
	matched := false
	err := s.InSwipeTx(ctx, func(ctx context.Context, tx model.SwipeTx) error {
		matched = false
		p := Pair{From: sw.SwiperID, To: sw.SwipedID}
		q := QuotaKey{User: sw.SwiperID, Day: day}
		f, err := tx.Facts(ctx, SwipeFactsQuery{Pairs: []Pair{p}})
		if err != nil {
			return err
		}
		if f.Swiped[p] {
			return ErrConflict
		}
		like := IsLike(sw.Action)
		if like && likeLimit >= 0 {
			used, err := tx.LockQuotas(ctx, []QuotaKey{q})
			if err != nil {
				return err
			}
			if used[q] >= likeLimit {
				return ErrFull
			}
		}
		r := SwipeRecord{Swipes: []Swipe{sw}, Scores: []ScoreAdd{{User: sw.SwipedID, Delta: scoreDelta, Swipes: 1}}}
		if like {
			r.Likes, r.Quota = []Pair{p}, map[QuotaKey]int{q: 1}
		}
		ps, err := tx.Record(ctx, r)
		if err != nil {
			return err
		}
		k := pairOf(p)
		if st := ps[k]; like && st.ALikes && st.BLikes && !st.Matched {
			matched = true
			return tx.InsertMatches(ctx, []NewMatch{{A: k.From, B: k.To, At: sw.CreatedAt}})
		}
		return nil
	})
	return matched, err
}

// RewindLatest undoes the latest swipe of userID as read (RewindFacts then
// ApplyRewind, with no rule: scoreDelta added, a like given back to day).
func (s *Store) RewindLatest(ctx context.Context, userID int64, day string, maxRewinds int, scoreDelta int64) (Swipe, error) {
	f, err := s.RewindFacts(ctx, userID, day)
	if err != nil {
		return Swipe{}, err
	}
	if f.Latest == nil {
		return Swipe{}, ErrNotFound
	}
	u := RewindUndo{Swipe: *f.Latest, Matched: f.Matched, Day: day, MaxRewinds: maxRewinds, ScoreDelta: scoreDelta}
	if IsLike(f.Latest.Action) {
		u.LikeDay = day
	}
	return *f.Latest, s.ApplyRewind(ctx, u)
}

// RebuildSwipeIndexes is rebuildSwipeIndexes, for the tests.
func (s *Store) RebuildSwipeIndexes(ctx context.Context, add string, poll time.Duration) error {
	return s.rebuildSwipeIndexes(ctx, add, poll)
}

// Messages returns up to limit messages of the conversation of me and
// other, newest first, only ids below before when before > 0 (one range
// of the pair's key), whether older ones exist, and the conversation's
// state. ErrNotFound when the two are not matched. It is the plain
// reading (Conversation, then the page) that the tests hold MessagesPage,
// the one statement the service uses, against.
func (s *Store) Messages(ctx context.Context, me, other, before int64, limit int) ([]Message, bool, ConvState, error) {
	st, err := s.Conversation(ctx, me, other)
	if err != nil {
		return nil, false, ConvState{}, err
	}
	var ms []Message
	if err := s.messagesPage(&ms, me, other, before, limit).Scan(ctx); err != nil {
		return nil, false, ConvState{}, fmt.Errorf("store: messages of %d/%d: %w", me, other, classify(err))
	}
	more := len(ms) > limit
	if more {
		ms = ms[:limit]
	}
	return ms, more, st, nil
}

// messagesPage reads limit+1 messages of the pair of me and other below
// before (0: from the newest), newest first: one range of the pair's key.
func (s *Store) messagesPage(ms *[]Message, me, other, before int64, limit int) *bun.SelectQuery {
	x, y := pair(me, other)
	q := s.db.NewSelect().Model(ms).Where("user_a = ? AND user_b = ?", x, y)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	return q.OrderExpr("id DESC").Limit(int64(limit + 1))
}
