// Package social holds the social module: swipes, rewind, matches, who
// liked me, recommendations and the hot rank (API.md §3 Social), and the
// daily quotas the VIP status reports.
package social

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
	Store          Store
	Profile        *profile.Service // builds the Cards (album visibility lives there)
	Rank           RankBoard
	Clock          clock.Clock
	TZ             *time.Location
	FreeDailyLikes int
	Log            *slog.Logger
	// Deck is the in-memory recommendation index that builds the decks
	// (deck.go; needed by Recommendations).
	Deck *deck.Index
	// DeckState caches per viewer what a deck leaves out or puts first
	// (needed with Deck; told about every committed swipe and rewind).
	DeckState DeckState
	// SwipeBatchSize bounds how many concurrent swipes share one
	// transaction (committer.go; 0: SwipeBatchSize).
	SwipeBatchSize int
	// SwipeCommitters is how many swipe committers run side by side
	// (committer.go; 0: SwipeCommitters).
	SwipeCommitters int
	// Metrics, when set, gets the swipe committer's counters.
	Metrics prometheus.Registerer
	// CachedUser reads a user through the user cache, which every VIP
	// change (grant, expiry sweep) invalidates; nil reads the database.
	CachedUser func(ctx context.Context, id int64) (model.User, error)
	// Events announces new matches and unmatches to both users' streams
	// (events.go); nil announces nothing.
	Events Publisher
}

// Service is the social module.
type Service struct {
	d      Deps
	swipes batch.Shards[SwipeRequest, recorded]      // group commit of swipes (committer.go)
	told   *batch.Committer[[]model.Swipe, struct{}] // the rank and deck state told of them
}

// New returns a Service and starts its swipe committers (Close stops
// them).
func New(d Deps) *Service {
	s := &Service{d: d}
	s.swipes, s.told = s.newCommitters(d.SwipeCommitters, d.SwipeBatchSize, d.Metrics)
	return s
}

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
	// Answered once the transaction holding the swipe committed and the
	// rank and deck state were told; the swiper's VIP level and whether
	// target exists are read in that transaction (recordSwipes).
	out, err := s.recordSwipe(ctx, SwipeRequest{Swiper: me, Swiped: target, Action: act, At: now})
	if err != nil {
		return SwipeResult{}, err
	}
	if out.Err != nil {
		return SwipeResult{}, out.Err
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
	rw, err := s.rewind(ctx, me, now)
	if err != nil {
		return RewindResult{}, err
	}
	s.rankChanged(ctx, rw.SwipedID)
	s.deckRewound(ctx, rw)
	card, err := s.card(ctx, viewer, rw.SwipedID)
	if err != nil {
		return RewindResult{}, err
	}
	return RewindResult{User: card, Action: actionName(rw.Action)}, nil
}

// rewindAttempts bounds how many times a rewind reads its facts again
// after they changed before it could apply them.
const rewindAttempts = 5

// rewind reads the facts of me's rewind, decides (rewindPlan) and has the
// store apply the undo, which checks in its transaction that the facts
// still hold (and counts the rewind by a conditional update, so parallel
// rewinds never exceed the day's limit); changed facts are read again.
func (s *Service) rewind(ctx context.Context, me int64, now time.Time) (model.Swipe, error) {
	day := Day(now, s.d.TZ)
	for range rewindAttempts {
		f, err := s.d.Store.RewindFacts(ctx, me, day)
		if err != nil {
			return model.Swipe{}, err
		}
		undo, err := rewindPlan(f, now, s.d.TZ)
		if err != nil {
			return model.Swipe{}, err
		}
		switch err := s.d.Store.ApplyRewind(ctx, undo); {
		case err == nil:
			return undo.Swipe, nil
		case errors.Is(err, model.ErrFull):
			return model.Swipe{}, rewindQuotaError(now, s.d.TZ)
		case !errors.Is(err, model.ErrStale):
			return model.Swipe{}, err
		}
	}
	return model.Swipe{}, backend.Unavailable(fmt.Errorf("social: rewind %d: the latest swipe kept changing", me))
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

// RankTop reads the top of the rank from the scores table: what the
// boards are built on (the wiring passes it to rank.NewTable, rank.NewRedis).
func RankTop(st Scores) func(ctx context.Context, n int) ([]model.RankEntry, error) {
	return func(ctx context.Context, n int) ([]model.RankEntry, error) {
		sc, err := st.TopScores(ctx, n)
		return entries(sc), err
	}
}

// RankScores reads the scores of some users that rank (rank.Redis reads
// them after a change).
func RankScores(st Scores) func(ctx context.Context, ids []int64) ([]model.RankEntry, error) {
	return func(ctx context.Context, ids []int64) ([]model.RankEntry, error) {
		sc, err := st.RankedScores(ctx, ids)
		return entries(sc), err
	}
}

func entries(sc []model.Score) []model.RankEntry {
	es := make([]model.RankEntry, len(sc))
	for i, s := range sc {
		es[i] = model.RankEntry{UserID: s.UserID, Score: s.Score}
	}
	return es
}
