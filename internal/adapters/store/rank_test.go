package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
)

// RankedScores reads the scores of the given users that rank: a positive
// score from a swipe still there; others (0, negative, rewound, unknown)
// are left out. TopScores agrees.
func TestRankedScores(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 6)
	now := time.Now().UTC().Truncate(time.Microsecond)
	swipe := func(from, to int, d int64) {
		t.Helper()
		if _, err := st.Swipe(ctx, store.Swipe{SwiperID: ids[from], SwipedID: ids[to], Action: store.ActionLike, CreatedAt: now}, "2026-01-01", -1, d); err != nil {
			t.Fatal(err)
		}
	}
	swipe(5, 0, 5)
	swipe(5, 1, -5)
	swipe(5, 2, 7)
	swipe(4, 2, 5)
	swipe(5, 3, 5)
	swipe(4, 3, -5) // 0
	got, err := st.RankedScores(ctx, []int64{ids[0], ids[1], ids[2], ids[3], ids[4], 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b store.Score) int { return int(a.UserID - b.UserID) })
	if len(got) != 2 || got[0].UserID != ids[0] || got[0].Score != 5 || got[1].UserID != ids[2] || got[1].Score != 12 {
		t.Fatalf("ranked scores %+v", got)
	}
	if got, err := st.RankedScores(ctx, nil); err != nil || len(got) != 0 {
		t.Fatalf("no ids: %+v %v", got, err)
	}
	top, err := st.TopScores(ctx, 10)
	if err != nil || len(top) != 2 || top[0].UserID != ids[2] || top[1].UserID != ids[0] {
		t.Fatalf("top %+v %v", top, err)
	}
}
