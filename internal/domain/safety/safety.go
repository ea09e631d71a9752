// Package safety is the safety and account module (API.md §3 "Safety and
// the account"): blocks, reports, the operators' moderation (reports
// review, bans), account deletion and the export of one's data.
//
// Who is "unknown to me" is decided in one place, store.Visible (and its
// SQL form in every list query): a user that does not exist, is banned or
// deleted, or with whom there is a block either way. This package decides
// what blocking, reporting, banning and deleting change, and tells the
// deck state, the hot rank, the caches, the sessions and the event streams.
package safety

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Errors of the service; the HTTP layer maps them to API codes.
var (
	ErrSelf = errors.New("safety: you cannot block or report yourself") // 2001
	// ErrUnknownPhone: no user is registered with the phone (CLI).
	ErrUnknownPhone = errors.New("safety: no user is registered with this phone")
	// ErrNoReport: there is no report with this id (CLI).
	ErrNoReport = errors.New("safety: no such report")
	// ErrResolved: the report and the others of its user are resolved already (CLI).
	ErrResolved = errors.New("safety: the report is resolved already")
)

// QuotaError refuses a report over the daily limit (2009); RetryAfter runs
// until the next local midnight.
type QuotaError struct{ RetryAfter time.Duration }

func (e *QuotaError) Error() string { return "safety: too many reports today" }

// Rules of API.md §3.
const (
	MaxNoteChars      = 500 // a report's note, in Unicode characters
	MaxBanReasonChars = 200 // what an operator writes about a ban
	ReportsPerDay     = 20  // reports per reporter and local day
	DefaultHideAt     = 3   // SWIPER_REPORT_HIDE_THRESHOLD
	PurgeBatch        = 1000
	TombstoneDelay    = 10 * time.Minute // how long a deleted account's tombstone row stays (every deck index sees it go)
)

// Reasons are the report reasons, in the API's order.
var Reasons = []string{"fake_profile", "inappropriate_content", "harassment", "scam", "underage", "other"}

// ValidReason reports whether r is one of Reasons.
func ValidReason(r string) bool {
	for _, x := range Reasons {
		if x == r {
			return true
		}
	}
	return false
}

// CheckReport validates a report's reason and note (1001 when invalid).
func CheckReport(reason, note string) error {
	var errs input.Errors
	if !ValidReason(reason) {
		errs.Invalid("reason", "must be one of fake_profile, inappropriate_content, harassment, scam, underage, other")
	}
	if utf8.RuneCountInString(note) > MaxNoteChars {
		errs.Invalid("note", fmt.Sprintf("must be at most %d characters", MaxNoteChars))
	}
	return errs.Err("invalid report")
}

// Store is the database as this module needs it (store.Store).
type Store interface {
	Block(ctx context.Context, blocker, blocked int64, at time.Time) (model.BlockOutcome, error)
	Unblock(ctx context.Context, blocker, blocked int64) error
	Blocked(ctx context.Context, blocker int64, limit, offset int) ([]model.BlockedUser, int, error)
	Report(ctx context.Context, r model.ReportReq) (int64, model.BlockOutcome, error)
	Reports(ctx context.Context, status string) ([]model.ReportLine, error)
	ResolveReports(ctx context.Context, id int64, action, note string, at time.Time) (int64, int, error)
	SetBanned(ctx context.Context, id int64, banned *time.Time, reason string) error
	UserByPhone(ctx context.Context, e164 string) (model.User, error)
	MatchPartners(ctx context.Context, id int64) ([]int64, error)
	MarkDeleted(ctx context.Context, id int64, at time.Time) (model.Deleted, error)
	PurgeUser(ctx context.Context, id int64, batch int) (int, error)
	DeleteUserMessages(ctx context.Context, id int64, batch int) (int, error)
	DeletedBefore(ctx context.Context, t time.Time, limit int) ([]int64, error)
	RemoveTombstone(ctx context.Context, id int64) error
	ExportOf(ctx context.Context, id int64) (model.Export, error)
}

// Sessions revokes every session of a user at once (auth.Service).
type Sessions interface {
	RevokeAll(ctx context.Context, uid int64) error
}

// DeckState is what decks cache per viewer (deckstate.Store).
type DeckState interface {
	Swiped(ctx context.Context, sw []model.DeckSwipe) error
	Rewound(ctx context.Context, sw model.DeckSwipe) error
	Changed(ctx context.Context) error
}

