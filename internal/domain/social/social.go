// Package social holds the social module: swipes, rewind, matches, who
// liked me, recommendations and the hot rank (API.md §3 Social), and the
// daily quotas the VIP status reports.
package social

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/deckstate"
	"github.com/swiper-social/swiper/internal/adapters/rank"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/deck"
	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/domain/vip"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/batch"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Errors of the service; the HTTP layer maps them to API codes.
var (
	ErrSelfSwipe       = errors.New("social: you cannot swipe yourself")                        // 2001
	ErrAlreadySwiped   = errors.New("social: already swiped this user")                         // 2002
	ErrNothingToRewind = errors.New("social: nothing to rewind")                                // 2004
	ErrRewindTooOld    = errors.New("social: the latest swipe is older than the rewind window") // 2005
	ErrNotMatched      = errors.New("social: not matched with this user")                       // 2007
	ErrRewindMatched   = errors.New("social: the latest swipe made a match")                    // 2010
)

// QuotaError is a daily quota used up: likes (2003) or rewinds (2006).
// RetryAfter runs until the next local midnight.
type QuotaError struct {
	Rewind     bool
	RetryAfter time.Duration
}

func (e *QuotaError) Error() string {
	if e.Rewind {
		return "social: daily rewind quota used up"
	}
	return "social: daily like quota used up"
}

// RewindWindow is how old the latest swipe may be to be rewound.
const RewindWindow = 300 * time.Second

// Score changes of the swiped user (hot rank).
const (
	ScoreLike      = 5
	ScoreSuperlike = 7
	ScoreDislike   = -5
)

// Action names of the API.
const (
	Like      = "like"
	Superlike = "superlike"
	Dislike   = "dislike"
)

// ParseAction maps an API action name to its stored value.
func ParseAction(name string) (int8, bool) {
	switch name {
	case Like:
		return model.ActionLike, true
	case Superlike:
		return model.ActionSuperlike, true
	case Dislike:
		return model.ActionDislike, true
	}
	return 0, false
}

func actionName(a int8) string {
	switch a {
	case model.ActionLike:
		return Like
	case model.ActionSuperlike:
		return Superlike
	}
	return Dislike
}

// ScoreOf is the hot-rank score change a swipe action gives the swiped user.
func ScoreOf(a int8) int64 {
	switch a {
	case model.ActionLike:
		return ScoreLike
	case model.ActionSuperlike:
		return ScoreSuperlike
	}
	return ScoreDislike
}

// Deps are the collaborators of Service.
type Deps struct {
	Store          *store.Store
	Profile        *profile.Service // builds the Cards (album visibility lives there)
	Rank           rank.Board
	Clock          clock.Clock
	TZ             *time.Location
	FreeDailyLikes int
	Log            *slog.Logger
	// Deck is the in-memory recommendation index (deck.go); nil builds
	// decks with one SQL query instead (slow on big populations).
	Deck *deck.Index
	// DeckState caches per viewer what a deck leaves out or puts first
	// (needed with Deck; told about every committed swipe and rewind).
	DeckState deckstate.Store
	// Swipes records swipes, concurrent ones sharing a transaction (a
	// batch.Committer over Store.SwipeBatch, closed by the owner after the
	// HTTP server drained); nil records each swipe in its own.
	Swipes SwipeCommitter
	// CachedUser reads a user through the user cache, which every VIP
	// change (grant, expiry sweep) invalidates; nil reads the database.
	CachedUser func(ctx context.Context, id int64) (model.User, error)
	// Events announces new matches and unmatches to both users' streams
	// (events.go); nil announces nothing.
	Events Publisher
}

// SwipeCommitter records one swipe among concurrent others (a
// batch.Committer over CommitSwipes).
type SwipeCommitter interface {
	Do(ctx context.Context, req store.SwipeReq) (store.SwipeOutcome, error)
}

// SwipeBatchSize bounds how many swipes share one transaction.
const SwipeBatchSize = 256

// Service is the social module.
type Service struct{ d Deps }

// New returns a Service.
func New(d Deps) *Service { return &Service{d: d} }

