package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/platform/batch"
)

const day = "2026-01-01"

func req(from, to int64, act int8, limit int, at time.Time) store.SwipeReq {
	delta := map[int8]int64{store.ActionLike: 5, store.ActionSuperlike: 7, store.ActionDislike: -5}[act]
	return store.SwipeReq{Swipe: store.Swipe{SwiperID: from, SwipedID: to, Action: act, CreatedAt: at},
		Day: day, LikeLimit: limit, ScoreDelta: delta}
}

// want is the expected outcome of one request: nil error, or the store
// error it must wrap.
type want struct {
	err     error
	matched bool
}

func checkOutcomes(t *testing.T, got []store.SwipeOutcome, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("%d outcomes for %d requests", len(got), len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if (w.err == nil) != (g.Err == nil) || (w.err != nil && !errors.Is(g.Err, w.err)) || g.Matched != w.matched {
			t.Errorf("request %d: err %v matched %v, want err %v matched %v", i, g.Err, g.Matched, w.err, w.matched)
		}
	}
}

func count(t *testing.T, st *store.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func scoreOf(t *testing.T, st *store.Store, id int64) (score, swipes int) {
	t.Helper()
	var rows []store.Score
	if err := st.DB().NewSelect().Model(&rows).Where("user_id = ?", id).Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		return 0, 0
	}
	return int(rows[0].Score), rows[0].Swipes
}

func TestSwipeBatchMixed(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 6)
	a, b, c, d, e, f := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := st.SwipeBatch(ctx, []store.SwipeReq{req(a, b, store.ActionLike, -1, now)}); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Second)
	out, err := st.SwipeBatch(ctx, []store.SwipeReq{
		req(a, b, store.ActionDislike, -1, later),   // 0: in the database already
		req(a, c, store.ActionLike, -1, later),      // 1
		req(a, c, store.ActionDislike, -1, later),   // 2: earlier in this batch
		req(c, a, store.ActionSuperlike, -1, later), // 3: crosses 1: the match
		req(b, a, store.ActionLike, -1, later),      // 4: a→b is stored: a match
		req(a, 999999, store.ActionLike, -1, later), // 5: unknown user
		req(d, e, store.ActionDislike, -1, later),   // 6
		req(e, d, store.ActionLike, -1, later),      // 7: d disliked e: no match
		req(f, c, store.ActionDislike, -1, later),   // 8
		req(c, a, store.ActionLike, -1, later),      // 9: again
	})
	if err != nil {
		t.Fatal(err)
	}
	checkOutcomes(t, out, []want{
		{err: store.ErrConflict}, {}, {err: store.ErrConflict}, {matched: true}, {matched: true},
		{err: store.ErrNotFound}, {}, {}, {}, {err: store.ErrConflict},
	})
	if n := count(t, st, "SELECT COUNT(*) FROM swipes"); n != 7 {
		t.Fatalf("%d swipes stored, want 7", n)
	}
	if n := count(t, st, "SELECT COUNT(*) FROM matches"); n != 2 {
		t.Fatalf("%d matches, want 2", n)
	}
	for _, p := range [][2]int64{{a, b}, {a, c}} {
		if ok, err := st.Matched(ctx, p[1], p[0]); err != nil || !ok {
			t.Fatalf("no match of %v: %v", p, err)
		}
	}
	var at time.Time
	if err := st.DB().NewRaw("SELECT matched_at FROM matches WHERE user_a = ? AND user_b = ?", min(a, c), max(a, c)).Scan(ctx, &at); err != nil || !at.Equal(later) {
		t.Fatalf("matched_at %v %v, want %v", at, err, later)
	}
	// Scores, summed per user: a got a superlike and a like, c a like and
	// a dislike, e a dislike, d a like, b the first like only.
	for _, s := range []struct {
		id            int64
		score, swipes int
	}{{a, 12, 2}, {b, 5, 1}, {c, 0, 2}, {d, 5, 1}, {e, -5, 1}, {f, 0, 0}} {
		if sc, n := scoreOf(t, st, s.id); sc != s.score || n != s.swipes {
			t.Errorf("score of %d: %d over %d swipes, want %d over %d", s.id, sc, n, s.score, s.swipes)
		}
	}
	// Likes used: a 2 (b before, c now: the unknown user is not counted).
	for _, q := range []struct {
		id    int64
		likes int
	}{{a, 2}, {b, 1}, {c, 1}, {e, 1}, {d, 0}} {
		if likes, _, err := st.UsedToday(ctx, q.id, day); err != nil || likes != q.likes {
			t.Errorf("likes of %d: %d %v, want %d", q.id, likes, err, q.likes)
		}
	}
}

