package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// CardFacts tells, in one statement, who superliked the viewer (whether or
// not the viewer swiped them since), who is matched with them and whose
// album is for matches only.
func TestCardFacts(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 5)
	me, sl, liker, match, gone := ids[0], ids[1], ids[2], ids[3], int64(1<<40)
	now := time.Now().UTC().Truncate(time.Microsecond)
	sw := func(from, to int64, act int8) {
		t.Helper()
		if _, err := st.Swipe(ctx, store.Swipe{SwiperID: from, SwipedID: to, Action: act, CreatedAt: now}, "2026-01-01", -1, 5); err != nil {
			t.Fatal(err)
		}
	}
	sw(sl, me, store.ActionSuperlike)
	sw(me, sl, store.ActionDislike) // swiped since: still superliked me
	sw(liker, me, store.ActionLike)
	sw(match, me, store.ActionSuperlike)
	sw(me, match, store.ActionLike)
	before := st.Queries()
	got, err := st.CardFacts(ctx, me, []int64{sl, liker, match, ids[4], gone})
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Queries().Sub(before).Total(); n != 1 {
		t.Fatalf("%d statements, want 1", n)
	}
	want := map[int64]store.CardFact{
		sl:     {ID: sl, OnlyMatched: false, SuperlikedMe: true},
		liker:  {ID: liker},
		match:  {ID: match, Matched: true, SuperlikedMe: true},
		ids[4]: {ID: ids[4]},
	}
	if len(got) != len(want) {
		t.Fatalf("facts %+v", got)
	}
	for id, w := range want {
		g := got[id]
		if g.ID != w.ID || g.Matched != w.Matched || g.SuperlikedMe != w.SuperlikedMe {
			t.Errorf("facts of %d: %+v, want %+v", id, g, w)
		}
	}
	// Anonymous: nothing between.
	anon, err := st.CardFacts(ctx, 0, []int64{sl, match})
	if err != nil || anon[sl].SuperlikedMe || anon[match].Matched {
		t.Fatalf("anonymous facts %+v %v", anon, err)
	}
}

// The rewind's check learns whether the latest swipe's users are matched,
// under the lock; a refusal uses nothing and the match stays.
func TestRewindTellsMatched(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 2)
	a, b := ids[0], ids[1]
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := st.Swipe(ctx, store.Swipe{SwiperID: a, SwipedID: b, Action: store.ActionLike, CreatedAt: now}, "2026-01-01", -1, 5); err != nil {
		t.Fatal(err)
	}
	if m, err := st.Swipe(ctx, store.Swipe{SwiperID: b, SwipedID: a, Action: store.ActionLike, CreatedAt: now}, "2026-01-01", -1, 5); err != nil || !m {
		t.Fatalf("match: %v %v", m, err)
	}
	f, err := st.RewindFacts(ctx, b, "2026-01-01")
	if err != nil || f.Latest == nil || f.Latest.SwipedID != a || !f.Matched {
		t.Fatalf("facts %+v %v", f, err)
	}
	// Applied as if the two were not matched: the facts changed, nothing
	// is done.
	u := store.RewindUndo{Swipe: *f.Latest, Day: "2026-01-01", MaxRewinds: 3, ScoreDelta: -5, LikeDay: "2026-01-01"}
	if err := st.ApplyRewind(ctx, u); !errors.Is(err, store.ErrStale) {
		t.Fatalf("rewind: %v, want ErrStale", err)
	}
	if ok, _ := st.Matched(ctx, a, b); !ok {
		t.Fatal("the match went with the refused rewind")
	}
	if _, rewinds, _ := st.UsedToday(ctx, b, "2026-01-01"); rewinds != 0 {
		t.Fatalf("a refused rewind used %d", rewinds)
	}
}

