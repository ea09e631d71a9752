package social

import (
	"fmt"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/domain/vip"
)

// The rules of swipes and rewinds, as pure functions of what the store
// read (its facts) and the request: the store reads the facts and writes
// the outcomes, in one transaction (CommitSwipes, Rewind).

// SwipeRequest is one swipe to record: Swiper swiped Swiped at At.
type SwipeRequest struct {
	Swiper, Swiped int64
	Action         int8
	At             time.Time
}

// SwipeOutcome is what became of one SwipeRequest.
type SwipeOutcome struct {
	// Err is nil when the swipe was recorded, otherwise the error Swipe
	// answers: profile.ErrUserNotFound (unknown, banned, deleted or blocked
	// peer, or no swiper), ErrAlreadySwiped, *QuotaError or
	// *profile.PermissionError.
	Err error
	// Swipe is the recorded swipe, with the time it is ordered by.
	Swipe model.Swipe
	// Matched reports that this swipe created the match of the two users.
	Matched bool
}

// ErrNoSwiper refuses the swipe of a swiper that has no row (or is banned
// or deleted); it wraps profile.ErrUserNotFound.
var ErrNoSwiper = fmt.Errorf("social: no swiper: %w", profile.ErrUserNotFound)

// swipePolicy is the configuration the swipe rules read.
type swipePolicy struct {
	FreeDailyLikes int
	TZ             *time.Location
}

// day is the local day whose like quota a swipe at t uses.
func (p swipePolicy) day(t time.Time) string { return Day(t, p.TZ) }

// factsQuery says what the store reads for reqs.
func factsQuery(reqs []SwipeRequest, p swipePolicy) model.SwipeFactsQuery {
	q := model.SwipeFactsQuery{Pairs: make([]model.Pair, len(reqs))}
	for i, r := range reqs {
		q.Pairs[i] = model.Pair{From: r.Swiper, To: r.Swiped}
		if model.IsLike(r.Action) {
			q.Quotas = append(q.Quotas, model.QuotaKey{User: r.Swiper, Day: p.day(r.At)})
		}
	}
	return q
}

// likeLimit is the number of likes swiper may use today (< 0: unlimited),
// or the error that refuses the swipe: a superlike needs VIP.
func likeLimit(u model.SwipeUser, action int8, now time.Time, free int) (int, error) {
	l := vip.Effective(u.VIPLevel, u.VIPExpiresAt, now)
	if action == model.ActionSuperlike && !vip.Has(l, vip.PermSuperlike) {
		return 0, &profile.PermissionError{Permission: vip.PermSuperlike}
	}
	if vip.Has(l, vip.PermUnlimitedLike) {
		return -1, nil
	}
	return free, nil
}

// quotaRowsToLock lists the quota rows that limited likes need and that
// the facts did not find (a user's first like of the day): they must be
// created and locked before the likes can be counted against them.
func quotaRowsToLock(reqs []SwipeRequest, f model.SwipeFacts, p swipePolicy) []model.QuotaKey {
	var keys []model.QuotaKey
	for _, r := range reqs {
		u, ok := f.Users[r.Swiper]
		if !ok || !model.IsLike(r.Action) || !peer(f, r) {
			continue
		}
		if limit, err := likeLimit(u, r.Action, r.At, p.FreeDailyLikes); err != nil || limit < 0 {
			continue
		}
		q := model.QuotaKey{User: r.Swiper, Day: p.day(r.At)}
		if _, found := f.Used[q]; !found {
			keys = append(keys, q)
		}
	}
	return keys
}

// peer reports whether r's swiped user can be swiped by r's swiper: it
// exists, is shown, and neither blocked the other.
func peer(f model.SwipeFacts, r SwipeRequest) bool {
	_, ok := f.Users[r.Swiped]
	return ok && !f.Blocked[model.Pair{From: r.Swiper, To: r.Swiped}]
}

// swipeDecision is what decideSwipes made of a batch.
type swipeDecision struct {
	Outcomes []SwipeOutcome
	Accepted []int                  // indexes of the recorded requests, in order
	Swipes   []model.Swipe          // the recorded swipes, in the order of Accepted
	Likes    []model.Pair           // the recorded likes and superlikes
	Quota    map[model.QuotaKey]int // likes added per quota row
	Scores   []model.ScoreAdd       // per swiped user
}

