package apptest_test

// Black-box tests of API.md §3 "Safety and the account" (blocks, reports,
// moderation, bans, account deletion, export), on both paths. Every name
// starts with sf.

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// sfWoman registers a woman looking for men (in a new man's deck).
func sfWoman(t testing.TB, e *apptest.Env) soUser {
	t.Helper()
	u := soNewUser(t, e)
	soPatch(t, e, u, "/api/v1/users/me", map[string]any{"gender": "female", "birthday": "1995-03-04"})
	soPatch(t, e, u, "/api/v1/users/me/profile", map[string]any{"dating_gender": "male"})
	return u
}

func sfBlock(e *apptest.Env, u soUser, id any) *apptest.Response {
	return e.Do(apptest.Request{Method: "POST", Path: "/api/v1/blocks", Token: u.Token, JSON: map[string]any{"user_id": id}})
}

func sfReport(e *apptest.Env, u soUser, body map[string]any) *apptest.Response {
	return e.Do(apptest.Request{Method: "POST", Path: "/api/v1/reports", Token: u.Token, JSON: body})
}

func sfMatch(t testing.TB, e *apptest.Env, a, b soUser) {
	t.Helper()
	soExpect(t, soSwipe(e, a, b.ID, "like"), 200, 0)
	r := soSwipe(e, b, a.ID, "like")
	soExpect(t, r, 200, 0)
	var res struct {
		Matched bool `json:"matched"`
	}
	r.Decode(t, &res)
	if !res.Matched {
		t.Fatalf("%d and %d did not match", a.ID, b.ID)
	}
}

func sfMatchIDs(t testing.TB, e *apptest.Env, u soUser) []int64 {
	t.Helper()
	total, ms := soMatches(t, e, u, "?limit=100")
	ids := make([]int64, len(ms))
	for i, m := range ms {
		ids[i] = m.User.ID
	}
	if total != len(ids) {
		t.Fatalf("matches of %d: total %d but %d listed", u.ID, total, len(ids))
	}
	return ids
}

func sfInDeck(t testing.TB, e *apptest.Env, u soUser, id int64) bool {
	t.Helper()
	return slices.Contains(soIDs(soDeck(t, e, u, 50)), id)
}

func sfRankIDs(t testing.TB, e *apptest.Env, u soUser) []int64 {
	t.Helper()
	r := soGet(e, u, "/api/v1/rank?limit=100")
	soExpect(t, r, 200, 0)
	var es []struct {
		User soCard `json:"user"`
	}
	r.Decode(t, &es)
	ids := make([]int64, len(es))
	for i, x := range es {
		ids[i] = x.User.ID
	}
	return ids
}

func sfLikerIDs(t testing.TB, e *apptest.Env, u soUser) (int, []int64) {
	t.Helper()
	r := soGet(e, u, "/api/v1/likes/received?limit=100")
	soExpect(t, r, 200, 0)
	var p struct {
		Total int      `json:"total"`
		Users []soCard `json:"users"`
	}
	r.Decode(t, &p)
	return p.Total, soIDs(p.Users)
}

// sfUnknown checks that other is unknown to u on the routes that take an
// id (API.md §3: 1003).
func sfUnknown(t testing.TB, e *apptest.Env, u soUser, other int64) {
	t.Helper()
	id := strconv.FormatInt(other, 10)
	soExpect(t, soGet(e, u, "/api/v1/users/"+id), 404, 1003)
	soExpect(t, soSwipe(e, u, other, "dislike"), 404, 1003)
	soExpect(t, soDelete(e, u, "/api/v1/matches/"+id), 404, 1003)
	if slices.Contains(sfMatchIDs(t, e, u), other) {
		t.Fatalf("%d still in the matches of %d", other, u.ID)
	}
	if sfInDeck(t, e, u, other) {
		t.Fatalf("%d still in the deck of %d", other, u.ID)
	}
	if slices.Contains(sfRankIDs(t, e, u), other) {
		t.Fatalf("%d still in the rank view of %d", other, u.ID)
	}
}

