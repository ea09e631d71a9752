package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// openStore opens a migrated, empty database of the suite's path.
func openStore(t testing.TB) *store.Store { return storetest.Open(t) }

func newUsers(t testing.TB, st *store.Store, n int) []int64 {
	t.Helper()
	var ids []int64
	now := time.Now().UTC()
	for i := range n {
		u, _, err := st.Register(context.Background(), store.User{Phone: fmt.Sprintf("+8613800%06d", i), Nickname: "n",
			Gender: "male", Birthday: "1990-01-01", City: "北京", CreatedAt: now, ActiveAt: now},
			store.Profile{DatingGender: "female", DatingCity: "北京", MaxDistance: 50, MinDatingAge: 18, MaxDatingAge: 50})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return ids
}

func TestSwipeAndRewind(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 4)
	a, b, c := ids[0], ids[1], ids[2]
	now := time.Now().UTC().Truncate(time.Microsecond)
	made := 0
	sw := func(from, to int64, act int8, limit int) (bool, error) {
		made++ // each after the previous one
		return st.Swipe(ctx, store.Swipe{SwiperID: from, SwipedID: to, Action: act, CreatedAt: now.Add(time.Duration(made) * time.Millisecond)}, "2026-01-01", limit, 5)
	}
	if m, err := sw(a, b, store.ActionLike, 2); err != nil || m {
		t.Fatalf("first like: %v %v", m, err)
	}
	if _, err := sw(a, b, store.ActionDislike, 2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second swipe: %v", err)
	}
	if m, err := sw(b, a, store.ActionSuperlike, 2); err != nil || !m {
		t.Fatalf("mutual: %v %v", m, err)
	}
	if ok, _ := st.Matched(ctx, b, a); !ok {
		t.Fatal("no match")
	}
	if _, err := sw(a, c, store.ActionLike, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := sw(a, ids[3], store.ActionLike, 2); !errors.Is(err, store.ErrFull) {
		t.Fatalf("third like with a limit of 2: %v", err)
	}
	if _, err := sw(a, ids[3], store.ActionDislike, 2); err != nil {
		t.Fatalf("dislikes are not limited: %v", err)
	}
	likes, _, err := st.UsedToday(ctx, a, "2026-01-01")
	if err != nil || likes != 2 {
		t.Fatalf("likes used %d %v", likes, err)
	}

	if f, err := st.RewindFacts(ctx, a, "2026-01-01"); err != nil || f.Latest == nil || f.Latest.SwipedID != ids[3] || f.Matched || f.Rewinds != 0 {
		t.Fatalf("facts %+v %v", f, err)
	}
	rw, err := st.RewindLatest(ctx, a, "2026-01-01", 1, -5)
	if err != nil || rw.SwipedID != ids[3] {
		t.Fatalf("rewind: %+v %v", rw, err)
	}
	if _, err := st.RewindLatest(ctx, a, "2026-01-01", 1, -5); !errors.Is(err, store.ErrFull) {
		t.Fatalf("rewind quota: %v", err)
	}
	if f, err := st.RewindFacts(ctx, a, "2026-01-01"); err != nil || f.Rewinds != 1 || f.Latest == nil || f.Latest.SwipedID != c {
		t.Fatalf("facts after a rewind %+v %v", f, err)
	}
	// A swipe that is no longer the latest is not undone.
	stale := store.RewindUndo{Swipe: store.Swipe{SwiperID: a, SwipedID: b, Action: store.ActionLike, CreatedAt: now}, Day: "2026-01-01", MaxRewinds: 5}
	if err := st.ApplyRewind(ctx, stale); !errors.Is(err, store.ErrStale) {
		t.Fatalf("stale rewind: %v", err)
	}
	if f, err := st.RewindFacts(ctx, ids[3], "2026-01-01"); err != nil || f.Latest != nil {
		t.Fatalf("nothing to rewind: %+v %v", f, err)
	}
	// b's superlike of a made the match: undone with it (the rule that
	// refuses this is social's).
	rw, err = st.RewindLatest(ctx, b, "2026-01-01", 3, -7)
	if err != nil || rw.SwipedID != a {
		t.Fatalf("rewind b: %+v %v", rw, err)
	}
	if n := count(t, st, "SELECT a_likes + b_likes FROM like_pairs WHERE user_a = ? AND user_b = ?", min(a, b), max(a, b)); n != 1 {
		t.Fatalf("like flags after the rewind: %d, want 1", n)
	}
	if ok, _ := st.Matched(ctx, a, b); ok {
		t.Fatal("match survived the rewind")
	}
	top, err := st.TopScores(ctx, 10)
	if err != nil || len(top) != 2 || top[0].UserID != b || top[1].UserID != c {
		t.Fatalf("top %+v %v", top, err)
	}
}

func TestBulkLoadKeepsIndexes(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 3)
	now := time.Now().UTC().Truncate(time.Second)
	err := st.BulkLoadSwipes(ctx, func(ctx context.Context) error {
		return st.InsertSeedBatch(ctx, store.SeedBatch{
			Swipes: []store.Swipe{{SwiperID: ids[0], SwipedID: ids[1], Action: 1, CreatedAt: now},
				{SwiperID: ids[1], SwipedID: ids[0], Action: 2, CreatedAt: now}, {SwiperID: ids[2], SwipedID: ids[0], Action: 3, CreatedAt: now}},
			Matches: [][2]int64{{ids[0], ids[1]}}, MatchAt: []time.Time{now},
			Scores: []store.Score{{UserID: ids[0], Score: 2, Swipes: 2}, {UserID: ids[1], Score: 5, Swipes: 1}},
		}, 2)
	})
	if err != nil {
		t.Fatal(err)
	}
	ls, total, err := st.Likers(ctx, ids[0], 10, 0)
	if err != nil || total != 0 || len(ls) != 0 { // a swiped b already
		t.Fatalf("likers %v %d %v", ls, total, err)
	}
	if ok, _ := st.Matched(ctx, ids[1], ids[0]); !ok {
		t.Fatal("seeded match missing")
	}
	if st.Dialect() == config.MySQL {
		var names []string
		if err := st.DB().NewRaw("SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'swipes'").Scan(ctx, &names); err != nil {
			t.Fatal(err)
		}
		got := strings.Join(names, ",")
		for _, want := range []string{"ix_swipes_swiped", "ix_swipes_latest", "uq_swipes_id"} {
			if !strings.Contains(got, want) {
				t.Fatalf("index %s missing after the bulk load: %s", want, got)
			}
		}
	}
}

// TestRewindTakesTheLatestByTime checks that the latest swipe is the one made
// last, not the one with the highest id: on a multi-writer Galera cluster or
// TiDB ids are not in time order (each node allocates its own).
func TestRewindTakesTheLatestByTime(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 4)
	a := ids[0]
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	// Made at t0+2s, t0+1s and t0 in that insert order: the highest id is
	// the oldest swipe.
	for i, to := range ids[1:] {
		at := t0.Add(time.Duration(2-i) * time.Second)
		if _, err := st.Swipe(ctx, store.Swipe{SwiperID: a, SwipedID: to, Action: store.ActionDislike, CreatedAt: at}, "2026-01-01", -1, -5); err != nil {
			t.Fatal(err)
		}
	}
	for k, want := range []int64{ids[1], ids[2], ids[3]} {
		rw, err := st.RewindLatest(ctx, a, "2026-01-01", 3, 5)
		if err != nil {
			t.Fatal(err)
		}
		if rw.SwipedID != want {
			t.Fatalf("rewind %d undid the swipe of %d, want %d (the latest by time)", k+1, rw.SwipedID, want)
		}
	}
}