// Match is a match seen by one of the two users.
type Match struct {
	User      profile.Card `json:"user"`
	MatchedAt time.Time    `json:"matched_at"`
}

// SwipeResult is the answer to a swipe.
type SwipeResult struct {
	Matched bool   `json:"matched"`
	Match   *Match `json:"match"`
}

// RewindResult is the swipe a rewind undid.
type RewindResult struct {
	User   profile.Card `json:"user"`
	Action string       `json:"action"`
}

// LikesPage is one page of who liked me.
type LikesPage struct {
	Total int            `json:"total"`
	Users []profile.Card `json:"users"`
}

// MatchesPage is one page of my matches.
type MatchesPage struct {
	Total   int     `json:"total"`
	Matches []Match `json:"matches"`
}

// RankEntry is one line of the hot rank.
type RankEntry struct {
	Rank  int          `json:"rank"`
	Score int64        `json:"score"`
	User  profile.Card `json:"user"`
}

// Day is the local calendar day (YYYY-MM-DD) of t in tz.
func Day(t time.Time, tz *time.Location) string { return t.In(tz).Format("2006-01-02") }

// untilMidnight is the time from now to the next local midnight in tz.
func untilMidnight(now time.Time, tz *time.Location) time.Duration {
	l := now.In(tz)
	next := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, tz)
	return next.Sub(now)
}

func (s *Service) now() time.Time { return s.d.Clock.Now().UTC().Truncate(time.Microsecond) }

// user reads a user row (fresh: VIP levels are checked on it).
func (s *Service) user(ctx context.Context, id int64) (model.User, error) {
	u, err := s.d.Store.User(ctx, id)
	if errors.Is(err, model.ErrNotFound) {
		return model.User{}, fmt.Errorf("%w: %d", profile.ErrUserNotFound, id)
	}
	return u, err
}

// Swipe records me's swipe of target (action like, superlike or dislike).
func (s *Service) Swipe(ctx context.Context, me, target int64, action string) (SwipeResult, error) {
	if target == me {
		return SwipeResult{}, ErrSelfSwipe
	}
	act, ok := ParseAction(action)
	if !ok {
		return SwipeResult{}, input.Invalid("action", "must be like, superlike or dislike")
	}
	now := s.now()
	delta := ScoreOf(act)
	sw := model.Swipe{SwiperID: me, SwipedID: target, Action: act, CreatedAt: now}
	// The VIP level is checked on the swiper's row as the transaction that
	// records the swipe reads it (no cache, no extra round trip), with the
	// expiry checked against now.
	decide := func(level int, expires *time.Time) (int, error) {
		l := vip.Effective(level, expires, now)
		if act == model.ActionSuperlike && !vip.Has(l, vip.PermSuperlike) {
			return 0, &profile.PermissionError{Permission: vip.PermSuperlike}
		}
		if vip.Has(l, vip.PermUnlimitedLike) {
			return -1, nil // counted, never refused
		}
		return s.d.FreeDailyLikes, nil
	}
	// Answered once the transaction holding the swipe committed and the
	// rank and deck state were told; whether target exists is checked there.
	out, err := s.recordSwipe(ctx, store.SwipeReq{Swipe: sw, Day: Day(now, s.d.TZ), ScoreDelta: delta, Decide: decide})
	if err != nil {
		return SwipeResult{}, err
	}
	switch err := out.Err; {
	case errors.Is(err, store.ErrNoSwiper):
		return SwipeResult{}, fmt.Errorf("%w: %d", profile.ErrUserNotFound, me)
	case errors.Is(err, model.ErrNotFound):
		return SwipeResult{}, fmt.Errorf("%w: %d", profile.ErrUserNotFound, target)
	case errors.Is(err, model.ErrConflict):
		return SwipeResult{}, ErrAlreadySwiped
	case errors.Is(err, model.ErrFull):
		return SwipeResult{}, &QuotaError{RetryAfter: untilMidnight(now, s.d.TZ)}
	case err != nil:
		return SwipeResult{}, err
	}
	if !out.Matched {
		return SwipeResult{Matched: false}, nil
	}
	viewer, err := s.cachedUser(ctx, me)
	if err != nil {
		return SwipeResult{}, err
	}
	card, err := s.card(ctx, viewer, target)
	if err != nil {
		return SwipeResult{}, err
	}
	m := Match{User: card, MatchedAt: now}
	s.publishMatch(ctx, me, target, m)
	return SwipeResult{Matched: true, Match: &m}, nil
}

