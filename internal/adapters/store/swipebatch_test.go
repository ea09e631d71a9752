package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/config"
)

const day = "2026-01-01"

func count(t *testing.T, st *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// inSwipeTx runs fn in a SwipeTx and fails the test on an error.
func inSwipeTx(t *testing.T, st *store.Store, fn func(ctx context.Context, tx model.SwipeTx) error) {
	t.Helper()
	if err := st.InSwipeTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// TestSwipeTxFacts: one read returns the shown users with their VIP
// columns, the stored pairs, the blocks both ways, the quota rows that
// exist and the swipers' latest swipe times.
func TestSwipeTxFacts(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 5)
	a, b, c, d, banned := ids[0], ids[1], ids[2], ids[3], ids[4]
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if err := st.SetVIP(ctx, a, 2, &exp); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Block(ctx, c, d, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if now := time.Now().UTC(); st.SetBanned(ctx, banned, &now, "test") != nil {
		t.Fatal("ban")
	}
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	inSwipeTx(t, st, func(ctx context.Context, tx model.SwipeTx) error {
		if _, err := tx.LockQuotas(ctx, []store.QuotaKey{{User: a, Day: day}}); err != nil {
			return err
		}
		_, err := tx.Record(ctx, store.SwipeRecord{Swipes: []store.Swipe{{SwiperID: a, SwipedID: b, Action: store.ActionLike, CreatedAt: t0},
			{SwiperID: a, SwipedID: c, Action: store.ActionDislike, CreatedAt: t0.Add(time.Second)}},
			Quota: map[store.QuotaKey]int{{User: a, Day: day}: 2}})
		return err
	})
	var f store.SwipeFacts
	inSwipeTx(t, st, func(ctx context.Context, tx model.SwipeTx) error {
		var err error
		f, err = tx.Facts(ctx, store.SwipeFactsQuery{
			Pairs:  []store.Pair{{From: a, To: b}, {From: a, To: d}, {From: d, To: c}, {From: b, To: banned}, {From: b, To: 999999}},
			Quotas: []store.QuotaKey{{User: a, Day: day}, {User: d, Day: day}},
		})
		return err
	})
	if len(f.Users) != 4 || f.Users[a].VIPLevel != 2 || f.Users[a].VIPExpiresAt == nil || !f.Users[a].VIPExpiresAt.Equal(exp) {
		t.Errorf("users %+v", f.Users)
	}
	if _, ok := f.Users[banned]; ok {
		t.Error("a banned user is shown")
	}
	if len(f.Swiped) != 1 || !f.Swiped[store.Pair{From: a, To: b}] {
		t.Errorf("swiped %v", f.Swiped)
	}
	if !f.Blocked[store.Pair{From: c, To: d}] || !f.Blocked[store.Pair{From: d, To: c}] || f.Blocked[store.Pair{From: a, To: d}] {
		t.Errorf("blocked %v", f.Blocked)
	}
	if len(f.Used) != 1 || f.Used[store.QuotaKey{User: a, Day: day}] != 2 {
		t.Errorf("used %v", f.Used)
	}
	if !f.Latest[a].Equal(t0.Add(time.Second)) || len(f.Latest) != 1 {
		t.Errorf("latest %v, want %v for %d only", f.Latest, t0.Add(time.Second), a)
	}
}

// TestSwipeTxFactsManySwipers: the facts of a batch of 600 swipers are one
// statement on both paths (SQLite allows 500 parts in a UNION: the latest
// swipes stay one part there).
func TestSwipeTxFactsManySwipers(t *testing.T) {
	st := openStore(t)
	ids := newUsers(t, st, 2)
	a, b := ids[0], ids[1]
	t0 := time.Now().UTC().Truncate(time.Microsecond)
	inSwipeTx(t, st, func(ctx context.Context, tx model.SwipeTx) error {
		_, err := tx.Record(ctx, store.SwipeRecord{Swipes: []store.Swipe{{SwiperID: a, SwipedID: b, Action: store.ActionDislike, CreatedAt: t0}}})
		return err
	})
	pairs := []store.Pair{{From: a, To: b}}
	for i := range 599 {
		pairs = append(pairs, store.Pair{From: int64(10_000_000 + i), To: b})
	}
	var f store.SwipeFacts
	inSwipeTx(t, st, func(ctx context.Context, tx model.SwipeTx) error {
		var err error
		f, err = tx.Facts(ctx, store.SwipeFactsQuery{Pairs: pairs})
		return err
	})
	if len(f.Latest) != 1 || !f.Latest[a].Equal(t0) || len(f.Swiped) != 1 {
		t.Fatalf("latest %v, swiped %v; want %d at %v, one pair", f.Latest, f.Swiped, a, t0)
	}
}

// TestSwipeTxLockQuotas: missing rows are created (with nothing used) and
// existing ones read.
func TestSwipeTxLockQuotas(t *testing.T) {
	st := openStore(t)
	ids := newUsers(t, st, 2)
	inSwipeTx(t, st, func(ctx context.Context, tx model.SwipeTx) error {
		_, err := tx.Record(ctx, store.SwipeRecord{Quota: map[store.QuotaKey]int{{User: ids[0], Day: day}: 3}})
		return err
	})
	inSwipeTx(t, st, func(ctx context.Context, tx model.SwipeTx) error {
		used, err := tx.LockQuotas(ctx, []store.QuotaKey{{User: ids[0], Day: day}, {User: ids[1], Day: day}, {User: ids[1], Day: day}})
		if err != nil {
			return err
		}
		if len(used) != 2 || used[store.QuotaKey{User: ids[0], Day: day}] != 3 || used[store.QuotaKey{User: ids[1], Day: day}] != 0 {
			t.Errorf("used %v", used)
		}
		return nil
	})
	if n := count(t, st, "SELECT COUNT(*) FROM daily_quotas WHERE user_id IN (?, ?)", ids[0], ids[1]); n != 2 {
		t.Fatalf("%d quota rows", n)
	}
}

// TestSwipeTxRecordLikes: each like sets its side of the pair's row; the
// row read back tells both sides, an existing match and a block.
func TestSwipeTxRecordLikes(t *testing.T) {
	st := openStore(t)
	ids := newUsers(t, st, 6)
	a, b, c, d, e, f := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	if _, err := st.Block(context.Background(), f, e, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	mark := func(likes ...store.Pair) map[store.Pair]store.PairState {
		var out map[store.Pair]store.PairState
		inSwipeTx(t, st, func(ctx context.Context, tx model.SwipeTx) error {
			var err error
			out, err = tx.Record(ctx, store.SwipeRecord{Likes: likes})
			return err
		})
		return out
	}
	got := mark(store.Pair{From: b, To: a}, store.Pair{From: c, To: d}, store.Pair{From: d, To: c}, store.Pair{From: e, To: f})
	want := map[store.Pair]store.PairState{{From: a, To: b}: {BLikes: true}, {From: c, To: d}: {ALikes: true, BLikes: true},
		{From: e, To: f}: {ALikes: true, Blocked: true}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%v: %+v, want %+v", k, got[k], w)
		}
	}
	inSwipeTx(t, st, func(ctx context.Context, tx model.SwipeTx) error {
		return tx.InsertMatches(ctx, []store.NewMatch{{A: c, B: d, At: time.Now().UTC()}})
	})
	got = mark(store.Pair{From: a, To: b}, store.Pair{From: c, To: d})
	if g := got[store.Pair{From: a, To: b}]; g != (store.PairState{ALikes: true, BLikes: true}) {
		t.Errorf("a-b %+v", g)
	}
	if g := got[store.Pair{From: c, To: d}]; g != (store.PairState{ALikes: true, BLikes: true, Matched: true}) {
		t.Errorf("c-d %+v", g)
	}
	if n := count(t, st, "SELECT a_likes + b_likes FROM like_pairs WHERE user_a = ? AND user_b = ?", a, b); n != 2 {
		t.Errorf("flags of a-b: %d, want 2", n)
	}
}

// TestSwipeTxInsertRaced: a pair inserted after the facts read it absent
// (by a concurrent batch) makes the transaction run again; a second run
// that inserts it again fails with ErrConflict.
func TestSwipeTxInsertRaced(t *testing.T) {
	st := openStore(t)
	ids := newUsers(t, st, 2)
	sw := store.Swipe{SwiperID: ids[0], SwipedID: ids[1], Action: store.ActionDislike, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	record := func(ctx context.Context, tx model.SwipeTx) error {
		_, err := tx.Record(ctx, store.SwipeRecord{Swipes: []store.Swipe{sw}, Scores: []store.ScoreAdd{{User: sw.SwipedID, Swipes: 1}}})
		return err
	}
	inSwipeTx(t, st, record)
	runs := 0
	err := st.InSwipeTx(context.Background(), func(ctx context.Context, tx model.SwipeTx) error {
		runs++
		if runs > 1 {
			return errors.New("second run")
		}
		return record(ctx, tx)
	})
	if runs != 2 || err == nil || err.Error() != "store: swipe batch: second run" {
		t.Fatalf("%d runs, %v", runs, err)
	}
}

// TestSwipeTxRecordAdds: quotas and scores add up, a match that exists is
// kept.
func TestSwipeTxRecordAdds(t *testing.T) {
	st := openStore(t)
	ids := newUsers(t, st, 2)
	at := time.Now().UTC().Truncate(time.Microsecond)
	for range 2 {
		inSwipeTx(t, st, func(ctx context.Context, tx model.SwipeTx) error {
			_, err := tx.Record(ctx, store.SwipeRecord{Quota: map[store.QuotaKey]int{{User: ids[0], Day: day}: 2},
				Scores: []store.ScoreAdd{{User: ids[1], Delta: 5, Swipes: 1}, {User: ids[0], Delta: -5, Swipes: 1}}})
			if err != nil {
				return err
			}
			return tx.InsertMatches(ctx, []store.NewMatch{{A: ids[0], B: ids[1], At: at}})
		})
	}
	if likes, _, _ := st.UsedToday(context.Background(), ids[0], day); likes != 4 {
		t.Errorf("likes %d", likes)
	}
	if n := count(t, st, "SELECT score FROM scores WHERE user_id = ?", ids[1]); n != 10 {
		t.Errorf("score %d", n)
	}
	if n := count(t, st, "SELECT swipes FROM scores WHERE user_id = ?", ids[0]); n != 2 {
		t.Errorf("swipes %d", n)
	}
	if n := count(t, st, "SELECT COUNT(*) FROM matches"); n != 1 {
		t.Errorf("%d matches", n)
	}
}

// TestSwipeTxRecordFailsWhole: a statement of the record that fails after
// the swipes were inserted (on MySQL, in the middle of one multi-statement
// round trip) fails the transaction, and nothing of it stays.
func TestSwipeTxRecordFailsWhole(t *testing.T) {
	st := openStore(t)
	ids := newUsers(t, st, 2)
	at := time.Now().UTC().Truncate(time.Microsecond)
	err := st.InSwipeTx(context.Background(), func(ctx context.Context, tx model.SwipeTx) error {
		_, err := tx.Record(ctx, store.SwipeRecord{
			Swipes: []store.Swipe{{SwiperID: ids[0], SwipedID: ids[1], Action: store.ActionLike, CreatedAt: at}},
			Likes:  []store.Pair{{From: ids[0], To: ids[1]}},
			Quota:  map[store.QuotaKey]int{{User: ids[0], Day: day}: 1},
			Scores: []store.ScoreAdd{{User: ids[1], Delta: 1, Swipes: 1 << 40}}, // beyond scores.swipes (INT)
		})
		return err
	})
	if st.Dialect() == config.SQLite { // no column types: the add fits
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "Out of range") {
		t.Fatalf("an out-of-range score: %v", err)
	}
	for _, q := range []string{"SELECT COUNT(*) FROM swipes WHERE swiper_id = ?", "SELECT COUNT(*) FROM like_pairs WHERE user_a = ?",
		"SELECT COUNT(*) FROM daily_quotas WHERE user_id = ?"} {
		if n := count(t, st, q, ids[0]); n != 0 {
			t.Errorf("%s: %d rows after a failed record", q, n)
		}
	}
}
