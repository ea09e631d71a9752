package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/model"
)

// Like writes test data: a like of each pair {from, to} of pairs, at
// (1 µs apart), in one transaction, with the likes on their pairs' rows and a match
// for each pair then liked both ways that had none. No rule is checked (no
// quota, no score, no block): the social module's are tested in its own
// package; this is for other packages' tests that need matched users.
func Like(t testing.TB, st *store.Store, at time.Time, pairs ...[2]int64) {
	t.Helper()
	err := st.InSwipeTx(context.Background(), func(ctx context.Context, tx model.SwipeTx) error {
		sws := make([]model.Swipe, len(pairs))
		likes := make([]model.Pair, len(pairs))
		for i, p := range pairs {
			at = at.Add(time.Microsecond) // a user's swipes in order
			sws[i] = model.Swipe{SwiperID: p[0], SwipedID: p[1], Action: model.ActionLike, CreatedAt: at}
			likes[i] = model.Pair{From: p[0], To: p[1]}
		}
		states, err := tx.Record(ctx, model.SwipeRecord{Swipes: sws, Likes: likes})
		if err != nil {
			return err
		}
		var ms []model.NewMatch
		for k, s := range states {
			if s.ALikes && s.BLikes && !s.Matched {
				ms = append(ms, model.NewMatch{A: k.From, B: k.To, At: at})
			}
		}
		return tx.InsertMatches(ctx, ms)
	})
	if err != nil {
		t.Fatalf("storetest.Like %v: %v", pairs, err)
	}
}