// recordSwipe records one swipe through the committer (or alone without
// one).
func (s *Service) recordSwipe(ctx context.Context, req store.SwipeReq) (store.SwipeOutcome, error) {
	if s.d.Swipes == nil {
		out, err := s.CommitSwipes(ctx, []store.SwipeReq{req})
		if err != nil {
			return store.SwipeOutcome{}, err
		}
		return out[0], nil
	}
	out, err := s.d.Swipes.Do(ctx, req)
	if errors.Is(err, batch.ErrClosed) { // shutting down
		return store.SwipeOutcome{}, backend.Unavailable(err)
	}
	return out, err
}

// CommitSwipes records reqs in one transaction (store.SwipeBatch), then
// tells the hot rank and the deck state about the accepted swipes, once for
// the whole batch (two concurrent calls however many swipes): the run of the
// swipe committer (Deps.Swipes). Both happen before any caller is answered,
// so that a swiper's next deck already leaves out what they swiped; a
// failure of either is logged (the scores table is the truth of the rank;
// the deck state retries).
func (s *Service) CommitSwipes(ctx context.Context, reqs []store.SwipeReq) ([]store.SwipeOutcome, error) {
	out, err := s.d.Store.SwipeBatch(ctx, reqs)
	if err != nil {
		return nil, err
	}
	var sws []model.Swipe
	var swiped []int64 // the users whose score changed (the board dedupes)
	for i, r := range reqs {
		if out[i].Err != nil {
			continue
		}
		sws = append(sws, r.Swipe)
		swiped = append(swiped, r.Swipe.SwipedID)
	}
	if len(sws) == 0 {
		return out, nil
	}
	// The rank and the deck state are told together: the batch waits for
	// the slower.
	ranked := make(chan struct{})
	go func() {
		defer close(ranked)
		if err := s.d.Rank.Changed(context.WithoutCancel(ctx), swiped); err != nil {
			s.d.Log.ErrorContext(ctx, "hot rank not updated", "users", len(swiped), "err", err)
		}
	}()
	s.deckSwiped(ctx, sws)
	<-ranked
	return out, nil
}

// cachedUser reads a user through the user cache when there is one.
func (s *Service) cachedUser(ctx context.Context, id int64) (model.User, error) {
	if s.d.CachedUser == nil {
		return s.user(ctx, id)
	}
	return s.d.CachedUser(ctx, id)
}

// rankChanged tells the rank board about a committed score change; a
// failure is logged (the table stays the truth and the board is refilled
// from it).
func (s *Service) rankChanged(ctx context.Context, userID int64) {
	if err := s.d.Rank.Changed(context.WithoutCancel(ctx), []int64{userID}); err != nil {
		s.d.Log.ErrorContext(ctx, "hot rank not updated", "user_id", userID, "err", err)
	}
}

// Rewind undoes me's latest swipe (API.md §3 Rewind).
func (s *Service) Rewind(ctx context.Context, me int64) (RewindResult, error) {
	now := s.now()
	viewer, err := s.user(ctx, me)
	if err != nil {
		return RewindResult{}, err
	}
	if !vip.Has(profile.EffectiveLevel(viewer, now), vip.PermRewind) {
		return RewindResult{}, &profile.PermissionError{Permission: vip.PermRewind}
	}
	dayOf := func(t time.Time) string { return Day(t, s.d.TZ) }
	rw, err := s.d.Store.Rewind(ctx, me, Day(now, s.d.TZ), profile.RewindsPerDay, dayOf, ScoreOf, func(sw model.Swipe, matched bool) error {
		if now.Sub(sw.CreatedAt) > RewindWindow {
			return ErrRewindTooOld
		}
		// A like that is part of a match stays: rewinding it would let a
		// user probe silently whether someone liked them.
		if matched && model.IsLike(sw.Action) {
			return ErrRewindMatched
		}
		return nil
	})
	switch {
	case errors.Is(err, model.ErrNotFound):
		return RewindResult{}, ErrNothingToRewind
	case errors.Is(err, model.ErrFull):
		return RewindResult{}, &QuotaError{Rewind: true, RetryAfter: untilMidnight(now, s.d.TZ)}
	case err != nil:
		return RewindResult{}, err
	}
	s.rankChanged(ctx, rw.Swipe.SwipedID)
	s.deckRewound(ctx, rw.Swipe)
	card, err := s.card(ctx, viewer, rw.Swipe.SwipedID)
	if err != nil {
		return RewindResult{}, err
	}
	return RewindResult{User: card, Action: actionName(rw.Swipe.Action)}, nil
}