// sfInvariants checks what must hold whatever happened: no row refers to a
// deleted user (absent, or a tombstone); no blocked pair is matched; and
// nobody banned or deleted is in the deck of any of viewers.
func sfInvariants(t testing.TB, e *apptest.Env, viewers ...soUser) {
	t.Helper()
	gone := "(SELECT id FROM users WHERE deleted_at IS NULL)"
	for _, c := range []struct{ table, col string }{
		{"swipes", "swiper_id"}, {"swipes", "swiped_id"}, {"matches", "user_a"}, {"matches", "user_b"},
		{"like_pairs", "user_a"}, {"like_pairs", "user_b"}, {"blocks", "blocker_id"}, {"blocks", "blocked_id"},
		{"reports", "reporter_id"}, {"reports", "reported_id"}, {"daily_quotas", "user_id"}, {"photos", "user_id"},
		{"profiles", "user_id"}, {"scores", "user_id"}, {"messages", "user_a"}, {"messages", "user_b"},
	} {
		if n := soCount(t, e, "SELECT COUNT(*) FROM "+c.table+" WHERE "+c.col+" NOT IN "+gone); n > 0 {
			t.Errorf("%d rows of %s.%s refer to a deleted user", n, c.table, c.col)
		}
	}
	if n := soCount(t, e, "SELECT COUNT(*) FROM matches AS m WHERE EXISTS (SELECT 1 FROM blocks AS b WHERE "+
		"(b.blocker_id = m.user_a AND b.blocked_id = m.user_b) OR (b.blocker_id = m.user_b AND b.blocked_id = m.user_a))"); n > 0 {
		t.Errorf("%d blocked pairs are matched", n)
	}
	var banned []int64
	if err := e.DB().NewRaw("SELECT id FROM users WHERE banned_at IS NOT NULL OR deleted_at IS NOT NULL").Scan(context.Background(), &banned); err != nil {
		t.Fatal(err)
	}
	for _, v := range viewers {
		for _, id := range soIDs(soDeck(t, e, v, 50)) {
			if slices.Contains(banned, id) {
				t.Errorf("banned or deleted user %d in the deck of %d", id, v.ID)
			}
		}
	}
}

func TestSafetyBlocks(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range strings.Split(e.Logs.String(), "\n") {
				if strings.Contains(l, "ERROR") || strings.Contains(l, "WARN") {
					t.Log(l)
				}
			}
		}
	})
	ctMorning(e)
	me := soNewUser(t, e)
	her := sfWoman(t, e)
	other := sfWoman(t, e)
	liker := sfWoman(t, e)
	soVIP(t, e, me, 3)

	// Input first (API.md §1 order): 1000, 1001, 2001, then 1003.
	soExpect(t, e.Do(apptest.Request{Method: "POST", Path: "/api/v1/blocks", Token: me.Token, JSON: map[string]any{}}), 400, 1000)
	soExpect(t, sfBlock(e, me, "7"), 400, 1001)
	soExpect(t, sfBlock(e, me, 0), 400, 1001)
	soExpect(t, sfBlock(e, me, me.ID), 400, 2001)
	soExpect(t, sfBlock(e, me, 99999999), 404, 1003)
	soExpect(t, soDelete(e, me, "/api/v1/blocks/abc"), 400, 1001)
	soExpect(t, soGet(e, me, "/api/v1/blocks?limit=0"), 400, 1001)
	soExpect(t, soGet(e, me, "/api/v1/blocks?page=0"), 400, 1001)
	soExpect(t, e.Do(apptest.Request{Method: "POST", Path: "/api/v1/blocks", JSON: map[string]any{"user_id": her.ID}}), 401, 1010)

	// Before: matched, in each other's lists, decks and rank.
	sfMatch(t, e, me, her)
	soExpect(t, soSwipe(e, liker, me.ID, "like"), 200, 0)
	if _, ids := sfLikerIDs(t, e, me); !slices.Contains(ids, liker.ID) {
		t.Fatalf("likes of %d miss %d before the block: %v", me.ID, liker.ID, ids)
	}
	if !sfInDeck(t, e, me, other.ID) || !slices.Contains(sfRankIDs(t, e, other), her.ID) {
		t.Fatal("the users are not in the deck and rank before any block")
	}
	if !slices.Contains(sfMatchIDs(t, e, her), me.ID) {
		t.Fatal("no match before the block")
	}

	// The block: both ways, at once; twice is fine.
	soExpect(t, sfBlock(e, me, her.ID), 200, 0)
	soExpect(t, sfBlock(e, me, her.ID), 200, 0)
	sfUnknown(t, e, me, her.ID)
	sfUnknown(t, e, her, me.ID)
	// She may still block and report him; he may not unblock what he did not block.
	soExpect(t, soDelete(e, her, "/api/v1/blocks/"+strconv.FormatInt(me.ID, 10)), 404, 1003)
	soExpect(t, sfBlock(e, her, me.ID), 200, 0)

	// The list: newest first, only what I blocked.
	soExpect(t, sfBlock(e, me, liker.ID), 200, 0)
	r := soGet(e, me, "/api/v1/blocks")
	soExpect(t, r, 200, 0)
	var page struct {
		Total int `json:"total"`
		Users []struct {
			ID        int64     `json:"id"`
			Nickname  string    `json:"nickname"`
			Avatar    string    `json:"avatar"`
			BlockedAt time.Time `json:"blocked_at"`
		} `json:"users"`
	}
	r.Decode(t, &page)
	if page.Total != 2 || len(page.Users) != 2 || page.Users[0].ID != liker.ID || page.Users[1].ID != her.ID || page.Users[0].Nickname == "" {
		t.Fatalf("blocked list %s", r.Data)
	}
	if keys := ctKeys(t, mustFirst(t, r.Data)); !slices.Equal(keys, []string{"avatar", "blocked_at", "id", "nickname"}) {
		t.Fatalf("blocked user keys %v", keys)
	}
	r = soGet(e, me, "/api/v1/blocks?limit=1&page=2")
	soExpect(t, r, 200, 0)
	r.Decode(t, &page)
	if page.Total != 2 || len(page.Users) != 1 || page.Users[0].ID != her.ID {
		t.Fatalf("second page %s", r.Data)
	}
	// A blocked liker leaves who-liked-me (total too).
	if total, ids := sfLikerIDs(t, e, me); total != 0 || len(ids) != 0 {
		t.Fatalf("likes of %d after blocking the liker: %d %v", me.ID, total, ids)
	}

	// Unblocking: mine goes, hers stays (still unknown); then hers goes too.
	soExpect(t, soDelete(e, me, "/api/v1/blocks/"+strconv.FormatInt(her.ID, 10)), 200, 0)
	soExpect(t, soDelete(e, me, "/api/v1/blocks/"+strconv.FormatInt(her.ID, 10)), 404, 1003)
	soExpect(t, soGet(e, me, "/api/v1/users/"+strconv.FormatInt(her.ID, 10)), 404, 1003)
	soExpect(t, soDelete(e, her, "/api/v1/blocks/"+strconv.FormatInt(me.ID, 10)), 200, 0)
	soExpect(t, soGet(e, me, "/api/v1/users/"+strconv.FormatInt(her.ID, 10)), 200, 0)
	// Nothing comes back: the match is gone, the swipes stay (not in my deck).
	if slices.Contains(sfMatchIDs(t, e, me), her.ID) || sfInDeck(t, e, me, her.ID) {
		t.Fatal("unblocking brought the match or the deck back")
	}
	soExpect(t, soSwipe(e, me, her.ID, "like"), 409, 2002)
	sfInvariants(t, e, me, her, other)
}