func TestSwipeBatchQuota(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 9)
	a, vip, ts := ids[0], ids[1], ids[2:]
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := st.SwipeBatch(ctx, []store.SwipeReq{req(a, ts[0], store.ActionLike, 3, now)}); err != nil {
		t.Fatal(err)
	}
	other := req(a, ts[6], store.ActionLike, 3, now)
	other.Day = "2026-01-02" // another day, another quota
	out, err := st.SwipeBatch(ctx, []store.SwipeReq{
		req(a, ts[1], store.ActionLike, 3, now),      // 0: the 2nd of 3
		req(a, ts[0], store.ActionLike, 3, now),      // 1: conflict first
		req(a, 999999, store.ActionLike, 3, now),     // 2: unknown first
		req(a, ts[2], store.ActionSuperlike, 3, now), // 3: the 3rd
		req(a, ts[3], store.ActionDislike, 3, now),   // 4: dislikes are free
		req(a, ts[4], store.ActionLike, 3, now),      // 5: full
		req(a, ts[5], store.ActionSuperlike, 3, now), // 6: full
		other, // 7: the 1st of the next day
		req(vip, ts[1], store.ActionLike, -1, now), // 8-10: unlimited, counted
		req(vip, ts[2], store.ActionLike, -1, now),
		req(vip, ts[3], store.ActionSuperlike, -1, now),
	})
	if err != nil {
		t.Fatal(err)
	}
	checkOutcomes(t, out, []want{{}, {err: store.ErrConflict}, {err: store.ErrNotFound}, {}, {}, {err: store.ErrFull},
		{err: store.ErrFull}, {}, {}, {}, {}})
	for _, q := range []struct {
		id    int64
		day   string
		likes int
	}{{a, day, 3}, {a, "2026-01-02", 1}, {vip, day, 3}} {
		if likes, _, err := st.UsedToday(ctx, q.id, q.day); err != nil || likes != q.likes {
			t.Errorf("likes of %d on %s: %d %v, want %d", q.id, q.day, likes, err, q.likes)
		}
	}
	if n := count(t, st, "SELECT COUNT(*) FROM swipes WHERE swiper_id = ?", a); n != 5 {
		t.Fatalf("%d swipes of a, want 5", n)
	}
}

// TestSwipeBatchDecide: a request with Decide gets its like limit, or its
// refusal, from the swiper's VIP columns as the transaction reads them.
func TestSwipeBatchDecide(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 6)
	free, vip, ts := ids[0], ids[1], ids[2:]
	now := time.Now().UTC().Truncate(time.Microsecond)
	later := now.Add(time.Hour)
	if err := st.SetVIP(ctx, vip, 2, &later); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("refused")
	type seen struct {
		level   int
		expires bool
	}
	var got []seen
	decided := func(r store.SwipeReq) store.SwipeReq {
		r.LikeLimit = 0 // ignored with Decide
		r.Decide = func(level int, expires *time.Time) (int, error) {
			got = append(got, seen{level, expires != nil && expires.Equal(later)})
			switch {
			case r.Swipe.Action == store.ActionSuperlike && level == 0:
				return 0, refused
			case level > 0:
				return -1, nil
			}
			return 1, nil
		}
		return r
	}
	out, err := st.SwipeBatch(ctx, []store.SwipeReq{
		decided(req(free, ts[0], store.ActionSuperlike, 0, now)), // 0: refused, nothing else checked
		decided(req(free, 999999, store.ActionLike, 0, now)),     // 1: unknown user
		decided(req(free, ts[1], store.ActionLike, 0, now)),      // 2: the 1st of 1
		decided(req(free, ts[2], store.ActionLike, 0, now)),      // 3: full
		decided(req(vip, ts[0], store.ActionSuperlike, 0, now)),  // 4-5: unlimited
		decided(req(vip, ts[1], store.ActionLike, 0, now)),
		decided(req(999998, ts[3], store.ActionDislike, 0, now)), // 6: no swiper
		req(free, ts[3], store.ActionLike, 5, now),               // 7: LikeLimit without Decide: the 2nd of 5
	})
	if err != nil {
		t.Fatal(err)
	}
	checkOutcomes(t, out, []want{{err: refused}, {err: store.ErrNotFound}, {}, {err: store.ErrFull}, {}, {}, {err: store.ErrNoSwiper}, {}})
	if !errors.Is(out[6].Err, store.ErrNotFound) || errors.Is(out[1].Err, store.ErrNoSwiper) {
		t.Fatalf("ErrNoSwiper: %v, %v", out[6].Err, out[1].Err)
	}
	if !slices.Equal(got, []seen{{0, false}, {0, false}, {0, false}, {0, false}, {2, true}, {2, true}}) {
		t.Fatalf("Decide saw %v", got)
	}
	if likes, _, err := st.UsedToday(ctx, free, day); err != nil || likes != 2 {
		t.Fatalf("likes of free: %d %v, want 2", likes, err)
	}
	if n := count(t, st, "SELECT COUNT(*) FROM swipes"); n != 4 {
		t.Fatalf("%d swipes, want 4", n)
	}
}