// Rank is the hot rank's board (rank.Board).
type Rank interface {
	Changed(ctx context.Context, ids []int64) error
	Remove(ctx context.Context, userID int64) error
}

// Publisher publishes events (events.Service).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Outgoing) error
}

// Media removes stored image files: local ones at once, remote ones by a
// task with retries (profile.Service).
type Media interface {
	DeleteMedia(ctx context.Context, keys []string)
}

// Accounts reads the owner's account and preferences (profile.Service).
type Accounts interface {
	Me(ctx context.Context, id int64) (profile.Me, error)
	Profile(ctx context.Context, id int64) (profile.Profile, error)
}

// Deps are the collaborators of Service. Only Store and Clock are
// required; the others are told when present (an operator command has no
// event streams, for one).
type Deps struct {
	Store     Store
	Sessions  Sessions
	DeckState DeckState
	Rank      Rank
	Events    Publisher
	Media     Media
	Accounts  Accounts
	Caches    Caches  // the cached copies of users
	Streams   Streams // the users' event streams
	Clock     clock.Clock
	TZ        *time.Location
	HideAt    int // SWIPER_REPORT_HIDE_THRESHOLD; 0 = DefaultHideAt
	Log       *slog.Logger
}

// Caches drops the cached copies of a user (the profile caches).
type Caches interface {
	InvalidateUserCache(ctx context.Context, id int64) error
}

// Streams drops a deleted user's event stream (events.Service).
type Streams interface {
	Forget(ctx context.Context, user int64) error
}

// Service is the safety module.
type Service struct{ d Deps }

// New returns a Service.
func New(d Deps) *Service {
	if d.HideAt <= 0 {
		d.HideAt = DefaultHideAt
	}
	if d.TZ == nil {
		d.TZ = time.UTC
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}
}

func (s *Service) now() time.Time { return s.d.Clock.Now().UTC().Truncate(time.Microsecond) }

// notFound turns the store's ErrNotFound into the API's unknown user.
func notFound(err error, id int64) error {
	if errors.Is(err, model.ErrNotFound) {
		return fmt.Errorf("%w: %d", profile.ErrUserNotFound, id)
	}
	return err
}

// Block blocks other for me (API.md §3): both become unknown to each other
// at once, their match and conversation are removed.
func (s *Service) Block(ctx context.Context, me, other int64) error {
	if me == other {
		return ErrSelf
	}
	out, err := s.d.Store.Block(ctx, me, other, s.now())
	if err != nil {
		return notFound(err, other)
	}
	s.blocked(ctx, me, other, out)
	return nil
}

// blocked tells the deck state and the event streams about a committed block.
func (s *Service) blocked(ctx context.Context, me, other int64, out model.BlockOutcome) {
	ctx = context.WithoutCancel(ctx)
	if s.d.DeckState != nil {
		// For decks a block is a swipe both ways: each leaves the other's deck.
		now := s.now()
		if err := s.d.DeckState.Swiped(ctx, []model.DeckSwipe{{Swiper: me, Swiped: other, At: now}, {Swiper: other, Swiped: me, At: now}}); err != nil {
			s.d.Log.ErrorContext(ctx, "deck state not told about a block; it retries", "err", err)
		}
		if out.Hidden {
			s.deckChanged(ctx)
		}
	}
	if out.Unmatched {
		s.publishUnmatch(ctx, me, other)
	}
}

func (s *Service) deckChanged(ctx context.Context) {
	if s.d.DeckState == nil {
		return
	}
	if err := s.d.DeckState.Changed(context.WithoutCancel(ctx)); err != nil {
		s.d.Log.ErrorContext(ctx, "deck change not reported; replicas catch up within their poll", "err", err)
	}
}

// publishUnmatch sends `unmatch` to both users of an ended match.
func (s *Service) publishUnmatch(ctx context.Context, a, b int64) {
	if s.d.Events == nil {
		return
	}
	type unmatch struct {
		UserID int64 `json:"user_id"`
	}
	if err := s.d.Events.Publish(context.WithoutCancel(ctx),
		events.Outgoing{To: a, Type: events.TypeUnmatch, Data: unmatch{UserID: b}},
		events.Outgoing{To: b, Type: events.TypeUnmatch, Data: unmatch{UserID: a}}); err != nil {
		s.d.Log.ErrorContext(ctx, "unmatch events not published", "user_a", a, "user_b", b, "err", err)
	}
}