// mustFirst returns the first of the page's users.
func mustFirst(t testing.TB, data json.RawMessage) json.RawMessage {
	t.Helper()
	var p struct {
		Users []json.RawMessage `json:"users"`
	}
	if err := json.Unmarshal(data, &p); err != nil || len(p.Users) == 0 {
		t.Fatalf("no users in %s", data)
	}
	return p.Users[0]
}

// A block taken between two users who never swiped: each leaves the
// other's deck (index and deck state), and comes back when unblocked.
func TestSafetyBlockLeavesDecks(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	me := soNewUser(t, e)
	her := sfWoman(t, e)
	if !sfInDeck(t, e, me, her.ID) {
		t.Fatal("she is not in my deck before the block")
	}
	soExpect(t, sfBlock(e, her, me.ID), 200, 0) // she blocks me: she leaves my deck too
	if sfInDeck(t, e, me, her.ID) {
		t.Fatal("she is still in my deck after blocking me")
	}
	soExpect(t, soDelete(e, her, "/api/v1/blocks/"+strconv.FormatInt(me.ID, 10)), 200, 0)
	if !sfInDeck(t, e, me, her.ID) {
		t.Fatal("she is not back in my deck after unblocking (we never swiped)")
	}
	// A superliker blocked by the viewer is not put first either.
	soVIP(t, e, her, 1)
	soExpect(t, soSwipe(e, her, me.ID, "superlike"), 200, 0)
	if d := soDeck(t, e, me, 50); len(d) == 0 || d[0].ID != her.ID {
		t.Fatalf("the superliker is not first: %v", soIDs(d))
	}
	soExpect(t, sfBlock(e, me, her.ID), 200, 0)
	if sfInDeck(t, e, me, her.ID) {
		t.Fatal("a blocked superliker is still in the deck")
	}
}

