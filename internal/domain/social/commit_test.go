package social

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// The swipe path on the suite's database: CommitSwipes reads the facts,
// decides and writes in one transaction per batch (the decisions alone are
// in decide_test.go).

func (r *rig) req(from, to int64, act int8) SwipeRequest {
	return SwipeRequest{Swiper: from, Swiped: to, Action: act, At: r.clock.Now().UTC().Truncate(time.Microsecond)}
}

func (r *rig) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := storetest.DB(t, r.st).NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (r *rig) likesUsed(t *testing.T, id int64) int {
	t.Helper()
	likes, _, err := r.st.UsedToday(context.Background(), id, Day(r.clock.Now(), r.tz))
	if err != nil {
		t.Fatal(err)
	}
	return likes
}

// TestCommitMixed: one batch with a match against a stored like, a
// duplicate in the batch, a stored pair, an unknown user, a blocked peer,
// a superlike without VIP, and the scores summed per swiped user.
func TestCommitMixed(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ids := r.users(t, 5)
	a, b, c, d, e := ids[0], ids[1], ids[2], ids[3], ids[4]
	r.swipes(t, [3]int64{a, b, int64(model.ActionLike)})
	if _, err := r.st.Block(ctx, d, e, r.clock.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	out, err := r.svc.CommitSwipes(ctx, []SwipeRequest{
		r.req(b, a, model.ActionLike),      // matches a's stored like
		r.req(c, a, model.ActionDislike),   // accepted
		r.req(c, a, model.ActionLike),      // twice in the batch
		r.req(a, b, model.ActionDislike),   // stored
		r.req(c, 999999, model.ActionLike), // unknown
		r.req(e, d, model.ActionLike),      // blocked
		r.req(c, b, model.ActionSuperlike), // no VIP
		r.req(999998, a, model.ActionLike), // no swiper
	})
	if err != nil {
		t.Fatal(err)
	}
	var pe *profile.PermissionError
	checks := []func(o SwipeOutcome) bool{
		func(o SwipeOutcome) bool { return o.Err == nil && o.Matched },
		func(o SwipeOutcome) bool { return o.Err == nil && !o.Matched },
		func(o SwipeOutcome) bool { return errors.Is(o.Err, ErrAlreadySwiped) },
		func(o SwipeOutcome) bool { return errors.Is(o.Err, ErrAlreadySwiped) },
		func(o SwipeOutcome) bool { return errors.Is(o.Err, profile.ErrUserNotFound) },
		func(o SwipeOutcome) bool { return errors.Is(o.Err, profile.ErrUserNotFound) },
		func(o SwipeOutcome) bool { return errors.As(o.Err, &pe) },
		func(o SwipeOutcome) bool { return errors.Is(o.Err, ErrNoSwiper) },
	}
	for i, ok := range checks {
		if !ok(out[i]) {
			t.Errorf("request %d: %+v", i, out[i])
		}
	}
	if ok, _ := r.st.Matched(ctx, a, b); !ok {
		t.Fatal("no match")
	}
	if n := r.count(t, "SELECT COUNT(*) FROM swipes WHERE swiped_id = ?", a); n != 2 {
		t.Fatalf("%d swipes of a, want 2", n)
	}
	if n := r.count(t, "SELECT score FROM scores WHERE user_id = ?", a); n != ScoreLike+ScoreDislike {
		t.Fatalf("score of a %d", n)
	}
	if n := r.count(t, "SELECT COUNT(*) FROM swipes WHERE swiper_id = ?", e); n != 0 {
		t.Fatal("a swipe across a block was recorded")
	}
}

// TestCommitQuota: a limit L with U used accepts the first L-U likes of
// the batch; dislikes are not counted; VIP likes are counted, not limited.
func TestCommitQuota(t *testing.T) {
	r := newRig(t)
	r.svc.d.FreeDailyLikes = 3
	ctx := context.Background()
	ids := r.users(t, 7)
	a, v, ts := ids[0], ids[1], ids[2:]
	r.vip(t, v, 3)
	if out, err := r.svc.CommitSwipes(ctx, []SwipeRequest{r.req(a, ts[0], model.ActionLike)}); err != nil || out[0].Err != nil {
		t.Fatal(err, out)
	}
	out, err := r.svc.CommitSwipes(ctx, []SwipeRequest{
		r.req(a, ts[1], model.ActionLike), r.req(a, ts[2], model.ActionDislike), r.req(a, ts[3], model.ActionLike),
		r.req(a, ts[4], model.ActionLike), r.req(v, ts[0], model.ActionLike), r.req(v, ts[1], model.ActionLike),
		r.req(v, ts[2], model.ActionLike), r.req(v, ts[3], model.ActionLike), r.req(v, ts[4], model.ActionSuperlike),
	})
	if err != nil {
		t.Fatal(err)
	}
	var qe *QuotaError
	for i, o := range out {
		if want := i == 3; errors.As(o.Err, &qe) != want || (!want && o.Err != nil) {
			t.Errorf("request %d: %v", i, o.Err)
		}
	}
	if qe == nil || qe.Rewind || qe.RetryAfter <= 0 {
		t.Fatalf("quota error %+v", qe)
	}
	if l := r.likesUsed(t, a); l != 3 {
		t.Fatalf("a used %d likes", l)
	}
	if l := r.likesUsed(t, v); l != 5 {
		t.Fatalf("the VIP used %d likes, want 5 counted", l)
	}
}

// TestCommitCrossing: two likes of one pair in one batch make one match,
// reported on the later one.
func TestCommitCrossing(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ids := r.users(t, 2)
	out, err := r.svc.CommitSwipes(ctx, []SwipeRequest{r.req(ids[0], ids[1], model.ActionLike), r.req(ids[1], ids[0], model.ActionLike)})
	if err != nil || out[0].Err != nil || out[1].Err != nil || out[0].Matched || !out[1].Matched {
		t.Fatalf("%+v %v", out, err)
	}
	if n := r.count(t, "SELECT COUNT(*) FROM matches"); n != 1 {
		t.Fatalf("%d matches", n)
	}
}

// TestCommitOrder: a user's swipes are ordered by time, each after the
// previous one even at one clock reading; a rewind undoes the last made.
func TestCommitOrder(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ids := r.users(t, 4)
	a := ids[0]
	r.vip(t, a, 3)
	r.swipes(t, [3]int64{a, ids[1], int64(model.ActionDislike)})
	out, err := r.svc.CommitSwipes(ctx, []SwipeRequest{r.req(a, ids[2], model.ActionDislike), r.req(a, ids[3], model.ActionDislike)})
	if err != nil {
		t.Fatal(err)
	}
	if !out[1].Swipe.CreatedAt.After(out[0].Swipe.CreatedAt) || !out[0].Swipe.CreatedAt.After(r.clock.Now()) {
		t.Fatalf("times %v, %v (clock %v)", out[0].Swipe.CreatedAt, out[1].Swipe.CreatedAt, r.clock.Now())
	}
	for _, want := range []int64{ids[3], ids[2], ids[1]} {
		rw, err := r.svc.Rewind(ctx, a)
		if err != nil || rw.User.ID != want {
			t.Fatalf("rewound %+v %v, want %d", rw, err, want)
		}
	}
}

// TestCommitConcurrent: batches running at once (as on several replicas)
// match every crossing pair exactly once and keep a user's quota.
func TestCommitConcurrent(t *testing.T) {
	r := newRig(t)
	r.svc.d.FreeDailyLikes = 30
	ctx := context.Background()
	const pairs = 40
	ids := r.users(t, 2*pairs+1)
	hub := ids[2*pairs]
	for _, id := range ids[:2*pairs] {
		r.vip(t, id, 3)
	}
	var reqs []SwipeRequest
	for i := range pairs {
		x, y := ids[2*i], ids[2*i+1]
		reqs = append(reqs, r.req(x, y, model.ActionLike), r.req(y, x, model.ActionLike), r.req(hub, x, model.ActionLike))
	}
	rand.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })
	const workers = 6
	var wg sync.WaitGroup
	var mu sync.Mutex
	matched, accepted := 0, 0
	for w := range workers {
		wg.Go(func() {
			for start := w * 5; start < len(reqs); start += workers * 5 {
				out, err := r.svc.CommitSwipes(ctx, reqs[start:min(start+5, len(reqs))])
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
		})
	}
	wg.Wait()
	if n := r.count(t, "SELECT COUNT(*) FROM matches"); n != pairs || matched != pairs {
		t.Fatalf("%d matches, %d reported, want %d", n, matched, pairs)
	}
	if accepted != 2*pairs+30 {
		t.Fatalf("%d accepted, want %d", accepted, 2*pairs+30)
	}
	if l := r.likesUsed(t, hub); l != 30 {
		t.Fatalf("hub used %d likes", l)
	}
}