// Unblock lifts me's block of other (1003 when there is none). Swipes made
// before the block stay, so nothing else comes back.
func (s *Service) Unblock(ctx context.Context, me, other int64) error {
	if err := s.d.Store.Unblock(ctx, me, other); err != nil {
		return notFound(err, other)
	}
	if s.d.DeckState != nil {
		// Dropping both cached states makes the next decks read them again
		// (a rewind does the same for its swiper).
		for _, sw := range []model.DeckSwipe{{Swiper: me, Swiped: other}, {Swiper: other, Swiped: me}} {
			if err := s.d.DeckState.Rewound(context.WithoutCancel(ctx), sw); err != nil {
				s.d.Log.ErrorContext(ctx, "deck state not told about an unblock; it retries", "err", err)
			}
		}
	}
	return nil
}

// BlockedUser is a line of the blocked list.
type BlockedUser struct {
	ID        int64     `json:"id"`
	Nickname  string    `json:"nickname"`
	Avatar    string    `json:"avatar"`
	BlockedAt time.Time `json:"blocked_at"`
}

// BlockedPage is one page of the blocked list.
type BlockedPage struct {
	Total int           `json:"total"`
	Users []BlockedUser `json:"users"`
}

// Blocked lists the users me blocked, newest first.
func (s *Service) Blocked(ctx context.Context, me int64, limit int, page int64) (BlockedPage, error) {
	off := int64(limit) * (max(page, 1) - 1)
	if page-1 > int64(1<<31)/int64(limit) {
		off = 1 << 31
	}
	us, total, err := s.d.Store.Blocked(ctx, me, limit, int(off))
	if err != nil {
		return BlockedPage{}, err
	}
	out := BlockedPage{Total: total, Users: make([]BlockedUser, len(us))}
	for i, u := range us {
		out.Users[i] = BlockedUser{ID: u.ID, Nickname: u.Nickname, Avatar: u.Avatar, BlockedAt: u.BlockedAt.UTC()}
	}
	return out, nil
}

// Day is the local calendar day (YYYY-MM-DD) of t in tz.
func Day(t time.Time, tz *time.Location) string { return t.In(tz).Format("2006-01-02") }

// UntilMidnight is the time from now to the next local midnight in tz.
func UntilMidnight(now time.Time, tz *time.Location) time.Duration {
	l := now.In(tz)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, tz).Sub(now)
}

// Report records me's report of other (reason and note checked by
// CheckReport first), which also blocks other; it returns the report's id.
func (s *Service) Report(ctx context.Context, me, other int64, reason, note string) (int64, error) {
	if me == other {
		return 0, ErrSelf
	}
	if err := CheckReport(reason, note); err != nil {
		return 0, err
	}
	now := s.now()
	id, out, err := s.d.Store.Report(ctx, model.ReportReq{
		Report: model.Report{ReporterID: me, ReportedID: other, Reason: reason, Note: note, CreatedAt: now},
		Day:    Day(now, s.d.TZ), MaxPerDay: ReportsPerDay, HideAt: s.d.HideAt,
	})
	switch {
	case errors.Is(err, model.ErrFull):
		return 0, &QuotaError{RetryAfter: UntilMidnight(now, s.d.TZ)}
	case err != nil:
		return 0, notFound(err, other)
	}
	s.blocked(ctx, me, other, out)
	return id, nil
}

// ResolveAction is what a moderator decides about a reported user.
const (
	ActionDismiss = "dismiss"
	ActionBan     = "ban"
)

// Case is the reports against one user with one status, as moderators
// list them.
type Case struct {
	ID         int64 // the first report's id (what `reports resolve --id` takes)
	UserID     int64
	Phone      string // E.164
	Reasons    []string
	Reporters  int
	Reports    int
	First      time.Time
	Last       time.Time
	Open       bool
	Resolution string // dismiss | ban, when resolved
}