func TestSafetyReports(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctMorning(e)
	me := soNewUser(t, e)
	her := sfWoman(t, e)
	rep := func(u soUser, id int64, reason string, note any) *apptest.Response {
		body := map[string]any{"user_id": id, "reason": reason}
		if note != nil {
			body["note"] = note
		}
		return sfReport(e, u, body)
	}
	soExpect(t, sfReport(e, me, map[string]any{"user_id": her.ID}), 400, 1000)
	soExpect(t, sfReport(e, me, map[string]any{"reason": "scam"}), 400, 1000)
	soExpect(t, rep(me, her.ID, "rude", nil), 400, 1001)
	soExpect(t, rep(me, her.ID, "scam", 5), 400, 1001)
	soExpect(t, rep(me, her.ID, "scam", strings.Repeat("长", 501)), 400, 1001)
	soExpect(t, rep(me, me.ID, "scam", nil), 400, 2001)
	soExpect(t, rep(me, 99999999, "scam", nil), 404, 1003)

	sfMatch(t, e, me, her)
	r := rep(me, her.ID, "harassment", strings.Repeat("长", 500))
	soExpect(t, r, 200, 0)
	var first struct {
		ID int64 `json:"id"`
	}
	r.Decode(t, &first)
	// Reporting also blocks; a second report of the same user is accepted.
	sfUnknown(t, e, me, her.ID)
	sfUnknown(t, e, her, me.ID)
	r = rep(me, her.ID, "scam", nil)
	soExpect(t, r, 200, 0)
	var second struct {
		ID int64 `json:"id"`
	}
	r.Decode(t, &second)
	if first.ID < 1 || second.ID == first.ID {
		t.Fatalf("report ids %d, %d", first.ID, second.ID)
	}
	// She may report me back although we are blocked.
	soExpect(t, rep(her, me.ID, "other", nil), 200, 0)

	// 20 per reporter and local day (2 used): the 21st is 2009 until midnight.
	var targets []soUser
	for range 19 {
		targets = append(targets, sfWoman(t, e))
	}
	for _, u := range targets[:18] {
		soExpect(t, rep(me, u.ID, "fake_profile", nil), 200, 0)
	}
	r = rep(me, targets[18].ID, "fake_profile", nil)
	soExpect(t, r, 429, 2009)
	if got := r.Header.Get("Retry-After"); got != strconv.Itoa(soSecondsToMidnight(e)) {
		t.Fatalf("Retry-After %q, want %d (next local midnight)", got, soSecondsToMidnight(e))
	}
	// A refused report blocked nobody: she is still in my deck.
	if !sfInDeck(t, e, me, targets[18].ID) {
		t.Fatal("a refused report blocked the user")
	}
	soMorning(e)
	soExpect(t, rep(me, targets[18].ID, "fake_profile", nil), 200, 0)
	sfInvariants(t, e, me, her)
}

