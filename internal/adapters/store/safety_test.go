package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/domain/model"
)

func safetyMatch(t *testing.T, st *store.Store, a, b int64, at time.Time) {
	t.Helper()
	storetest.Like(t, st, at, [2]int64{a, b}, [2]int64{b, a})
	if ok, _ := st.Matched(context.Background(), a, b); !ok {
		t.Fatalf("%d and %d not matched", a, b)
	}
}

func TestBlocksAndVisible(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 4)
	a, b, c := ids[0], ids[1], ids[2]
	at := time.Now().UTC().Truncate(time.Microsecond)
	safetyMatch(t, st, a, b, at)

	out, err := st.Block(ctx, a, b, at)
	if err != nil || !out.Unmatched {
		t.Fatalf("block: %+v %v", out, err)
	}
	if out, err := st.Block(ctx, a, b, at.Add(time.Second)); err != nil || out.Unmatched {
		t.Fatalf("second block: %+v %v", out, err)
	}
	if _, err := st.Block(ctx, a, 999999, at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("block of nobody: %v", err)
	}
	for _, p := range [][2]int64{{a, b}, {b, a}} {
		if ok, err := st.Visible(ctx, p[0], p[1]); err != nil || ok {
			t.Fatalf("%d visible to %d after a block: %v", p[1], p[0], err)
		}
	}
	if ok, _ := st.Visible(ctx, a, c); !ok {
		t.Fatal("an unrelated user is not visible")
	}
	// A swipe's facts show the block both ways (social refuses the swipe as
	// unknown), and so does the pair row a like reads back.
	if err := st.InSwipeTx(ctx, func(ctx context.Context, tx model.SwipeTx) error {
		f, err := tx.Facts(ctx, store.SwipeFactsQuery{Pairs: []store.Pair{{From: b, To: a}}})
		if err != nil {
			return err
		}
		ps, err := tx.Record(ctx, store.SwipeRecord{Likes: []store.Pair{{From: b, To: a}}})
		if k := (store.Pair{From: min(a, b), To: max(a, b)}); err == nil && (!f.Blocked[store.Pair{From: b, To: a}] || !ps[k].Blocked) {
			t.Errorf("facts %+v, pair %+v: the block is not seen", f, ps[k])
		}
		return errors.New("rolled back")
	}); err == nil || err.Error() != "store: swipe batch: rolled back" {
		t.Fatal(err)
	}
	list, total, err := st.Blocked(ctx, a, 10, 0)
	if err != nil || total != 1 || len(list) != 1 || list[0].ID != b || !list[0].BlockedAt.Equal(at) {
		t.Fatalf("blocked list %+v %d %v", list, total, err)
	}
	if err := st.Unblock(ctx, b, a); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unblock by the blocked: %v", err)
	}
	if err := st.Unblock(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Visible(ctx, b, a); !ok {
		t.Fatal("not visible after the unblock")
	}

	// A ban hides the user from everyone (themselves too) and keeps the rows.
	safetyMatch(t, st, a, c, at)
	if err := st.SetBanned(ctx, c, &at, "x"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Visible(ctx, a, c); ok {
		t.Fatal("banned user visible")
	}
	if ms, total, err := st.Matches(ctx, a, 10, 0, false); err != nil || total != 0 || len(ms) != 0 {
		t.Fatalf("matches show a banned user: %v %d %v", ms, total, err)
	}
	if err := st.SetBanned(ctx, c, nil, ""); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := st.Matches(ctx, a, 10, 0, false); total != 1 {
		t.Fatalf("the match did not come back with the unban: %d", total)
	}
	if err := st.SetBanned(ctx, 999999, &at, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ban of nobody: %v", err)
	}
}

func TestReportsStore(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 5)
	target := ids[0]
	at := time.Now().UTC().Truncate(time.Microsecond)
	req := func(reporter int64, max int) store.ReportReq {
		return store.ReportReq{Report: store.ReportRow{ReporterID: reporter, ReportedID: target, Reason: "scam", CreatedAt: at},
			Day: "2026-12-07", MaxPerDay: max, HideAt: 3}
	}
	for i, r := range []int64{ids[1], ids[1], ids[2]} {
		if _, out, err := st.Report(ctx, req(r, 20)); err != nil || out.Hidden {
			t.Fatalf("report %d: %+v %v", i, out, err)
		}
	}
	_, out, err := st.Report(ctx, req(ids[3], 20))
	if err != nil || !out.Hidden {
		t.Fatalf("third reporter: %+v %v, want hidden", out, err)
	}
	// The daily limit is a conditional counter: concurrent reports never pass it.
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 10 {
		wg.Go(func() {
			if _, _, err := st.Report(ctx, req(ids[4], 4)); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrFull) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 4 {
		t.Fatalf("%d of 10 concurrent reports accepted with a limit of 4", ok)
	}
	lines, err := st.Reports(ctx, "open")
	if err != nil || len(lines) != 8 || lines[0].Phone == "" {
		t.Fatalf("open reports: %d %v", len(lines), err)
	}
	user, n, err := st.ResolveReports(ctx, lines[0].ID, "dismiss", "", at)
	if err != nil || user != target || n != 8 {
		t.Fatalf("resolve: %d %d %v", user, n, err)
	}
	if _, _, err := st.ResolveReports(ctx, lines[0].ID, "dismiss", "", at); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("resolve again: %v", err)
	}
	if _, _, err := st.ResolveReports(ctx, 999999, "dismiss", "", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("resolve nothing: %v", err)
	}
	var hidden bool
	if err := storetest.DB(t, st).NewRaw("SELECT hidden FROM users WHERE id = ?", target).Scan(ctx, &hidden); err != nil || hidden {
		t.Fatalf("still hidden after the dismissal: %v %v", hidden, err)
	}
}

func TestDeleteAndPurge(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	db := storetest.DB(t, st)
	ids := newUsers(t, st, 3)
	a, b, c := ids[0], ids[1], ids[2]
	at := time.Now().UTC().Truncate(time.Microsecond)
	safetyMatch(t, st, a, b, at)
	if _, err := st.Block(ctx, a, c, at); err != nil {
		t.Fatal(err)
	}
	del, err := st.MarkDeleted(ctx, a, at)
	if err != nil || len(del.Partners) != 1 || del.Partners[0] != b {
		t.Fatalf("mark deleted: %+v %v", del, err)
	}
	if _, err := st.MarkDeleted(ctx, a, at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
	if _, err := st.UserByPhone(ctx, "+8613800000000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the phone still belongs to the tombstone: %v", err)
	}
	if ok, _ := st.Visible(ctx, b, a); ok {
		t.Fatal("a deleted user is visible")
	}
	n, err := st.PurgeUser(ctx, a, 1) // batches of one row: every loop runs
	if err != nil || n < 5 {
		t.Fatalf("purge: %d %v", n, err)
	}
	for _, q := range []string{"swipes WHERE swiper_id = ? OR swiped_id = ?", "matches WHERE user_a = ? OR user_b = ?",
		"blocks WHERE blocker_id = ? OR blocked_id = ?", "like_pairs WHERE user_a = ? OR user_b = ?"} {
		var left int
		if err := db.NewRaw("SELECT COUNT(*) FROM "+q, a, a).Scan(ctx, &left); err != nil || left != 0 {
			t.Fatalf("%s: %d left %v", q, left, err)
		}
	}
	gone, err := st.DeletedBefore(ctx, at.Add(time.Second), 10)
	if err != nil || len(gone) != 1 || gone[0] != a {
		t.Fatalf("deleted before: %v %v", gone, err)
	}
	if err := st.RemoveTombstone(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := st.User(ctx, a); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("tombstone still there: %v", err)
	}
}