// Cases groups reports by reported user and status (open, resolved), in
// the order of their first report. Pure: the moderation listing.
func Cases(lines []model.ReportLine) []Case {
	type key struct {
		user int64
		open bool
	}
	var out []Case
	at := map[key]int{}
	reporters := map[key]map[int64]bool{}
	for _, l := range lines {
		k := key{l.ReportedID, l.ResolvedAt == nil}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			reporters[k] = map[int64]bool{}
			out = append(out, Case{ID: l.ID, UserID: l.ReportedID, Phone: l.Phone, First: l.CreatedAt.UTC(), Last: l.CreatedAt.UTC(), Open: k.open})
		}
		c := &out[i]
		c.Reports++
		if !reporters[k][l.ReporterID] {
			reporters[k][l.ReporterID] = true
			c.Reporters++
		}
		known := false
		for _, r := range c.Reasons {
			known = known || r == l.Reason
		}
		if !known {
			c.Reasons = append(c.Reasons, l.Reason)
		}
		if t := l.CreatedAt.UTC(); t.Before(c.First) {
			c.First = t
		} else if t.After(c.Last) {
			c.Last = t
		}
		if l.ID < c.ID {
			c.ID = l.ID
		}
		if l.Resolution != "" {
			c.Resolution = l.Resolution
		}
	}
	return out
}

// ReportCases lists the cases whose status is "open", "resolved" or "all".
func (s *Service) ReportCases(ctx context.Context, status string) ([]Case, error) {
	switch status {
	case "open", "resolved", "all":
	default:
		return nil, fmt.Errorf("safety: status must be open, resolved or all, not %q", status)
	}
	lines, err := s.d.Store.Reports(ctx, status)
	if err != nil {
		return nil, err
	}
	return Cases(lines), nil
}

// Resolve resolves report id and every other open report of its user:
// dismiss lets the user back into decks, ban bans them. It returns the
// reported user's id and how many reports it resolved.
func (s *Service) Resolve(ctx context.Context, id int64, action, note string) (int64, int, error) {
	if action != ActionDismiss && action != ActionBan {
		return 0, 0, fmt.Errorf("safety: action must be dismiss or ban, not %q", action)
	}
	if utf8.RuneCountInString(note) > MaxNoteChars {
		return 0, 0, fmt.Errorf("safety: the note is over %d characters", MaxNoteChars)
	}
	user, n, err := s.d.Store.ResolveReports(ctx, id, action, note, s.now())
	switch {
	case errors.Is(err, model.ErrNotFound):
		return 0, 0, fmt.Errorf("%w: %d", ErrNoReport, id)
	case errors.Is(err, model.ErrConflict):
		return 0, 0, fmt.Errorf("%w: %d", ErrResolved, id)
	case err != nil:
		return 0, 0, err
	}
	if action == ActionBan {
		reason := "reports"
		if note != "" {
			reason += ": " + note
		}
		if r := []rune(reason); len(r) > MaxBanReasonChars {
			reason = string(r[:MaxBanReasonChars])
		}
		if err := s.Ban(ctx, user, reason); err != nil && !errors.Is(err, profile.ErrUserNotFound) {
			return user, n, err
		}
		return user, n, nil
	}
	s.changed(ctx, user) // back in decks
	return user, n, nil
}

// changed drops the cached copies of a user whose row changed and tells
// the deck index of every replica.
func (s *Service) changed(ctx context.Context, id int64) {
	ctx = context.WithoutCancel(ctx)
	if s.d.Caches != nil {
		if err := s.d.Caches.InvalidateUserCache(ctx, id); err != nil {
			s.d.Log.ErrorContext(ctx, "cache invalidation failed", "user_id", id, "err", err)
		}
	}
	s.deckChanged(ctx)
}