// Open reports from SWIPER_REPORT_HIDE_THRESHOLD different users keep the
// reported user out of every deck (superlikes included) until a moderator
// resolves them; dismissing brings them back.
func TestSafetyReportsHide(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	viewer := soNewUser(t, e)
	her := sfWoman(t, e)
	soVIP(t, e, her, 1)
	soExpect(t, soSwipe(e, her, viewer.ID, "superlike"), 200, 0)
	if d := soDeck(t, e, viewer, 50); len(d) == 0 || d[0].ID != her.ID {
		t.Fatalf("the superliker is not first: %v", soIDs(d))
	}
	var reporters []soUser
	for range 3 {
		reporters = append(reporters, soNewUser(t, e))
	}
	// Two reporters (one of them twice): not hidden yet.
	soExpect(t, sfReport(e, reporters[0], map[string]any{"user_id": her.ID, "reason": "scam"}), 200, 0)
	soExpect(t, sfReport(e, reporters[0], map[string]any{"user_id": her.ID, "reason": "fake_profile"}), 200, 0)
	soExpect(t, sfReport(e, reporters[1], map[string]any{"user_id": her.ID, "reason": "scam"}), 200, 0)
	if !sfInDeck(t, e, viewer, her.ID) {
		t.Fatal("hidden after 2 reporters (threshold 3)")
	}
	soExpect(t, sfReport(e, reporters[2], map[string]any{"user_id": her.ID, "reason": "underage"}), 200, 0)
	if sfInDeck(t, e, viewer, her.ID) {
		t.Fatal("still in a deck (as a superliker) after 3 reporters")
	}
	// Hidden from decks only: she is still known.
	soExpect(t, soGet(e, viewer, "/api/v1/users/"+strconv.FormatInt(her.ID, 10)), 200, 0)

	m, err := app.OpenModeration(context.Background(), e.Cfg, e.App.Log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	cases, err := m.ReportCases(context.Background(), "open")
	if err != nil || len(cases) != 1 || cases[0].UserID != her.ID || cases[0].Reporters != 3 || cases[0].Reports != 4 {
		t.Fatalf("open cases %+v %v", cases, err)
	}
	if _, n, err := m.Resolve(context.Background(), cases[0].ID, "dismiss", "not a scam"); err != nil || n != 4 {
		t.Fatalf("resolve: %d %v", n, err)
	}
	if d := soDeck(t, e, viewer, 50); len(d) == 0 || d[0].ID != her.ID || !d[0].SuperlikedMe {
		t.Fatalf("the superliker is not back first after dismissal: %v", soIDs(d))
	}
	if _, _, err := m.Resolve(context.Background(), cases[0].ID, "dismiss", ""); err == nil {
		t.Fatal("resolving a resolved report again succeeded")
	}
}

// A ban by the operator command (its own connections, as `swiper ban`):
// the sessions die at once, code requests and logins answer 1013 without
// an SMS, the user is unknown to everyone and in no list; unbanning
// restores all but the revoked sessions.
func TestSafetyBan(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := context.Background()
	const ph = "13700001111"
	tok := e.Login(ph)
	u := soUser{ID: ctID(t, e, tok), Token: tok, Phone: "+86" + ph}
	soPatch(t, e, u, "/api/v1/users/me", map[string]any{"gender": "female", "birthday": "1995-03-04"})
	soPatch(t, e, u, "/api/v1/users/me/profile", map[string]any{"dating_gender": "male"})
	other := soNewUser(t, e)
	viewer := soNewUser(t, e)
	sfMatch(t, e, other, u)
	if !sfInDeck(t, e, viewer, u.ID) || !slices.Contains(sfRankIDs(t, e, viewer), u.ID) {
		t.Fatal("not in deck and rank before the ban")
	}

	m, err := app.OpenModeration(ctx, e.Cfg, e.App.Log)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.BanPhone(ctx, "+8613700001111", "spam"); err != nil {
		t.Fatal(err)
	}
	soExpect(t, soGet(e, u, ctMePath), 401, 1010)
	// The match partner is told (replayed here from the start of the stream).
	s := evOpen(t, e, other.Token, 0)
	evExpect(t, s.next(), 1, "match", u.ID)
	evExpect(t, s.next(), 2, "unmatch", u.ID)
	sent := e.SMS.Count(u.Phone)
	soExpect(t, ctRequestCodeRaw(e, ph, nil), 403, 1013)
	soExpect(t, ctLoginRaw(e, ph, "123456"), 403, 1013)
	time.Sleep(100 * time.Millisecond) // a queued SMS would be sent by now
	if got := e.SMS.Count(u.Phone); got != sent {
		t.Fatalf("%d SMS sent to a banned phone", got-sent)
	}
	sfUnknown(t, e, other, u.ID)
	sfUnknown(t, e, viewer, u.ID)
	sfInvariants(t, e, other, viewer)

	if _, err := m.UnbanPhone(ctx, "+8613700001111"); err != nil {
		t.Fatal(err)
	}
	soExpect(t, soGet(e, u, ctMePath), 401, 1010) // the revoked session stays revoked
	if !slices.Contains(sfMatchIDs(t, e, other), u.ID) {
		t.Fatal("the match did not come back with the unban")
	}
	if !sfInDeck(t, e, viewer, u.ID) {
		t.Fatal("not back in a deck after the unban")
	}
	e.Clock.Advance(61 * time.Second)
	tok = e.Login(ph)
	if id := ctID(t, e, tok); id != u.ID {
		t.Fatalf("login after the unban: user %d, want %d", id, u.ID)
	}
	if _, err := m.BanPhone(ctx, "+8613700009999", ""); err == nil {
		t.Fatal("banning an unknown phone succeeded")
	}
}

// A ban through one replica revokes at once a session in use on another
// (they share MariaDB and Redis).
func TestSafetyBanAcrossReplicas(t *testing.T) {
	if !testenv.Production() {
		t.Skip("replicas share Redis: production path only")
	}
	a := apptest.New(t)
	b := a.Replica()
	u := soNewUser(t, a)
	soExpect(t, soGet(b, u, ctMePath), 200, 0)
	if err := a.App.Safety.Ban(context.Background(), u.ID, "test"); err != nil {
		t.Fatal(err)
	}
	soExpect(t, soGet(b, u, ctMePath), 401, 1010)
	viewer := soNewUser(t, b)
	soExpect(t, soGet(b, viewer, "/api/v1/users/"+strconv.FormatInt(u.ID, 10)), 404, 1003)
}

func TestSafetyDeleteAccount(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := context.Background()
	const ph = "13700002222"
	tok := e.Login(ph)
	u := soUser{ID: ctID(t, e, tok), Token: tok, Phone: "+86" + ph}
	soPatch(t, e, u, "/api/v1/users/me", map[string]any{"gender": "female", "birthday": "1995-03-04"})
	soPatch(t, e, u, "/api/v1/users/me/profile", map[string]any{"dating_gender": "male"})
	soExpect(t, e.Upload("PUT", ctAvatarPath, u.Token, "avatar", "a.png", ctPNG(t, 40, 40)), 200, 0)
	soExpect(t, e.Upload("POST", ctPhotosPath, u.Token, "photo", "p.png", ctPNG(t, 40, 40)), 200, 0)
	other := soNewUser(t, e)
	viewer := soNewUser(t, e)
	blocked := soNewUser(t, e)
	sfMatch(t, e, other, u)
	soExpect(t, soSwipe(e, u, viewer.ID, "dislike"), 200, 0)
	soExpect(t, sfBlock(e, u, blocked.ID), 200, 0)
	soExpect(t, sfReport(e, viewer, map[string]any{"user_id": u.ID, "reason": "scam"}), 200, 0)
	media := func() int {
		n := 0
		_ = filepath.WalkDir(e.Cfg.MediaDir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		return n
	}
	if media() < 2 {
		t.Fatalf("%d media files before the deletion", media())
	}

	if len(sfHeldEvents(t, e, u.ID)) == 0 {
		t.Fatal("no event held for the user before the deletion (the match)")
	}

	r := e.Do(apptest.Request{Method: "DELETE", Path: ctMePath, Token: u.Token})
	soExpect(t, r, 200, 0)
	if evs := sfHeldEvents(t, e, u.ID); len(evs) != 0 {
		t.Fatalf("events still held for the deleted user: %v", evs)
	}
	if c := ctCookie(r.Header, "swiper_session"); c == nil || c.MaxAge >= 0 {
		t.Fatalf("the session cookie is not cleared: %v", r.Header["Set-Cookie"])
	}
	soExpect(t, soGet(e, u, ctMePath), 401, 1010)
	soExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: ctMePath, Token: u.Token}), 401, 1010)
	sfUnknown(t, e, other, u.ID)
	soExpect(t, soGet(e, viewer, "/api/v1/users/"+strconv.FormatInt(u.ID, 10)), 404, 1003)
	sfInvariants(t, e, other, viewer, blocked)
	if n := media(); n != 0 {
		t.Fatalf("%d media files left after the deletion", n)
	}
	for _, q := range []string{
		"SELECT COUNT(*) FROM users WHERE phone = '+8613700002222'",
		"SELECT COUNT(*) FROM users WHERE id = ? AND (nickname <> '' OR avatar <> '' OR cell_lat IS NOT NULL)",
	} {
		if n := soCount(t, e, q, u.ID); n != 0 {
			t.Fatalf("%s: %d", q, n)
		}
	}
	// The same phone registers again as a new user.
	code := e.RequestCode(ph)
	r = ctLoginRaw(e, ph, code)
	soExpect(t, r, 200, 0)
	var again loginAnswer
	r.Decode(t, &again)
	if !again.Created || again.User.ID == u.ID {
		t.Fatalf("login after deletion: created %v, user %d (old %d)", again.Created, again.User.ID, u.ID)
	}
	// The purge sweep removes the tombstone.
	if n, err := e.App.PurgeDeleted(ctx); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if n := soCount(t, e, "SELECT COUNT(*) FROM users WHERE id = ?", u.ID); n != 0 {
		t.Fatal("the tombstone row is still there after the purge")
	}
	sfInvariants(t, e, other, viewer)
}

