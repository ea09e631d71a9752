package apptest_test

// Black-box tests of issue 10's social items: one Card on every route,
// rewinds of a match, the positive rank, pages without N+1, and VIP grants
// of another process showing at once. Helpers are social_test.go's (so*).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// soCardOf is GET /users/{id} as u (must succeed).
func soCardOf(t testing.TB, e *apptest.Env, u soUser, id int64) soCard {
	t.Helper()
	r := soGet(e, u, fmt.Sprintf("/api/v1/users/%d", id))
	soExpect(t, r, 200, 0)
	var c soCard
	r.Decode(t, &c)
	return c
}

// soLikes is GET /likes/received as u (must succeed).
func soLikes(t testing.TB, e *apptest.Env, u soUser, query string) (int, []soCard) {
	t.Helper()
	r := soGet(e, u, "/api/v1/likes/received"+query)
	soExpect(t, r, 200, 0)
	var p struct {
		Total int      `json:"total"`
		Users []soCard `json:"users"`
	}
	r.Decode(t, &p)
	return p.Total, p.Users
}

type soRankEntry struct {
	Rank  int    `json:"rank"`
	Score int64  `json:"score"`
	User  soCard `json:"user"`
}

func soRank(t testing.TB, e *apptest.Env, u soUser, query string) []soRankEntry {
	t.Helper()
	r := soGet(e, u, "/api/v1/rank"+query)
	soExpect(t, r, 200, 0)
	var es []soRankEntry
	r.Decode(t, &es)
	return es
}

// One function decides a Card: B superliked A, so A sees superliked_me
// true for B on GET /users/{id} (it said false), in the deck, in likes,
// and — once A liked B back — in matches, on GET /users/{id} and in the
// rank. A plain liker is never flagged, and B does not see A flagged.
func TestCT2CardSuperlikedMeOnEveryRoute(t *testing.T) {
	e := apptest.New(t)
	a, b, c := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	soVIP(t, e, a, 3)
	soVIP(t, e, b, 1)
	soExpect(t, soSwipe(e, b, a.ID, "superlike"), 200, 0)
	soExpect(t, soSwipe(e, c, a.ID, "like"), 200, 0)

	if card := soCardOf(t, e, a, b.ID); !card.SuperlikedMe {
		t.Errorf("GET /users/%d: superliked_me false for a superliker", b.ID)
	}
	if card := soCardOf(t, e, a, c.ID); card.SuperlikedMe {
		t.Errorf("GET /users/%d: a plain liker flagged", c.ID)
	}
	deck := soDeck(t, e, a, 20)
	if len(deck) == 0 || deck[0].ID != b.ID || !deck[0].SuperlikedMe {
		t.Errorf("deck: %+v", deck)
	}
	_, likes := soLikes(t, e, a, "")
	if len(likes) != 2 || likes[0].ID != b.ID || !likes[0].SuperlikedMe || likes[1].SuperlikedMe {
		t.Errorf("likes: %+v", likes)
	}

	r := soSwipe(e, a, b.ID, "like")
	soExpect(t, r, 200, 0)
	var res struct {
		Matched bool     `json:"matched"`
		Match   *soMatch `json:"match"`
	}
	r.Decode(t, &res)
	if !res.Matched || res.Match == nil || !res.Match.User.SuperlikedMe {
		t.Errorf("the swipe's match: %s", r.Body)
	}
	if _, ms := soMatches(t, e, a, ""); len(ms) != 1 || ms[0].User.ID != b.ID || !ms[0].User.SuperlikedMe {
		t.Errorf("matches: %+v", ms)
	}
	if card := soCardOf(t, e, a, b.ID); !card.SuperlikedMe {
		t.Errorf("GET /users/%d after the match: superliked_me false", b.ID)
	}
	found := false
	for _, en := range soRank(t, e, a, "") {
		if en.User.ID == b.ID {
			found = true
			if !en.User.SuperlikedMe {
				t.Errorf("rank: superliked_me false for %d", b.ID)
			}
		}
		if en.User.ID == c.ID || (en.User.ID != b.ID && en.User.SuperlikedMe) {
			t.Errorf("rank flags %+v", en)
		}
	}
	if !found {
		t.Errorf("rank misses %d (liked by %d)", b.ID, a.ID)
	}
	// The other way round: a only liked b.
	if _, ms := soMatches(t, e, b, ""); len(ms) != 1 || ms[0].User.SuperlikedMe {
		t.Errorf("b's matches: %+v", ms)
	}
	if card := soCardOf(t, e, b, a.ID); card.SuperlikedMe {
		t.Errorf("b sees a flagged, who only liked")
	}
	// One's own Card is never flagged.
	if card := soCardOf(t, e, b, b.ID); card.SuperlikedMe {
		t.Errorf("own Card flagged")
	}
}

