package social

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/domain/vip"
)

// The swipe and rewind rules alone, on facts written by hand: no database.

var (
	decideNow = time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
	decideTZ  = time.FixedZone("CST", 8*3600)
	today     = "2026-05-01"
)

const (
	like    = model.ActionLike
	super   = model.ActionSuperlike
	dislike = model.ActionDislike
)

func sreq(from, to int64, act int8) SwipeRequest {
	return SwipeRequest{Swiper: from, Swiped: to, Action: act, At: decideNow}
}

// facts returns facts where users 1..9 exist without VIP, nothing is
// swiped, blocked or used.
func facts() model.SwipeFacts {
	f := model.SwipeFacts{Users: map[int64]model.SwipeUser{}, Swiped: map[model.Pair]bool{}, Blocked: map[model.Pair]bool{},
		Used: map[model.QuotaKey]int{}, Latest: map[int64]time.Time{}}
	for id := int64(1); id <= 9; id++ {
		f.Users[id] = model.SwipeUser{}
	}
	return f
}

func withVIP(level int, expires time.Time) func(*model.SwipeFacts) {
	return func(f *model.SwipeFacts) { f.Users[1] = model.SwipeUser{VIPLevel: level, VIPExpiresAt: &expires} }
}

// outcome kinds of the table.
const (
	ok = iota
	notFound
	noSwiper
	already
	quota
	permission
)

func kindOf(err error) int {
	var qe *QuotaError
	var pe *profile.PermissionError
	switch {
	case err == nil:
		return ok
	case errors.Is(err, ErrNoSwiper):
		return noSwiper
	case errors.Is(err, profile.ErrUserNotFound):
		return notFound
	case errors.Is(err, ErrAlreadySwiped):
		return already
	case errors.As(err, &qe) && !qe.Rewind:
		return quota
	case errors.As(err, &pe) && pe.Permission == vip.PermSuperlike:
		return permission
	}
	return -1
}