// Deleting a long history is batched and quick: 10,000 swipes made, 1,000
// received and 1,000 messages.
func TestSafetyDeleteBigHistory(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := context.Background()
	u := soNewUser(t, e)
	var others []soUser
	for range 5 {
		others = append(others, soNewUser(t, e))
	}
	base, err := e.App.Store.MaxUserID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 10,000 swipes of u on ids above every user (rows a deletion must find
	// by u's id alone), and 1,000 received from the others' ids.
	var b store.SeedBatch
	at := e.Clock.Now().UTC()
	for i := range 10_000 {
		b.Swipes = append(b.Swipes, model.Swipe{SwiperID: u.ID, SwipedID: base + 1000 + int64(i), Action: model.ActionDislike, CreatedAt: at})
	}
	for i := range 1000 {
		b.Swipes = append(b.Swipes, model.Swipe{SwiperID: base + 100_000 + int64(i), SwipedID: u.ID, Action: model.ActionLike, CreatedAt: at})
	}
	if err := e.App.Store.InsertSeedBatch(ctx, b, 1000); err != nil {
		t.Fatal(err)
	}
	// 1,000 messages with the others (the rows of the conversations).
	for i := range 1000 {
		o := others[i%len(others)].ID
		a, c := min(u.ID, o), max(u.ID, o)
		if _, err := e.DB().NewRaw("INSERT INTO messages (user_a, user_b, sender_id, client_id, text, sent_at) VALUES (?, ?, ?, ?, ?, ?)",
			a, c, u.ID, "c"+strconv.Itoa(i), "hello", at).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	soExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: ctMePath, Token: u.Token}), 200, 0)
	took := time.Since(start)
	if n := soCount(t, e, "SELECT COUNT(*) FROM swipes WHERE swiper_id = ? OR swiped_id = ?", u.ID, u.ID); n != 0 {
		t.Fatalf("%d swipes left", n)
	}
	if n := soCount(t, e, "SELECT COUNT(*) FROM messages WHERE user_a = ? OR user_b = ?", u.ID, u.ID); n != 0 {
		t.Fatalf("%d messages left", n)
	}
	// How long it takes is a figure, not a test (scripts/bench-1m.sh with
	// SWIPER_BENCH_DELETE measures it at scale).
	t.Logf("deleted an account with 11,000 swipes and 1,000 messages in %s", took)
	sfInvariants(t, e, others...)
}