// userOf returns the id of the user registered with e164.
func (s *Service) userOf(ctx context.Context, e164 string) (int64, error) {
	u, err := s.d.Store.UserByPhone(ctx, e164)
	if errors.Is(err, model.ErrNotFound) {
		return 0, ErrUnknownPhone
	}
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

// BanPhone bans the user registered with e164 (ErrUnknownPhone if none)
// and returns their id.
func (s *Service) BanPhone(ctx context.Context, e164, reason string) (int64, error) {
	id, err := s.userOf(ctx, e164)
	if err != nil {
		return 0, err
	}
	return id, s.Ban(ctx, id, reason)
}

// UnbanPhone lifts the ban of the user registered with e164.
func (s *Service) UnbanPhone(ctx context.Context, e164 string) (int64, error) {
	id, err := s.userOf(ctx, e164)
	if err != nil {
		return 0, err
	}
	return id, s.Unban(ctx, id)
}

// Ban suspends user id: every session is revoked at once, code requests
// and logins answer 1013, and to everyone else the user is unknown and
// appears nowhere. Matches and messages are hidden, not deleted.
func (s *Service) Ban(ctx context.Context, id int64, reason string) error {
	if err := s.d.Store.SetBanned(ctx, id, new(s.now()), reason); err != nil {
		return notFound(err, id)
	}
	// The row is banned first: a login checks it after reading the session
	// generation, which the revocation bumps after (auth.Service.Login).
	if s.d.Sessions != nil {
		if err := s.d.Sessions.RevokeAll(ctx, id); err != nil {
			return fmt.Errorf("safety: banned, but the sessions could not be revoked: %w", err)
		}
	}
	s.changed(ctx, id)
	if s.d.Rank != nil {
		if err := s.d.Rank.Remove(context.WithoutCancel(ctx), id); err != nil {
			s.d.Log.ErrorContext(ctx, "banned user not removed from the hot rank", "user_id", id, "err", err)
		}
	}
	partners, err := s.d.Store.MatchPartners(ctx, id)
	if err != nil {
		s.d.Log.ErrorContext(ctx, "unmatch events of a ban not published", "user_id", id, "err", err)
		return nil
	}
	for _, p := range partners {
		s.publishUnmatch(ctx, id, p)
	}
	return nil
}

// Unban restores user id as it was, except the sessions the ban revoked.
func (s *Service) Unban(ctx context.Context, id int64) error {
	if err := s.d.Store.SetBanned(ctx, id, nil, ""); err != nil {
		return notFound(err, id)
	}
	s.changed(ctx, id)
	if s.d.Rank != nil {
		if err := s.d.Rank.Changed(context.WithoutCancel(ctx), []int64{id}); err != nil {
			s.d.Log.ErrorContext(ctx, "unbanned user not put back in the hot rank", "user_id", id, "err", err)
		}
	}
	return nil
}

// DeleteAccount deletes me's account at once and completely (API.md §3):
// the account is a tombstone unknown to everyone from the first commit
// on, its sessions are revoked, and everything that refers to it is then
// deleted in short batches (no long locks, whatever the history). The
// image files are removed (remote ones by a task with retries). The
// tombstone row itself goes with the purge sweep (PurgeDeleted).
func (s *Service) DeleteAccount(ctx context.Context, me int64) error {
	del, err := s.d.Store.MarkDeleted(ctx, me, s.now())
	if err != nil {
		return notFound(err, me)
	}
	ctx = context.WithoutCancel(ctx) // the account is gone: finish the job
	if s.d.Sessions != nil {
		if err := s.d.Sessions.RevokeAll(ctx, me); err != nil {
			return fmt.Errorf("safety: account deleted, but its sessions could not be revoked: %w", err)
		}
	}
	s.changed(ctx, me)
	if s.d.DeckState != nil {
		// The deleted user's own cached deck state goes (as after a rewind).
		if err := s.d.DeckState.Rewound(ctx, model.DeckSwipe{Swiper: me}); err != nil {
			s.d.Log.ErrorContext(ctx, "deck state of a deleted user not dropped", "user_id", me, "err", err)
		}
	}
	if s.d.Rank != nil {
		if err := s.d.Rank.Remove(ctx, me); err != nil {
			s.d.Log.ErrorContext(ctx, "deleted user not removed from the hot rank", "user_id", me, "err", err)
		}
	}
	if s.d.Media != nil && len(del.MediaKeys) > 0 {
		s.d.Media.DeleteMedia(ctx, del.MediaKeys)
	}
	for _, p := range del.Partners {
		s.publishUnmatch(ctx, me, p)
	}
	if err := s.purge(ctx, me); err != nil {
		return err
	}
	if s.d.Streams != nil {
		if err := s.d.Streams.Forget(ctx, me); err != nil {
			s.d.Log.ErrorContext(ctx, "event stream of a deleted user not dropped", "user_id", me, "err", err)
		}
	}
	return nil
}

// purge deletes the rows that refer to user id, in batches.
func (s *Service) purge(ctx context.Context, id int64) error {
	if _, err := s.d.Store.DeleteUserMessages(ctx, id, PurgeBatch); err != nil {
		return err
	}
	_, err := s.d.Store.PurgeUser(ctx, id, PurgeBatch)
	return err
}

// PurgeDeleted finishes the deletion of accounts deleted more than
// TombstoneDelay ago (and at most limit of them): what still refers to them
// (a write that raced the deletion) is deleted, then the tombstone row.
// It returns how many it finished.
func (s *Service) PurgeDeleted(ctx context.Context, olderThan time.Duration, limit int) (int, error) {
	ids, err := s.d.Store.DeletedBefore(ctx, s.now().Add(-olderThan), limit)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.purge(ctx, id); err != nil {
			return i, err
		}
		if err := s.d.Store.RemoveTombstone(ctx, id); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// Export is everything stored about me (API.md §3): my account and
// preferences, and my own actions. It never holds another user's phone,
// birthday or coordinates: other users appear by id only.
type Export struct {
	User     profile.Me      `json:"user"`
	Profile  profile.Profile `json:"profile"`
	Swipes   []ExportSwipe   `json:"swipes"`
	Matches  []ExportMatch   `json:"matches"`
	Messages []ExportMessage `json:"messages"`
	Blocks   []ExportBlock   `json:"blocks"`
	Reports  []ExportReport  `json:"reports"`
}

// The lines of an export.
type (
	ExportSwipe struct {
		UserID int64     `json:"user_id"`
		Action string    `json:"action"`
		At     time.Time `json:"at"`
	}
	ExportMatch struct {
		UserID    int64     `json:"user_id"`
		MatchedAt time.Time `json:"matched_at"`
	}
	ExportMessage struct {
		UserID int64     `json:"user_id"` // the other user of the conversation
		From   int64     `json:"from"`
		Text   string    `json:"text"`
		SentAt time.Time `json:"sent_at"`
	}
	ExportBlock struct {
		UserID    int64     `json:"user_id"`
		BlockedAt time.Time `json:"blocked_at"`
	}
	ExportReport struct {
		UserID int64     `json:"user_id"`
		Reason string    `json:"reason"`
		Note   string    `json:"note"`
		At     time.Time `json:"at"`
	}
)

// actionName is the API name of a stored swipe action.
func actionName(a int8) string {
	switch a {
	case model.ActionLike:
		return "like"
	case model.ActionSuperlike:
		return "superlike"
	}
	return "dislike"
}

// Export returns everything stored about me.
func (s *Service) Export(ctx context.Context, me int64) (Export, error) {
	var out Export
	var err error
	if out.User, err = s.d.Accounts.Me(ctx, me); err != nil {
		return Export{}, err
	}
	if out.Profile, err = s.d.Accounts.Profile(ctx, me); err != nil {
		return Export{}, err
	}
	e, err := s.d.Store.ExportOf(ctx, me)
	if err != nil {
		return Export{}, err
	}
	return ExportOf(me, out.User, out.Profile, e), nil
}

// ExportOf builds the export of user me from the stored rows. Pure.
func ExportOf(me int64, user profile.Me, prefs profile.Profile, e model.Export) Export {
	out := Export{User: user, Profile: prefs, Swipes: make([]ExportSwipe, len(e.Swipes)), Matches: make([]ExportMatch, len(e.Matches)),
		Messages: make([]ExportMessage, len(e.Messages)), Blocks: make([]ExportBlock, len(e.Blocks)), Reports: make([]ExportReport, len(e.Reports))}
	for i, x := range e.Swipes {
		out.Swipes[i] = ExportSwipe{UserID: x.UserID, Action: actionName(x.Action), At: x.At.UTC()}
	}
	for i, x := range e.Matches {
		out.Matches[i] = ExportMatch{UserID: x.UserID, MatchedAt: x.MatchedAt.UTC()}
	}
	for i, x := range e.Messages {
		other := x.UserA
		if other == me {
			other = x.UserB
		}
		out.Messages[i] = ExportMessage{UserID: other, From: x.From, Text: x.Text, SentAt: x.SentAt.UTC()}
	}
	for i, x := range e.Blocks {
		out.Blocks[i] = ExportBlock{UserID: x.UserID, BlockedAt: x.BlockedAt.UTC()}
	}
	for i, x := range e.Reports {
		out.Reports[i] = ExportReport{UserID: x.UserID, Reason: x.Reason, Note: x.Note, At: x.At.UTC()}
	}
	return out
}