// decideSwipes decides reqs in order, as one after the other: the swiper
// must exist (and have VIP for a superlike); the swiped user must exist,
// be shown and not blocked either way; a pair is swiped once (stored, or
// earlier in the batch); a like counts against the swiper's daily quota
// (the first L−U of L allowed with U used are accepted, in order; VIP:
// unlimited, still counted). Each recorded swipe is ordered after the
// swiper's previous one: its time is its request's, or 1 µs after the
// previous swipe when that is not earlier.
func decideSwipes(reqs []SwipeRequest, f model.SwipeFacts, p swipePolicy) swipeDecision {
	d := swipeDecision{Outcomes: make([]SwipeOutcome, len(reqs)), Quota: map[model.QuotaKey]int{}}
	used := make(map[model.QuotaKey]int, len(f.Used))
	for q, n := range f.Used {
		used[q] = n
	}
	latest := make(map[int64]time.Time, len(f.Latest))
	for u, t := range f.Latest {
		latest[u] = t
	}
	taken := make(map[model.Pair]bool, len(reqs))
	scores := map[int64]int{} // index in d.Scores
	for i, r := range reqs {
		out := &d.Outcomes[i]
		pr := model.Pair{From: r.Swiper, To: r.Swiped}
		u, ok := f.Users[r.Swiper]
		if !ok {
			out.Err = ErrNoSwiper
			continue
		}
		limit, err := likeLimit(u, r.Action, r.At, p.FreeDailyLikes)
		if err != nil {
			out.Err = err
			continue
		}
		if !peer(f, r) {
			out.Err = fmt.Errorf("%w: %d", profile.ErrUserNotFound, r.Swiped)
			continue
		}
		if taken[pr] || f.Swiped[pr] {
			out.Err = ErrAlreadySwiped
			continue
		}
		like := model.IsLike(r.Action)
		if like {
			q := model.QuotaKey{User: r.Swiper, Day: p.day(r.At)}
			if limit >= 0 && used[q] >= limit {
				out.Err = &QuotaError{RetryAfter: untilMidnight(r.At, p.TZ)}
				continue
			}
			used[q]++
			d.Quota[q]++
			d.Likes = append(d.Likes, pr)
		}
		taken[pr] = true
		at := r.At
		if prev, ok := latest[r.Swiper]; ok && !at.After(prev) {
			at = prev.Add(time.Microsecond)
		}
		latest[r.Swiper] = at
		out.Swipe = model.Swipe{SwiperID: r.Swiper, SwipedID: r.Swiped, Action: r.Action, CreatedAt: at}
		d.Accepted = append(d.Accepted, i)
		d.Swipes = append(d.Swipes, out.Swipe)
		k, ok := scores[r.Swiped]
		if !ok {
			k = len(d.Scores)
			scores[r.Swiped] = k
			d.Scores = append(d.Scores, model.ScoreAdd{User: r.Swiped})
		}
		d.Scores[k].Delta += ScoreOf(r.Action)
		d.Scores[k].Swipes++
	}
	return d
}

// decideMatches sets Matched on the outcomes of the likes that match, as
// their pairs' rows read after the likes were marked on them: a pair
// matches when both users like each other, it had no match and neither
// blocked the other. The match goes to the pair's last like of the batch,
// once; it returns the matches to create.
func decideMatches(d *swipeDecision, pairs map[model.Pair]model.PairState) []model.NewMatch {
	last := map[model.Pair]int{} // the pair's last like in the batch
	var order []model.Pair
	for _, i := range d.Accepted {
		sw := d.Outcomes[i].Swipe
		if !model.IsLike(sw.Action) {
			continue
		}
		k := orderedPair(sw.SwiperID, sw.SwipedID)
		if _, seen := last[k]; !seen {
			order = append(order, k)
		}
		last[k] = i
	}
	var ms []model.NewMatch
	for _, k := range order {
		st := pairs[k]
		if !st.ALikes || !st.BLikes || st.Matched || st.Blocked || k.From == k.To {
			continue
		}
		i := last[k]
		d.Outcomes[i].Matched = true
		ms = append(ms, model.NewMatch{A: k.From, B: k.To, At: d.Outcomes[i].Swipe.CreatedAt})
	}
	return ms
}

func orderedPair(x, y int64) model.Pair {
	if x > y {
		x, y = y, x
	}
	return model.Pair{From: x, To: y}
}

// rewindPlan decides a rewind of me's latest swipe at now from f: nothing
// (ErrNothingToRewind), older than RewindWindow (ErrRewindTooOld), a like
// that is part of a match (ErrRewindMatched: it stays, or a user could
// probe silently whether someone liked them), the day's rewinds used up
// (*QuotaError). Otherwise the undo: the swipe, its score, its like back to
// the quota of its own day, and a match of the two (left by a dislike)
// removed; the rewind counts against today's RewindsPerDay.
func rewindPlan(f model.RewindFacts, now time.Time, tz *time.Location) (model.RewindUndo, error) {
	if f.Latest == nil {
		return model.RewindUndo{}, ErrNothingToRewind
	}
	sw := *f.Latest
	if now.Sub(sw.CreatedAt) > RewindWindow {
		return model.RewindUndo{}, ErrRewindTooOld
	}
	if f.Matched && model.IsLike(sw.Action) {
		return model.RewindUndo{}, ErrRewindMatched
	}
	if f.Rewinds >= profile.RewindsPerDay {
		return model.RewindUndo{}, rewindQuotaError(now, tz)
	}
	u := model.RewindUndo{Swipe: sw, Matched: f.Matched, Day: Day(now, tz), MaxRewinds: profile.RewindsPerDay,
		ScoreDelta: -ScoreOf(sw.Action)}
	if model.IsLike(sw.Action) {
		u.LikeDay = Day(sw.CreatedAt, tz)
	}
	return u, nil
}

func rewindQuotaError(now time.Time, tz *time.Location) error {
	return &QuotaError{Rewind: true, RetryAfter: untilMidnight(now, tz)}
}