// TestSwipeBatchCrossing: two likes of one pair in one batch make one
// match, reported to the second; a match row already there is not reported.
func TestSwipeBatchCrossing(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 4)
	x, y, u, v := ids[0], ids[1], ids[2], ids[3]
	now := time.Now().UTC().Truncate(time.Microsecond)
	// u and v are matched by a seed, without their likes.
	if err := st.InsertSeedBatch(ctx, store.SeedBatch{Matches: [][2]int64{{min(u, v), max(u, v)}}, MatchAt: []time.Time{now}}, 10); err != nil {
		t.Fatal(err)
	}
	out, err := st.SwipeBatch(ctx, []store.SwipeReq{
		req(y, x, store.ActionSuperlike, -1, now),
		req(v, u, store.ActionLike, -1, now),
		req(x, y, store.ActionLike, -1, now),
		req(u, v, store.ActionLike, -1, now),
	})
	if err != nil {
		t.Fatal(err)
	}
	checkOutcomes(t, out, []want{{}, {}, {matched: true}, {}})
	if n := count(t, st, "SELECT COUNT(*) FROM matches"); n != 2 {
		t.Fatalf("%d matches, want 2", n)
	}
}

// TestSwipeBatchLatest: within a batch a user's swipes keep their order,
// so that a rewind undoes the last one whatever the ids of the users.
func TestSwipeBatchLatest(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 4)
	a := ids[0]
	now := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := st.SwipeBatch(ctx, []store.SwipeReq{
		req(a, ids[3], store.ActionDislike, -1, now),
		req(ids[1], ids[2], store.ActionLike, -1, now),
		req(a, ids[1], store.ActionLike, -1, now),
	}); err != nil {
		t.Fatal(err)
	}
	dayOf := func(time.Time) string { return day }
	rw, err := st.Rewind(ctx, a, day, 3, dayOf, func(int8) int64 { return 5 }, func(store.Swipe, bool) error { return nil })
	if err != nil || rw.Swipe.SwipedID != ids[1] {
		t.Fatalf("rewound %+v %v, want the swipe of %d", rw.Swipe, err, ids[1])
	}
}

// TestSwipeBatchConcurrent: batches running at once (as on several
// replicas) with crossing likes still make exactly one match per pair, and
// the quota holds.
func TestSwipeBatchConcurrent(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	const pairs = 40
	ids := newUsers(t, st, 2*pairs+1)
	hub := ids[2*pairs]
	now := time.Now().UTC().Truncate(time.Microsecond)
	var reqs []store.SwipeReq
	for i := range pairs {
		x, y := ids[2*i], ids[2*i+1]
		reqs = append(reqs, req(x, y, store.ActionLike, -1, now), req(y, x, store.ActionLike, -1, now),
			req(hub, x, store.ActionLike, 30, now))
	}
	rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	const workers = 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	matched, accepted := 0, 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := w * 5; start < len(reqs); start += workers * 5 {
				out, err := st.SwipeBatch(ctx, reqs[start:min(start+5, len(reqs))])
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, o := range out {
					if o.Err == nil {
						accepted++
					}
					if o.Matched {
						matched++
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n := count(t, st, "SELECT COUNT(*) FROM matches"); n != pairs || matched != pairs {
		t.Fatalf("%d matches, %d reported, want %d", n, matched, pairs)
	}
	if accepted != 2*pairs+30 {
		t.Fatalf("%d accepted, want %d", accepted, 2*pairs+30)
	}
	if likes, _, _ := st.UsedToday(ctx, hub, day); likes != 30 {
		t.Fatalf("hub used %d likes", likes)
	}
}

// TestSwipeBatchGroups: concurrent swipes through a committer share
// transactions.
func TestSwipeBatchGroups(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	const n = 200
	ids := newUsers(t, st, n+1)
	c := batch.New(st.SwipeBatch, 256)
	now := time.Now().UTC().Truncate(time.Microsecond)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := c.Do(ctx, req(ids[i], ids[n], store.ActionLike, -1, now))
			if err == nil {
				err = out.Err
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	c.Close()
	stats := c.Stats()
	if stats.Requests != n || stats.Batches >= n/2 {
		t.Fatalf("%d swipes in %d transactions: not grouped", stats.Requests, stats.Batches)
	}
	if sc, swipes := scoreOf(t, st, ids[n]); sc != 5*n || swipes != n {
		t.Fatalf("score %d over %d swipes", sc, swipes)
	}
	t.Logf("%d swipes in %d transactions", stats.Requests, stats.Batches)
}

func TestSwipeBatchLarge(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 40)
	now := time.Now().UTC().Truncate(time.Microsecond)
	var reqs []store.SwipeReq
	for _, x := range ids[:16] {
		for _, y := range ids[16:] {
			reqs = append(reqs, req(x, y, store.ActionLike, 20, now), req(y, x, store.ActionLike, -1, now))
		}
	}
	out, err := st.SwipeBatch(ctx, reqs) // 768 requests
	if err != nil {
		t.Fatal(err)
	}
	ok, full, matched := 0, 0, 0
	for _, o := range out {
		switch {
		case o.Err == nil:
			ok++
		case errors.Is(o.Err, store.ErrFull):
			full++
		default:
			t.Fatal(o.Err)
		}
		if o.Matched {
			matched++
		}
	}
	// Each of the 16 gets 20 of its 24 likes; all 24*16 of the others pass.
	if ok != 16*20+16*24 || full != 16*4 || matched != 16*20 {
		t.Fatalf("ok %d full %d matched %d", ok, full, matched)
	}
}