// A level-2 user's like that made a match cannot be rewound to erase the
// probe: 409 2010, the match stays on both sides, no rewind is used. The
// same for the other side, whose like is in the match.
func TestCT2RewindOfAMatchIs2010(t *testing.T) {
	e := apptest.New(t)
	soMorning(e)
	a, b, c := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	soVIP(t, e, a, 2)
	soVIP(t, e, b, 2)
	soExpect(t, soSwipe(e, b, a.ID, "like"), 200, 0)
	r := soSwipe(e, a, b.ID, "like")
	soExpect(t, r, 200, 0)
	if !strings.Contains(string(r.Body), `"matched":true`) {
		t.Fatalf("no match: %s", r.Body)
	}
	for _, u := range []soUser{a, b} {
		soExpect(t, soDelete(e, u, "/api/v1/swipes/latest"), 409, 2010)
		if total, ms := soMatches(t, e, u, ""); total != 1 || len(ms) != 1 {
			t.Fatalf("matches of %d after the refused rewind: %d %+v", u.ID, total, ms)
		}
		if v := soVipOf(t, e, u); v.Quotas.RewindsLeftToday != 3 {
			t.Fatalf("a refused rewind used one: %+v", v)
		}
	}
	// A like without a match still rewinds.
	soExpect(t, soSwipe(e, a, c.ID, "like"), 200, 0)
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 200, 0)
	if v := soVipOf(t, e, a); v.Quotas.RewindsLeftToday != 2 {
		t.Fatalf("rewinds left %+v", v)
	}
	// The match's like is the latest again: still 2010.
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 409, 2010)
}

// The hot rank lists only existing users with a positive score: not a user
// at -5, nor one at 0.
func TestCT2RankOnlyPositive(t *testing.T) {
	e := apptest.New(t)
	soMorning(e)
	var us []soUser
	for range 5 {
		us = append(us, soNewUser(t, e))
	}
	soExpect(t, soSwipe(e, us[0], us[1].ID, "dislike"), 200, 0) // -5
	soExpect(t, soSwipe(e, us[0], us[2].ID, "like"), 200, 0)    // +5
	soExpect(t, soSwipe(e, us[0], us[3].ID, "like"), 200, 0)    // 0
	soExpect(t, soSwipe(e, us[4], us[3].ID, "dislike"), 200, 0)
	es := soRank(t, e, us[4], "")
	if len(es) != 1 || es[0].User.ID != us[2].ID || es[0].Score != 5 || es[0].Rank != 1 {
		t.Fatalf("rank: %+v", es)
	}
	for _, en := range es {
		if en.Score <= 0 {
			t.Fatalf("listed at %d: %+v", en.Score, en)
		}
	}
}