// card builds the Card of user id for viewer (profile.Cards).
func (s *Service) card(ctx context.Context, viewer model.User, id int64) (profile.Card, error) {
	cards, err := s.d.Profile.Cards(ctx, &viewer, []int64{id})
	if err != nil {
		return profile.Card{}, err
	}
	c, ok := cards[id]
	if !ok {
		return profile.Card{}, fmt.Errorf("%w: %d", profile.ErrUserNotFound, id)
	}
	return c, nil
}

// cardList builds the Cards of the existing users among ids for viewer, in
// the order of ids, in a fixed number of round trips (profile.Cards).
func (s *Service) cardList(ctx context.Context, viewer model.User, ids []int64) ([]profile.Card, error) {
	cards, err := s.d.Profile.Cards(ctx, &viewer, ids)
	if err != nil {
		return nil, err
	}
	out := make([]profile.Card, 0, len(ids))
	for _, id := range ids {
		if c, ok := cards[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// offset is the row offset of a page, capped far beyond any real total.
func offset(limit int, page int64) int {
	if page < 1 {
		page = 1
	}
	if page-1 > int64(math.MaxInt32/limit) {
		return math.MaxInt32
	}
	return int(page-1) * limit
}

// LikesReceived lists who liked me (needs who_liked_me: nothing about the
// likers is read without it).
func (s *Service) LikesReceived(ctx context.Context, me int64, limit int, page int64) (LikesPage, error) {
	viewer, err := s.user(ctx, me)
	if err != nil {
		return LikesPage{}, err
	}
	if !vip.Has(profile.EffectiveLevel(viewer, s.now()), vip.PermWhoLikedMe) {
		return LikesPage{}, &profile.PermissionError{Permission: vip.PermWhoLikedMe}
	}
	ls, total, err := s.d.Store.Likers(ctx, me, limit, offset(limit, page))
	if err != nil {
		return LikesPage{}, err
	}
	ids := make([]int64, len(ls))
	for i, l := range ls {
		ids[i] = l.UserID
	}
	cs, err := s.cardList(ctx, viewer, ids)
	if err != nil {
		return LikesPage{}, err
	}
	return LikesPage{Total: total, Users: cs}, nil
}

// Matches lists my matches, newest first unless oldestFirst.
func (s *Service) Matches(ctx context.Context, me int64, limit int, page int64, oldestFirst bool) (MatchesPage, error) {
	viewer, err := s.user(ctx, me)
	if err != nil {
		return MatchesPage{}, err
	}
	ms, total, err := s.d.Store.Matches(ctx, me, limit, offset(limit, page), oldestFirst)
	if err != nil {
		return MatchesPage{}, err
	}
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	cards, err := s.d.Profile.Cards(ctx, &viewer, ids)
	if err != nil {
		return MatchesPage{}, err
	}
	out := MatchesPage{Total: total, Matches: make([]Match, 0, len(ms))}
	for _, m := range ms {
		if c, ok := cards[m.UserID]; ok {
			out.Matches = append(out.Matches, Match{User: c, MatchedAt: m.MatchedAt.UTC()})
		}
	}
	return out, nil
}

// Unmatch removes my match with other, for both sides; the swipes stay.
func (s *Service) Unmatch(ctx context.Context, me, other int64) error {
	if me == other {
		return ErrNotMatched
	}
	// A banned, deleted or blocked user is unknown (1003), also when a
	// match row stays hidden (a ban); an id nobody ever had is 2007.
	if ok, err := s.d.Store.Visible(ctx, me, other); err != nil {
		return err
	} else if !ok {
		if _, err := s.d.Store.User(ctx, other); errors.Is(err, model.ErrNotFound) {
			return ErrNotMatched
		} else if err != nil {
			return err
		}
		return fmt.Errorf("%w: %d", profile.ErrUserNotFound, other)
	}
	err := s.d.Store.Unmatch(ctx, me, other)
	if errors.Is(err, model.ErrNotFound) {
		return ErrNotMatched
	}
	if err == nil {
		s.publishUnmatch(ctx, me, other)
	}
	return err
}

// Rank returns the top limit of the hot rank: only existing users with a
// positive score. Users that no longer exist are skipped, reading further
// down the board when some were (up to 16 times limit entries).
func (s *Service) Rank(ctx context.Context, me int64, limit int) ([]RankEntry, error) {
	viewer, err := s.user(ctx, me)
	if err != nil {
		return nil, err
	}
	out := make([]RankEntry, 0, limit) // an empty rank is [], never null
	for n := limit; ; n *= 2 {
		es, err := s.d.Rank.Top(ctx, n)
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(es))
		for i, e := range es {
			ids[i] = e.UserID
		}
		cards, err := s.d.Profile.Cards(ctx, &viewer, ids)
		if err != nil {
			return nil, err
		}
		out = out[:0]
		for _, e := range es {
			c, ok := cards[e.UserID]
			if !ok || e.Score <= 0 || len(out) == limit {
				continue
			}
			out = append(out, RankEntry{Rank: len(out) + 1, Score: e.Score, User: c})
		}
		if len(out) >= limit || len(es) < n || n >= 16*limit {
			return out, nil
		}
	}
}

// Recommendations builds my deck (API.md §3 Recommendations): the users who
// superliked me first, then candidates matching both sides' preferences,
// by activity band, shuffled per viewer and local day.
func (s *Service) Recommendations(ctx context.Context, me int64, limit int) ([]profile.Card, error) {
	if s.d.Deck != nil {
		return s.deckFromIndex(ctx, me, limit)
	}
	return s.deckFromSQL(ctx, me, limit)
}

// deckFromSQL builds the deck with the SQL deck query (no index).
func (s *Service) deckFromSQL(ctx context.Context, me int64, limit int) ([]profile.Card, error) {
	now := s.now()
	viewer, err := s.user(ctx, me)
	if err != nil {
		return nil, err
	}
	prefs, err := s.d.Profile.Profile(ctx, me)
	if err != nil {
		return nil, err
	}
	sl, err := s.d.Store.Superlikers(ctx, me, limit)
	if err != nil {
		return nil, err
	}
	slUsers, err := s.d.Store.Users(ctx, sl)
	if err != nil {
		return nil, err
	}
	shown := make(map[int64]bool, len(sl))
	picked := make([]int64, 0, limit)
	for _, id := range sl {
		if _, ok := slUsers[id]; ok {
			picked = append(picked, id)
			shown[id] = true
		}
	}
	if len(picked) < limit {
		more, err := s.candidates(ctx, viewer, prefs, now, limit-len(picked), shown)
		if err != nil {
			return nil, err
		}
		for _, u := range more {
			picked = append(picked, u.ID)
		}
	}
	return s.cardList(ctx, viewer, picked)
}

// candidates pages through the deck query until need users pass the exact
// distance filter (the query bounds the distance by a box).
func (s *Service) candidates(ctx context.Context, viewer model.User, prefs profile.Profile, now time.Time, need int, skip map[int64]bool) ([]model.User, error) {
	q := DeckQuery(viewer, prefs, now, s.d.TZ)
	q.Limit = need*2 + 20
	var out []model.User
	for round := 0; round < 20 && len(out) < need; round++ {
		us, err := s.d.Store.Deck(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if skip[u.ID] || !DistanceFits(viewer, u, prefs) {
				continue
			}
			out = append(out, u)
			if len(out) == need {
				break
			}
		}
		if len(us) < q.Limit {
			break
		}
		q.Offset += q.Limit
	}
	return out, nil
}

// DistanceFits is the exact distance rule: when both have a location the
// cell distance is within the viewer's range (the city rule applies
// otherwise, in the query).
func DistanceFits(viewer, u model.User, prefs profile.Profile) bool {
	d := profile.DistanceKM(viewer, u)
	return d == nil || (*d >= prefs.MinDistance && *d <= prefs.MaxDistance)
}

// DeckQuery is the store query of viewer's candidates (without paging).
func DeckQuery(viewer model.User, prefs profile.Profile, now time.Time, tz *time.Location) store.DeckQuery {
	genders := []string{prefs.DatingGender}
	if prefs.DatingGender == "any" {
		genders = []string{"male", "female"}
	}
	cutoff := func(years int) string {
		y, m, d := bornCutoff(now, tz, years)
		return fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	}
	q := store.DeckQuery{
		Viewer: viewer.ID, ViewerGender: viewer.Gender, ViewerAge: profile.AgeOn(viewer.Birthday, now, tz),
		Genders: genders, BornUpTo: cutoff(prefs.MinDatingAge), BornAfter: cutoff(prefs.MaxDatingAge + 1),
		City: prefs.DatingCity, Active1: now.Add(-24 * time.Hour), Active7: now.Add(-7 * 24 * time.Hour),
		Shuffle: shuffle(viewer.ID, Day(now, tz)),
	}
	if viewer.CellLat != nil && viewer.CellLng != nil {
		q.Box = boxAround(*viewer.CellLat, *viewer.CellLng, prefs.MaxDistance)
	}
	return q
}

// shuffle derives the per-viewer, per-day parameters of the in-band order
// of the SQL deck from deckSeed.
func shuffle(viewer int64, day string) [4]int64 {
	h := deckSeed(viewer, day)
	u := func(i int) uint64 { return binary.BigEndian.Uint64(h[i*8:]) }
	const p, q = 1000000007, 998244353
	return [4]int64{1 + int64(u(0)%(p-1)), int64(u(1) % p), 1 + int64(u(2)%(q-1)), int64(u(3) % q)}
}

// boxAround bounds, in cells, every cell whose distance (as CellDistanceKM
// rounds it) can be at most maxKM from (lat, lng).
func boxAround(lat, lng int32, maxKM int) *store.CellBox {
	const r = 6371.0
	d := float64(maxKM) + 0.5 // rounding: a distance shown as maxKM is < maxKM+0.5
	dLat := int32(math.Ceil(d/r*180/math.Pi*100)) + 1
	b := &store.CellBox{MinLat: max(lat-dLat, -9000), MaxLat: min(lat+dLat, 9000)}
	far := math.Max(math.Abs(float64(b.MinLat)), math.Abs(float64(b.MaxLat))) / 100 * math.Pi / 180
	x := math.Sin(d/(2*r)) / math.Cos(far)
	if math.Cos(far) <= 1e-9 || x >= 1 {
		b.AllLng = true
		return b
	}
	dLng := int32(math.Ceil(2*math.Asin(x)*180/math.Pi*100)) + 1
	if lng-dLng < -18000 || lng+dLng > 18000 {
		b.AllLng = true
		return b
	}
	b.MinLng, b.MaxLng = lng-dLng, lng+dLng
	return b
}

// RankTop reads the top of the rank from the scores table (rank.Table).
func RankTop(st *store.Store) rank.TopFunc {
	return func(ctx context.Context, n int) ([]rank.Entry, error) {
		sc, err := st.TopScores(ctx, n)
		return entries(sc), err
	}
}

// RankScores reads the scores of some users that rank (rank.Redis reads
// them after a change).
func RankScores(st *store.Store) rank.ScoresFunc {
	return func(ctx context.Context, ids []int64) ([]rank.Entry, error) {
		sc, err := st.RankedScores(ctx, ids)
		return entries(sc), err
	}
}

func entries(sc []model.Score) []rank.Entry {
	es := make([]rank.Entry, len(sc))
	for i, s := range sc {
		es[i] = rank.Entry{UserID: s.UserID, Score: s.Score}
	}
	return es
}