func TestDecideSwipes(t *testing.T) {
	day := func(u int64) model.QuotaKey { return model.QuotaKey{User: u, Day: today} }
	for _, tc := range []struct {
		name  string
		reqs  []SwipeRequest
		facts func(*model.SwipeFacts)
		free  int
		want  []int
		quota map[model.QuotaKey]int // likes added
	}{
		{name: "a like", reqs: []SwipeRequest{sreq(1, 2, like)}, free: 3, want: []int{ok}, quota: map[model.QuotaKey]int{day(1): 1}},
		{name: "a dislike is not counted", reqs: []SwipeRequest{sreq(1, 2, dislike)}, free: 0, want: []int{ok}},
		{name: "unknown peer", reqs: []SwipeRequest{sreq(1, 42, like)}, free: 3, want: []int{notFound}},
		{name: "no swiper", reqs: []SwipeRequest{sreq(42, 1, dislike)}, free: 3, want: []int{noSwiper}},
		{name: "no swiper before an unknown peer", reqs: []SwipeRequest{sreq(42, 43, like)}, free: 3, want: []int{noSwiper}},
		{name: "blocked by the peer", reqs: []SwipeRequest{sreq(1, 2, dislike)}, free: 3, want: []int{notFound},
			facts: func(f *model.SwipeFacts) { f.Blocked[model.Pair{From: 1, To: 2}] = true }},
		{name: "a block elsewhere", reqs: []SwipeRequest{sreq(1, 2, like)}, free: 3, want: []int{ok},
			quota: map[model.QuotaKey]int{day(1): 1}, facts: func(f *model.SwipeFacts) { f.Blocked[model.Pair{From: 1, To: 3}] = true }},
		{name: "already swiped", reqs: []SwipeRequest{sreq(1, 2, like)}, free: 3, want: []int{already},
			facts: func(f *model.SwipeFacts) { f.Swiped[model.Pair{From: 1, To: 2}] = true }},
		{name: "the reverse is not a conflict", reqs: []SwipeRequest{sreq(2, 1, like)}, free: 3, want: []int{ok},
			quota: map[model.QuotaKey]int{day(2): 1}, facts: func(f *model.SwipeFacts) { f.Swiped[model.Pair{From: 1, To: 2}] = true }},
		{name: "twice in the batch", reqs: []SwipeRequest{sreq(1, 2, like), sreq(1, 2, dislike)}, free: 3, want: []int{ok, already},
			quota: map[model.QuotaKey]int{day(1): 1}},
		{name: "a refused swipe does not take the pair", reqs: []SwipeRequest{sreq(1, 2, super), sreq(1, 2, like)}, free: 3,
			want: []int{permission, ok}, quota: map[model.QuotaKey]int{day(1): 1}},
		{name: "quota: the first L-U in order", reqs: []SwipeRequest{sreq(1, 2, like), sreq(1, 3, dislike), sreq(1, 4, like), sreq(1, 5, like)},
			free: 3, facts: func(f *model.SwipeFacts) { f.Used[day(1)] = 1 }, want: []int{ok, ok, ok, quota},
			quota: map[model.QuotaKey]int{day(1): 2}},
		{name: "quota used up", reqs: []SwipeRequest{sreq(1, 2, like), sreq(1, 3, dislike)}, free: 3,
			facts: func(f *model.SwipeFacts) { f.Used[day(1)] = 3 }, want: []int{quota, ok}},
		{name: "quota per user", reqs: []SwipeRequest{sreq(1, 2, like), sreq(3, 2, like), sreq(1, 4, like)}, free: 1,
			want: []int{ok, ok, quota}, quota: map[model.QuotaKey]int{day(1): 1, day(3): 1}},
		{name: "a refused like uses nothing", reqs: []SwipeRequest{sreq(1, 42, like), sreq(1, 2, like)}, free: 1,
			want: []int{notFound, ok}, quota: map[model.QuotaKey]int{day(1): 1}},
		{name: "free limit 0", reqs: []SwipeRequest{sreq(1, 2, like)}, free: 0, want: []int{quota}},
		{name: "superlike needs VIP", reqs: []SwipeRequest{sreq(1, 2, super)}, free: 3, want: []int{permission}},
		{name: "superlike with VIP 1, limited", reqs: []SwipeRequest{sreq(1, 2, super), sreq(1, 3, like)}, free: 1,
			facts: withVIP(1, decideNow.Add(time.Hour)), want: []int{ok, quota}, quota: map[model.QuotaKey]int{day(1): 1}},
		{name: "expired VIP", reqs: []SwipeRequest{sreq(1, 2, super)}, free: 3,
			facts: withVIP(3, decideNow.Add(-time.Second)), want: []int{permission}},
		{name: "unlimited likes, counted", reqs: []SwipeRequest{sreq(1, 2, like), sreq(1, 3, super), sreq(1, 4, like)}, free: 1,
			facts: func(f *model.SwipeFacts) { withVIP(3, decideNow.Add(time.Hour))(f); f.Used[day(1)] = 50 },
			want:  []int{ok, ok, ok}, quota: map[model.QuotaKey]int{day(1): 3}},
		{name: "permission before the peer", reqs: []SwipeRequest{sreq(1, 42, super)}, free: 3, want: []int{permission}},
		{name: "not found before the conflict", reqs: []SwipeRequest{sreq(1, 2, like)}, free: 3, want: []int{notFound},
			facts: func(f *model.SwipeFacts) { f.Swiped[model.Pair{From: 1, To: 2}] = true; delete(f.Users, 2) }},
		{name: "conflict before the quota", reqs: []SwipeRequest{sreq(1, 2, like)}, free: 0, want: []int{already},
			facts: func(f *model.SwipeFacts) { f.Swiped[model.Pair{From: 1, To: 2}] = true }},
		{name: "a banned swiper", reqs: []SwipeRequest{sreq(1, 2, like)}, free: 3, want: []int{noSwiper},
			facts: func(f *model.SwipeFacts) { delete(f.Users, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := facts()
			if tc.facts != nil {
				tc.facts(&f)
			}
			d := decideSwipes(tc.reqs, f, swipePolicy{FreeDailyLikes: tc.free, TZ: decideTZ})
			var got []int
			for _, o := range d.Outcomes {
				got = append(got, kindOf(o.Err))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("outcomes %v, want %v (%+v)", got, tc.want, d.Outcomes)
			}
			if len(d.Quota) != len(tc.quota) {
				t.Fatalf("quota %v, want %v", d.Quota, tc.quota)
			}
			for q, n := range tc.quota {
				if d.Quota[q] != n {
					t.Fatalf("quota %v, want %v", d.Quota, tc.quota)
				}
			}
			var accepted []int
			for i, k := range got {
				if k == ok {
					accepted = append(accepted, i)
				}
			}
			if !slices.Equal(d.Accepted, accepted) || len(d.Swipes) != len(accepted) {
				t.Fatalf("accepted %v, swipes %v, want %v", d.Accepted, d.Swipes, accepted)
			}
		})
	}
}

// A quota error runs until the next local midnight.
func TestDecideQuotaRetryAfter(t *testing.T) {
	d := decideSwipes([]SwipeRequest{sreq(1, 2, like)}, facts(), swipePolicy{FreeDailyLikes: 0, TZ: decideTZ})
	var qe *QuotaError
	if !errors.As(d.Outcomes[0].Err, &qe) || qe.Rewind || qe.RetryAfter != 14*time.Hour {
		t.Fatalf("%v", d.Outcomes[0].Err)
	}
}

// The quota counts on the local day of the swipe.
func TestDecideQuotaDay(t *testing.T) {
	late := SwipeRequest{Swiper: 1, Swiped: 2, Action: like, At: time.Date(2026, 5, 1, 16, 30, 0, 0, time.UTC)} // 00:30 on the 2nd
	f := facts()
	f.Used[model.QuotaKey{User: 1, Day: today}] = 5
	d := decideSwipes([]SwipeRequest{late}, f, swipePolicy{FreeDailyLikes: 5, TZ: decideTZ})
	if d.Outcomes[0].Err != nil || d.Quota[model.QuotaKey{User: 1, Day: "2026-05-02"}] != 1 {
		t.Fatalf("%+v %v", d.Outcomes[0], d.Quota)
	}
	if q := factsQuery([]SwipeRequest{late, sreq(1, 3, dislike)}, swipePolicy{TZ: decideTZ}); len(q.Quotas) != 1 ||
		q.Quotas[0] != (model.QuotaKey{User: 1, Day: "2026-05-02"}) || len(q.Pairs) != 2 {
		t.Fatalf("query %+v", q)
	}
}

// Scores: per swiped user, summed, by action.
func TestDecideScores(t *testing.T) {
	f := facts()
	f.Users[1] = model.SwipeUser{VIPLevel: 3, VIPExpiresAt: new(decideNow.Add(time.Hour))}
	d := decideSwipes([]SwipeRequest{sreq(1, 5, like), sreq(2, 5, super), sreq(3, 5, dislike), sreq(1, 6, super),
		sreq(3, 5, like), sreq(4, 42, like)}, f, swipePolicy{FreeDailyLikes: 9, TZ: decideTZ})
	got := map[int64]model.ScoreAdd{}
	for _, s := range d.Scores {
		got[s.User] = s
	}
	// 2's superlike has no VIP: refused; 3's like of 5 is a conflict.
	want := map[int64]model.ScoreAdd{5: {User: 5, Delta: ScoreLike + ScoreDislike, Swipes: 2}, 6: {User: 6, Delta: ScoreSuperlike, Swipes: 1}}
	if len(got) != len(want) || got[5] != want[5] || got[6] != want[6] {
		t.Fatalf("scores %+v, want %+v", got, want)
	}
}

func TestScoreOf(t *testing.T) {
	for act, want := range map[int8]int64{like: 5, super: 7, dislike: -5} {
		if got := ScoreOf(act); got != want {
			t.Errorf("ScoreOf(%d) = %d, want %d", act, got, want)
		}
	}
}

// Each recorded swipe is ordered after the swiper's previous one.
func TestDecideSwipeTimes(t *testing.T) {
	us := time.Microsecond
	for _, tc := range []struct {
		name   string
		latest map[int64]time.Time
		reqs   []SwipeRequest
		want   []time.Time
	}{
		{name: "no history", reqs: []SwipeRequest{sreq(1, 2, dislike)}, want: []time.Time{decideNow}},
		{name: "an older history", latest: map[int64]time.Time{1: decideNow.Add(-time.Second)},
			reqs: []SwipeRequest{sreq(1, 2, dislike)}, want: []time.Time{decideNow}},
		{name: "a history at the same time", latest: map[int64]time.Time{1: decideNow},
			reqs: []SwipeRequest{sreq(1, 2, dislike)}, want: []time.Time{decideNow.Add(us)}},
		{name: "a history ahead (another replica's clock)", latest: map[int64]time.Time{1: decideNow.Add(time.Second)},
			reqs: []SwipeRequest{sreq(1, 2, dislike), sreq(1, 3, dislike)}, want: []time.Time{decideNow.Add(time.Second + us), decideNow.Add(time.Second + 2*us)}},
		{name: "bumped within the batch", reqs: []SwipeRequest{sreq(1, 2, dislike), sreq(1, 3, like), sreq(1, 4, dislike)},
			want: []time.Time{decideNow, decideNow.Add(us), decideNow.Add(2 * us)}},
		{name: "per swiper", reqs: []SwipeRequest{sreq(1, 2, dislike), sreq(3, 2, dislike), sreq(1, 4, dislike)},
			want: []time.Time{decideNow, decideNow, decideNow.Add(us)}},
		{name: "a refused swipe takes no time", reqs: []SwipeRequest{sreq(1, 2, dislike), sreq(1, 42, dislike), sreq(1, 4, dislike)},
			want: []time.Time{decideNow, {}, decideNow.Add(us)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := facts()
			for u, at := range tc.latest {
				f.Latest[u] = at
			}
			d := decideSwipes(tc.reqs, f, swipePolicy{FreeDailyLikes: 9, TZ: decideTZ})
			for i, o := range d.Outcomes {
				if !o.Swipe.CreatedAt.Equal(tc.want[i]) {
					t.Errorf("swipe %d at %v, want %v", i, o.Swipe.CreatedAt, tc.want[i])
				}
			}
		})
	}
}

// Only limited likes whose row is missing need one created and locked.
func TestQuotaRowsToLock(t *testing.T) {
	k := func(u int64) model.QuotaKey { return model.QuotaKey{User: u, Day: today} }
	f := facts()
	f.Users[5] = model.SwipeUser{VIPLevel: 3, VIPExpiresAt: new(decideNow.Add(time.Hour))}
	f.Used[k(2)] = 1
	f.Blocked[model.Pair{From: 4, To: 1}] = true
	reqs := []SwipeRequest{
		sreq(1, 2, like),    // missing: locked
		sreq(1, 3, like),    // the same row, once is enough (the store dedupes)
		sreq(2, 3, like),    // found
		sreq(3, 2, dislike), // not a like
		sreq(4, 1, like),    // blocked
		sreq(5, 1, like),    // unlimited
		sreq(6, 42, like),   // unknown peer
		sreq(42, 1, like),   // no swiper
		sreq(7, 1, super),   // refused: no VIP
	}
	got := quotaRowsToLock(reqs, f, swipePolicy{FreeDailyLikes: 3, TZ: decideTZ})
	if want := []model.QuotaKey{k(1), k(1)}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestDecideMatches(t *testing.T) {
	p := func(a, b int64) model.Pair { return model.Pair{From: a, To: b} }
	both := model.PairState{ALikes: true, BLikes: true}
	for _, tc := range []struct {
		name    string
		reqs    []SwipeRequest
		pairs   map[model.Pair]model.PairState
		matched []bool
	}{
		{name: "the other liked before", reqs: []SwipeRequest{sreq(2, 1, like)}, pairs: map[model.Pair]model.PairState{p(1, 2): both},
			matched: []bool{true}},
		{name: "alone", reqs: []SwipeRequest{sreq(2, 1, like)}, pairs: map[model.Pair]model.PairState{p(1, 2): {BLikes: true}},
			matched: []bool{false}},
		{name: "already matched", reqs: []SwipeRequest{sreq(2, 1, super)},
			pairs: map[model.Pair]model.PairState{p(1, 2): {ALikes: true, BLikes: true, Matched: true}}, matched: []bool{false}},
		{name: "blocked meanwhile", reqs: []SwipeRequest{sreq(2, 1, like)},
			pairs: map[model.Pair]model.PairState{p(1, 2): {ALikes: true, BLikes: true, Blocked: true}}, matched: []bool{false}},
		{name: "crossing in the batch: the later like", reqs: []SwipeRequest{sreq(1, 2, like), sreq(3, 4, like), sreq(2, 1, super)},
			pairs:   map[model.Pair]model.PairState{p(1, 2): both, p(3, 4): {ALikes: true}},
			matched: []bool{false, false, true}},
		{name: "a dislike never matches", reqs: []SwipeRequest{sreq(2, 1, dislike)}, pairs: map[model.Pair]model.PairState{p(1, 2): both},
			matched: []bool{false}},
		{name: "a refused like does not match", reqs: []SwipeRequest{sreq(2, 1, like), sreq(2, 1, like)},
			pairs: map[model.Pair]model.PairState{p(1, 2): both}, matched: []bool{true, false}},
		{name: "several pairs", reqs: []SwipeRequest{sreq(5, 1, like), sreq(2, 1, like), sreq(1, 3, like)},
			pairs:   map[model.Pair]model.PairState{p(1, 5): both, p(1, 2): {BLikes: true}, p(1, 3): both},
			matched: []bool{true, false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := facts()
			f.Users[2] = model.SwipeUser{VIPLevel: 3, VIPExpiresAt: new(decideNow.Add(time.Hour))}
			d := decideSwipes(tc.reqs, f, swipePolicy{FreeDailyLikes: 9, TZ: decideTZ})
			ms := decideMatches(&d, tc.pairs)
			var got []bool
			n := 0
			for _, o := range d.Outcomes {
				got = append(got, o.Matched)
				if o.Matched {
					n++
				}
			}
			if !slices.Equal(got, tc.matched) || len(ms) != n {
				t.Fatalf("matched %v (%d new), want %v", got, len(ms), tc.matched)
			}
			for _, m := range ms {
				if m.A >= m.B || !m.At.Equal(decideNow) && m.At.Before(decideNow) {
					t.Fatalf("match %+v", m)
				}
			}
		})
	}
}

func TestRewindPlan(t *testing.T) {
	sw := func(act int8, age time.Duration) *model.Swipe {
		return &model.Swipe{SwiperID: 1, SwipedID: 2, Action: act, CreatedAt: decideNow.Add(-age)}
	}
	for _, tc := range []struct {
		name    string
		facts   model.RewindFacts
		err     error
		quota   bool
		delta   int64
		likeDay string
	}{
		{name: "nothing", facts: model.RewindFacts{}, err: ErrNothingToRewind},
		{name: "a like", facts: model.RewindFacts{Latest: sw(like, time.Minute)}, delta: -ScoreLike, likeDay: today},
		{name: "a superlike", facts: model.RewindFacts{Latest: sw(super, time.Minute), Rewinds: 2}, delta: -ScoreSuperlike, likeDay: today},
		{name: "a dislike", facts: model.RewindFacts{Latest: sw(dislike, time.Minute)}, delta: -ScoreDislike},
		{name: "at the window", facts: model.RewindFacts{Latest: sw(like, RewindWindow)}, delta: -ScoreLike, likeDay: today},
		{name: "too old", facts: model.RewindFacts{Latest: sw(like, RewindWindow+time.Microsecond)}, err: ErrRewindTooOld},
		{name: "too old before the quota", facts: model.RewindFacts{Latest: sw(like, time.Hour), Rewinds: 3}, err: ErrRewindTooOld},
		{name: "a like in a match", facts: model.RewindFacts{Latest: sw(like, time.Minute), Matched: true}, err: ErrRewindMatched},
		{name: "a superlike in a match", facts: model.RewindFacts{Latest: sw(super, time.Minute), Matched: true}, err: ErrRewindMatched},
		{name: "matched before the quota", facts: model.RewindFacts{Latest: sw(like, time.Minute), Matched: true, Rewinds: 3}, err: ErrRewindMatched},
		{name: "a dislike of a match", facts: model.RewindFacts{Latest: sw(dislike, time.Minute), Matched: true}, delta: -ScoreDislike},
		{name: "rewinds used up", facts: model.RewindFacts{Latest: sw(dislike, time.Minute), Rewinds: profile.RewindsPerDay}, quota: true},
		{name: "a like of yesterday", facts: model.RewindFacts{Latest: sw(like, 2*time.Minute+10*time.Hour)}, err: ErrRewindTooOld},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := rewindPlan(tc.facts, decideNow, decideTZ)
			var qe *QuotaError
			switch {
			case tc.quota:
				if !errors.As(err, &qe) || !qe.Rewind || qe.RetryAfter != 14*time.Hour {
					t.Fatalf("err %v, want the rewind quota", err)
				}
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if u.Swipe != *tc.facts.Latest || u.Matched != tc.facts.Matched || u.Day != today ||
					u.MaxRewinds != profile.RewindsPerDay || u.ScoreDelta != tc.delta || u.LikeDay != tc.likeDay {
					t.Fatalf("undo %+v", u)
				}
			}
		})
	}
}