// A page of likes, matches or rank costs a fixed number of statements,
// whatever its size: not two per Card (about 200 for a page of 100).
func TestCT2ListPagesAreNotNPlusOne(t *testing.T) {
	e := apptest.New(t)
	soMorning(e)
	me := soNewUser(t, e)
	soVIP(t, e, me, 3)
	const n = 60
	for i := range n {
		u := soNewUser(t, e)
		soExpect(t, soSwipe(e, u, me.ID, "like"), 200, 0)
		if i%2 == 0 { // half of them matches
			soExpect(t, soSwipe(e, me, u.ID, "like"), 200, 0)
		}
	}
	cost := func(path string) int64 {
		t.Helper()
		before := e.App.Store.Queries()
		soExpect(t, soGet(e, me, path), 200, 0)
		return e.App.Store.Queries().Sub(before).Total()
	}
	const most = 12
	for _, path := range []string{"/api/v1/likes/received", "/api/v1/matches", "/api/v1/rank"} {
		small := cost(path + "?limit=2")
		big := cost(path + "?limit=100")
		if big > most || small > most {
			t.Errorf("%s: %d statements for a page of 100, %d for a page of 2 (want at most %d, whatever the size)",
				path, big, small, most)
		}
	}
	if total, ms := soMatches(t, e, me, "?limit=100"); total != n/2 || len(ms) != n/2 {
		t.Fatalf("matches: %d %d", total, len(ms))
	}
	if total, ls := soLikes(t, e, me, "?limit=100"); total != n/2 || len(ls) != n/2 {
		t.Fatalf("likes: %d %d", total, len(ls))
	}
}

// `swiper vip grant` runs as another process with a store of its own on
// the same database: the user's next request shows the new level, without
// waiting for the cache to expire (embedded: the server follows the
// database's commits; production: the CLI drops the Redis entries).
func TestCT2VIPGrantShowsOnTheNextRequest(t *testing.T) {
	e := apptest.New(t)
	ctx := context.Background()
	u := soNewUser(t, e)
	if v := soVipOf(t, e, u); v.Level != 0 { // cached now
		t.Fatalf("level %d", v.Level)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	exp := e.Clock.Now().Add(24 * time.Hour)
	if _, err := app.GrantVIP(ctx, e.Cfg, log, u.Phone, 2, &exp); err != nil {
		t.Fatal(err)
	}
	if v := soVipOf(t, e, u); v.Level != 2 || v.Quotas.RewindsLeftToday != 3 {
		t.Fatalf("after the grant: %+v", v)
	}
	// The permission applies at once too: a rewind is no longer 3001.
	soExpect(t, soDelete(e, u, "/api/v1/swipes/latest"), 404, 2004)
	if _, err := app.GrantVIP(ctx, e.Cfg, log, u.Phone, 0, nil); err != nil {
		t.Fatal(err)
	}
	if v := soVipOf(t, e, u); v.Level != 0 {
		t.Fatalf("after the removal: %+v", v)
	}
	soExpect(t, soDelete(e, u, "/api/v1/swipes/latest"), 403, 3001)
	if _, err := app.GrantVIP(ctx, e.Cfg, log, "+8613900000000", 1, &exp); err == nil || !strings.Contains(err.Error(), "no user") {
		t.Fatalf("unknown phone: %v", err)
	}
}

// Embedded, any write made around the server (here a test's own
// connection, as an operator's command would be; later ban/unban) shows on
// the next request, not after the cache's TTL.
func TestCT2OutsideWriteShowsOnTheNextRequest(t *testing.T) {
	if testenv.Production() {
		t.Skip("production: a writer around the servers drops the Redis entries itself (app.InvalidateUser)")
	}
	e := apptest.New(t)
	u := soNewUser(t, e)
	if me := soGet(e, u, "/api/v1/users/me"); !strings.Contains(string(me.Body), `"nickname":"用户`) {
		t.Fatalf("me: %s", me.Body)
	}
	if _, err := e.DB().NewUpdate().Table("users").Set("nickname = ?", "改名了").Where("id = ?", u.ID).
		Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	if me := soGet(e, u, "/api/v1/users/me"); !strings.Contains(string(me.Body), `"nickname":"改名了"`) {
		t.Fatalf("an outside write does not show: %s", me.Body)
	}
}