func TestSafetyExport(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	me := soNewUser(t, e)
	her := sfWoman(t, e)
	soPatch(t, e, her, "/api/v1/users/me", map[string]any{"lat": 31.23, "lng": 121.47, "birthday": "1994-07-08"})
	other := sfWoman(t, e)
	third := sfWoman(t, e)
	sfMatch(t, e, me, her)
	soExpect(t, soSwipe(e, me, other.ID, "dislike"), 200, 0)
	soExpect(t, sfBlock(e, me, third.ID), 200, 0)
	soExpect(t, sfReport(e, me, map[string]any{"user_id": other.ID, "reason": "scam", "note": "asked for money"}), 200, 0)
	soExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/users/me/export"}), 401, 1010)

	r := soGet(e, me, "/api/v1/users/me/export")
	soExpect(t, r, 200, 0)
	if keys := ctKeys(t, r.Data); !slices.Equal(keys, []string{"blocks", "matches", "messages", "profile", "reports", "swipes", "user"}) {
		t.Fatalf("export keys %v", keys)
	}
	var x struct {
		User struct {
			ID    int64  `json:"id"`
			Phone string `json:"phone"`
		} `json:"user"`
		Swipes []struct {
			UserID int64  `json:"user_id"`
			Action string `json:"action"`
		} `json:"swipes"`
		Matches []struct {
			UserID int64 `json:"user_id"`
		} `json:"matches"`
		Blocks []struct {
			UserID int64 `json:"user_id"`
		} `json:"blocks"`
		Reports []struct {
			UserID int64  `json:"user_id"`
			Reason string `json:"reason"`
			Note   string `json:"note"`
		} `json:"reports"`
	}
	r.Decode(t, &x)
	if x.User.ID != me.ID || x.User.Phone != me.Phone {
		t.Fatalf("export user %+v", x.User)
	}
	if len(x.Swipes) != 2 || x.Swipes[0].UserID != her.ID || x.Swipes[0].Action != "like" || x.Swipes[1].Action != "dislike" {
		t.Fatalf("export swipes %+v", x.Swipes)
	}
	if len(x.Matches) != 1 || x.Matches[0].UserID != her.ID {
		t.Fatalf("export matches %+v", x.Matches)
	}
	// The report blocked other too: two blocks.
	if len(x.Blocks) != 2 || len(x.Reports) != 1 || x.Reports[0].Note != "asked for money" || x.Reports[0].Reason != "scam" {
		t.Fatalf("export blocks %+v reports %+v", x.Blocks, x.Reports)
	}
	body := string(r.Body)
	for _, u := range []soUser{her, other, third} {
		if strings.Contains(body, u.Phone) || strings.Contains(body, strings.TrimPrefix(u.Phone, "+86")) {
			t.Fatalf("the export holds the phone of %d", u.ID)
		}
	}
	for _, leak := range []string{"1994-07-08", "1995-03-04", "31.23", "121.47", "3123", "12147"} {
		if strings.Contains(body, leak) {
			t.Fatalf("the export holds %q of another user", leak)
		}
	}
}