// A like made just before local midnight gives its like back to its own day.
func TestRewindPlanLikeDay(t *testing.T) {
	now := time.Date(2026, 5, 1, 16, 2, 0, 0, time.UTC) // 00:02 on the 2nd
	f := model.RewindFacts{Latest: &model.Swipe{SwiperID: 1, SwipedID: 2, Action: like, CreatedAt: now.Add(-3 * time.Minute)}}
	u, err := rewindPlan(f, now, decideTZ)
	if err != nil || u.LikeDay != today || u.Day != "2026-05-02" {
		t.Fatalf("%+v %v", u, err)
	}
}

func TestLikeLimit(t *testing.T) {
	exp := decideNow.Add(time.Hour)
	for _, tc := range []struct {
		level int
		act   int8
		want  int
		perm  bool
	}{
		{0, like, 7, false}, {0, super, 0, true}, {0, dislike, 7, false},
		{1, super, 7, false}, {1, like, 7, false}, {2, like, 7, false}, {3, like, -1, false}, {3, super, -1, false},
	} {
		got, err := likeLimit(model.SwipeUser{VIPLevel: tc.level, VIPExpiresAt: &exp}, tc.act, decideNow, 7)
		var pe *profile.PermissionError
		if got != tc.want || errors.As(err, &pe) != tc.perm {
			t.Errorf("level %d action %d: %d %v", tc.level, tc.act, got, err)
		}
	}
}