// TestCommitterGroups: concurrent swipes share transactions.
func TestCommitterGroups(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	const n = 100
	ids := r.users(t, n+1)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			if res, err := r.svc.Swipe(ctx, ids[i], ids[n], Like); err != nil || res.Matched {
				t.Error(res, err)
			}
		})
	}
	close(start)
	wg.Wait()
	stats := r.svc.SwipeBatches()
	if stats.Requests != n || stats.Batches >= n/2 {
		t.Fatalf("%d swipes in %d transactions: not grouped", stats.Requests, stats.Batches)
	}
	if sc := r.count(t, "SELECT score FROM scores WHERE user_id = ?", ids[n]); sc != ScoreLike*n {
		t.Fatalf("score %d", sc)
	}
}

// TestCommittersSideBySide: with three swipe committers, swipes sent at
// once through the Service still match every crossing pair exactly once,
// keep a user's quota, and share transactions.
func TestCommittersSideBySide(t *testing.T) {
	r := newRig(t, func(d *Deps) { d.SwipeCommitters = 3; d.FreeDailyLikes = 30 })
	ctx := context.Background()
	const pairs = 40
	ids := r.users(t, 2*pairs+1)
	hub := ids[2*pairs]
	type swipe struct{ from, to int64 }
	var sws []swipe
	for i := range pairs {
		x, y := ids[2*i], ids[2*i+1]
		r.vip(t, x, 3)
		r.vip(t, y, 3)
		sws = append(sws, swipe{x, y}, swipe{y, x}, swipe{hub, x})
	}
	var wg sync.WaitGroup
	var matched, accepted, quota atomic.Int64
	start := make(chan struct{})
	for _, sw := range sws {
		wg.Go(func() {
			<-start
			res, err := r.svc.Swipe(ctx, sw.from, sw.to, Like)
			var qe *QuotaError
			switch {
			case errors.As(err, &qe):
				quota.Add(1)
			case err != nil:
				t.Error(err)
			default:
				accepted.Add(1)
				if res.Matched {
					matched.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if n := r.count(t, "SELECT COUNT(*) FROM matches"); n != pairs || matched.Load() != pairs {
		t.Fatalf("%d matches, %d swipes told they matched; want %d of each", n, matched.Load(), pairs)
	}
	if accepted.Load() != 2*pairs+30 || quota.Load() != pairs-30 {
		t.Fatalf("%d accepted, %d over quota; want %d and %d", accepted.Load(), quota.Load(), 2*pairs+30, pairs-30)
	}
	if l := r.likesUsed(t, hub); l != 30 {
		t.Fatalf("hub used %d likes", l)
	}
	if st := r.svc.SwipeBatches(); st.Requests != uint64(len(sws)) {
		t.Fatalf("committers carried %d swipes, want %d", st.Requests, len(sws))
	}
}

// TestCommitLarge: 768 requests in one batch.
func TestCommitLarge(t *testing.T) {
	r := newRig(t)
	r.svc.d.FreeDailyLikes = 20
	ctx := context.Background()
	ids := r.users(t, 40)
	for _, y := range ids[16:] {
		r.vip(t, y, 3)
	}
	var reqs []SwipeRequest
	for _, x := range ids[:16] {
		for _, y := range ids[16:] {
			reqs = append(reqs, r.req(x, y, model.ActionLike), r.req(y, x, model.ActionLike))
		}
	}
	out, err := r.svc.CommitSwipes(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	ok, full, matched := 0, 0, 0
	var qe *QuotaError
	for _, o := range out {
		switch {
		case o.Err == nil:
			ok++
		case errors.As(o.Err, &qe):
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

// TestCommitStatements: a batch sends a fixed number of statements
// whatever its size: the facts and the record (the swipes, the likes
// marked, the quotas and the scores written, the pair rows read back);
// two more on users' first limited likes of the day (their quota rows),
// one more when likes match.
func TestCommitStatements(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	const n = 30
	ids := r.users(t, 3*n)
	xs, ys, zs := ids[:n], ids[n:2*n], ids[2*n:]
	batch := func(name string, want int64, reqs func(i int) SwipeRequest) {
		t.Helper()
		rs := make([]SwipeRequest, n)
		for i := range rs {
			rs[i] = reqs(i)
		}
		before := r.st.Queries()
		out, err := r.svc.CommitSwipes(ctx, rs)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			if o.Err != nil {
				t.Fatalf("%s: %v", name, o.Err)
			}
		}
		got := r.st.Queries().Sub(before)
		if got.Total() != 2+want { // with BEGIN and COMMIT
			t.Errorf("%s: %+v, want %d statements and BEGIN, COMMIT", name, got, want)
		}
		t.Logf("%s: %+v", name, got)
	}
	// On MySQL the record is one multi-statement round trip; SQLite runs
	// its statements (swipes, pair rows, quotas, scores, pair rows read
	// back; only swipes and scores for dislikes) one by one.
	record, recordDislikes := int64(1), int64(1)
	if r.st.Dialect() == config.SQLite {
		record, recordDislikes = 5, 2
	}
	batch("first likes of the day", 1+2+record, func(i int) SwipeRequest { return r.req(xs[i], ys[i], model.ActionLike) })
	batch("likes", 1+record, func(i int) SwipeRequest { return r.req(xs[i], zs[i], model.ActionLike) })
	batch("likes back: matches", 1+2+record+1, func(i int) SwipeRequest { return r.req(ys[i], xs[i], model.ActionLike) })
	batch("dislikes", 1+recordDislikes, func(i int) SwipeRequest { return r.req(zs[i], ys[i], model.ActionDislike) })
}

// TestRewindsInParallel: rewinds racing each other undo distinct swipes,
// the latest first, and never more than the day's limit.
func TestRewindsInParallel(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ids := r.users(t, 7)
	me, targets := ids[0], ids[1:]
	r.vip(t, me, 2)
	for _, to := range targets { // one by one, all at one clock reading
		r.swipes(t, [3]int64{me, to, int64(model.ActionDislike)})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var undone []int64
	for range len(targets) {
		wg.Go(func() {
			rw, err := r.svc.Rewind(ctx, me)
			var qe *QuotaError
			switch {
			case err == nil:
				mu.Lock()
				undone = append(undone, rw.User.ID)
				mu.Unlock()
			case !errors.As(err, &qe) || !qe.Rewind:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(undone) != profile.RewindsPerDay {
		t.Fatalf("%d rewinds, want %d", len(undone), profile.RewindsPerDay)
	}
	for _, to := range targets[len(targets)-profile.RewindsPerDay:] {
		if !slices.Contains(undone, to) {
			t.Fatalf("undid %v, want the %d latest of %v", undone, profile.RewindsPerDay, targets)
		}
	}
}