// A block racing the two likes of a mutual like never leaves the pair
// matched, whatever wins.
func TestSafetyBlockRacesMutualLike(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	const pairs = 12
	var men, women []soUser
	for range pairs {
		men = append(men, soNewUser(t, e))
		women = append(women, sfWoman(t, e))
	}
	var wg sync.WaitGroup
	for i := range pairs {
		m, w := men[i], women[i]
		wg.Go(func() { soSwipe(e, m, w.ID, "like") })
		wg.Go(func() { soSwipe(e, w, m.ID, "like") })
		wg.Go(func() { sfBlock(e, m, w.ID) })
	}
	wg.Wait()
	for i := range pairs {
		if slices.Contains(sfMatchIDs(t, e, men[i]), women[i].ID) {
			t.Fatalf("pair %d/%d is matched after a block", men[i].ID, women[i].ID)
		}
	}
	sfInvariants(t, e, men...)
}

// Deleting an account while others swipe it (and it swipes) leaves no row
// referring to it.
func TestSafetyDeleteRacesSwipes(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	victim := sfWoman(t, e)
	var swipers []soUser
	for range 16 {
		swipers = append(swipers, soNewUser(t, e))
	}
	var wg sync.WaitGroup
	for _, s := range swipers {
		wg.Go(func() { soSwipe(e, s, victim.ID, "like") })
		wg.Go(func() { soSwipe(e, victim, s.ID, "like") })
	}
	wg.Go(func() { e.Do(apptest.Request{Method: "DELETE", Path: ctMePath, Token: victim.Token}) })
	wg.Wait()
	sfInvariants(t, e, swipers...)
	if n := soCount(t, e, "SELECT COUNT(*) FROM users WHERE id = ? AND deleted_at IS NULL", victim.ID); n != 0 {
		t.Fatal("the account was not deleted")
	}
}

// The threshold is configurable.
func TestSafetyHideThresholdConfig(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, func(c *config.Config, _ *app.Options) { c.ReportHideThreshold = 1 })
	viewer := soNewUser(t, e)
	her := sfWoman(t, e)
	reporter := soNewUser(t, e)
	if !sfInDeck(t, e, viewer, her.ID) {
		t.Fatal("not in the deck before")
	}
	soExpect(t, sfReport(e, reporter, map[string]any{"user_id": her.ID, "reason": "other"}), 200, 0)
	if sfInDeck(t, e, viewer, her.ID) {
		t.Fatal("one report with threshold 1 did not hide her")
	}
}

// A block, a report, a ban and an account deletion end the matches they
// touch: both users get `unmatch` about the other (API.md §3 Events).
func TestSafetyUnmatchEvents(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	me := soNewUser(t, e)
	var women []soUser
	for range 4 {
		w := sfWoman(t, e)
		sfMatch(t, e, me, w)
		women = append(women, w)
	}
	s := evOpen(t, e, me.Token, 0)
	for i := range women {
		evExpect(t, s.next(), int64(i+1), "match", women[i].ID)
	}
	sw := evOpen(t, e, women[0].Token, 0)
	evExpect(t, sw.next(), 1, "match", me.ID)

	soExpect(t, sfBlock(e, me, women[0].ID), 200, 0)
	evExpect(t, s.next(), 5, "unmatch", women[0].ID)
	evExpect(t, sw.next(), 2, "unmatch", me.ID)
	soExpect(t, sfReport(e, women[1], map[string]any{"user_id": me.ID, "reason": "other"}), 200, 0)
	evExpect(t, s.next(), 6, "unmatch", women[1].ID)
	if err := e.App.Safety.Ban(context.Background(), women[2].ID, "test"); err != nil {
		t.Fatal(err)
	}
	evExpect(t, s.next(), 7, "unmatch", women[2].ID)
	soExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: ctMePath, Token: women[3].Token}), 200, 0)
	evExpect(t, s.next(), 8, "unmatch", women[3].ID)
	// A block without a match sends nothing.
	soExpect(t, sfBlock(e, me, soNewUser(t, e).ID), 200, 0)
	s.none(200 * time.Millisecond)
}

// sfHeldEvents are the events the server holds for user (what a socket
// connecting with since=0 would get replayed).
func sfHeldEvents(t *testing.T, e *apptest.Env, user int64) []events.Event {
	t.Helper()
	svc, ok := e.App.Events.(*events.Service)
	if !ok {
		t.Fatalf("App.Events is a %T", e.App.Events)
	}
	// Attach replays the log in this goroutine before it returns; the
	// stream is then ended, and end waited for, so no live event is sent
	// while out is read.
	ctx, cancel := context.WithCancel(context.Background())
	var (
		mu  sync.Mutex
		out []events.Event
	)
	ended := make(chan error, 1)
	svc.Attach(ctx, user, 0, func(_ context.Context, ev events.Event) error {
		mu.Lock()
		defer mu.Unlock()
		out = append(out, ev)
		return nil
	}, func(err error) { ended <- err })
	cancel()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("replaying the events of %d: %v", user, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return out
}