// Only positive scores are ranked.
func TestTopScoresPositive(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 4)
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i, d := range []int64{5, -5, 7} {
		if _, err := st.Swipe(ctx, store.Swipe{SwiperID: ids[3], SwipedID: ids[i], Action: store.ActionLike, CreatedAt: now}, "2026-01-01", -1, d); err != nil {
			t.Fatal(err)
		}
	}
	top, err := st.TopScores(ctx, 10)
	if err != nil || len(top) != 2 || top[0].UserID != ids[2] || top[1].UserID != ids[0] {
		t.Fatalf("top %+v %v", top, err)
	}
}

// Waiting for the server to build the indexes honours ctx (it used to
// sleep in a loop for up to an hour whatever ctx said).
func TestRebuildIndexesHonoursContext(t *testing.T) {
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	// Refused as a lost connection would be (not by a MySQL server), so
	// the rebuild goes on waiting for the indexes to show up.
	go func() {
		done <- st.RebuildSwipeIndexes(ctx, "ALTER TABLE no_such_table ADD KEY x (y)", time.Millisecond)
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) && st.Dialect() != config.MySQL {
			t.Fatalf("err %v, want the cancellation", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("still waiting a minute after ctx was cancelled")
	}
}

// A page's statements are counted, the prepared reads too.
func TestQueriesCount(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 1)
	before := st.Queries()
	if _, _, err := st.UserAndPhotos(ctx, ids[0]); err != nil { // two prepared reads
		t.Fatal(err)
	}
	if _, err := st.Users(ctx, ids); err != nil {
		t.Fatal(err)
	}
	if err := st.SetVIP(ctx, ids[0], 1, nil); err != nil {
		t.Fatal(err)
	}
	if d := st.Queries().Sub(before); d.Reads != 3 || d.Writes != 1 {
		t.Fatalf("counted %+v, want 3 reads and 1 write", d)
	}
}

// Another process (a store of its own on the same SQLite file, as `swiper
// vip grant` is) changing a user shows in UsersChanged of the server's
// store at once; nothing changed costs no query.
func TestUsersChangedSeesOtherProcesses(t *testing.T) {
	if testenv.Production() {
		t.Skip("MySQL: every writer drops the Redis entries itself")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	open := func() *store.Store {
		st, err := store.Open(ctx, config.SQLite, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	server := open()
	if err := server.Migrate(ctx, discard()); err != nil {
		t.Fatal(err)
	}
	if !server.FollowsOutsideWrites() {
		t.Fatal("SQLite does not follow outside writes")
	}
	ids := newUsers(t, server, 3)
	if got, err := server.UsersChanged(ctx); err != nil || len(got) != 0 {
		t.Fatalf("first call: %v %v (it starts following)", got, err)
	}
	if got, err := server.UsersChanged(ctx); err != nil || len(got) != 0 {
		t.Fatalf("nothing changed: %v %v", got, err)
	}
	cli := open()
	exp := time.Now().Add(time.Hour)
	if err := cli.SetVIP(ctx, ids[1], 3, &exp); err != nil {
		t.Fatal(err)
	}
	if got, err := server.UsersChanged(ctx); err != nil || !slices.Equal(got, []int64{ids[1]}) {
		t.Fatalf("after the other process's grant: %v %v", got, err)
	}
	if got, err := server.UsersChanged(ctx); err != nil || len(got) != 0 {
		t.Fatalf("reported twice: %v %v", got, err)
	}
	// Writes to other tables move the data version but change no user.
	if _, err := cli.Swipe(ctx, store.Swipe{SwiperID: ids[0], SwipedID: ids[2], Action: store.ActionDislike, CreatedAt: exp}, "2026-01-01", -1, -5); err != nil {
		t.Fatal(err)
	}
	if got, err := server.UsersChanged(ctx); err != nil || len(got) != 0 {
		t.Fatalf("a swipe changed users %v %v", got, err)
	}
	// The server's own writes show too (its other connections).
	was, err := server.Profile(ctx, ids[2], store.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	next := was
	next.MaxDistance = 9
	if err := server.WriteProfile(ctx, was, next); err != nil {
		t.Fatal(err)
	}
	if got, err := server.UsersChanged(ctx); err != nil || !slices.Equal(got, []int64{ids[2]}) {
		t.Fatalf("after a profile change: %v %v", got, err)
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
