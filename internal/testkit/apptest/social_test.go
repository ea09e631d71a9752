package apptest_test

// Black-box tests of the social and VIP routes (API.md §3 Social, VIP), on
// whichever path the suite runs (embedded, or SWIPER_TEST_BACKEND=production).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

// ---- helpers ----

type soUser struct {
	ID    int64
	Token string
	Phone string
}

var soPhoneSeq atomic.Int64

// soNewUser registers a user directly and opens a session for it.
func soNewUser(t testing.TB, e *apptest.Env) soUser {
	t.Helper()
	ctx := context.Background()
	ph := fmt.Sprintf("+86139%08d", soPhoneSeq.Add(1))
	id, _, err := e.App.Profile.Register(ctx, ph)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.App.Auth.OpenSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return soUser{ID: id, Token: s.Token, Phone: ph}
}

// soVIP grants level until a day after the fake now and drops the cached user.
func soVIP(t testing.TB, e *apptest.Env, u soUser, level int) {
	t.Helper()
	ctx := context.Background()
	exp := e.Clock.Now().Add(24 * time.Hour)
	if err := e.App.Store.SetVIP(ctx, u.ID, level, &exp); err != nil {
		t.Fatal(err)
	}
	if err := e.App.InvalidateUserCache(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
}

func soExpect(t testing.TB, r *apptest.Response, status, code int) {
	t.Helper()
	if r.Status != status || r.Code != code {
		t.Fatalf("got HTTP %d code %d, want HTTP %d code %d; body %s", r.Status, r.Code, status, code, r.Body)
	}
}

func soSwipe(e *apptest.Env, u soUser, target int64, action string) *apptest.Response {
	return e.Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: u.Token,
		JSON: map[string]any{"user_id": target, "action": action}})
}

func soGet(e *apptest.Env, u soUser, path string) *apptest.Response {
	return e.Do(apptest.Request{Method: "GET", Path: path, Token: u.Token})
}

func soDelete(e *apptest.Env, u soUser, path string) *apptest.Response {
	return e.Do(apptest.Request{Method: "DELETE", Path: path, Token: u.Token})
}

func soPatch(t testing.TB, e *apptest.Env, u soUser, path string, body any) {
	t.Helper()
	r := e.Do(apptest.Request{Method: "PATCH", Path: path, Token: u.Token, JSON: body})
	soExpect(t, r, 200, 0)
}

type soCard struct {
	ID           int64             `json:"id"`
	Gender       string            `json:"gender"`
	Age          int               `json:"age"`
	City         string            `json:"city"`
	DistanceKM   *int              `json:"distance_km"`
	SuperlikedMe bool              `json:"superliked_me"`
	Photos       []json.RawMessage `json:"photos"`
}

type soMatch struct {
	User      soCard    `json:"user"`
	MatchedAt time.Time `json:"matched_at"`
}

func soDeck(t testing.TB, e *apptest.Env, u soUser, limit int) []soCard {
	t.Helper()
	r := soGet(e, u, "/api/v1/recommendations?limit="+strconv.Itoa(limit))
	soExpect(t, r, 200, 0)
	var cs []soCard
	r.Decode(t, &cs)
	return cs
}

func soIDs(cs []soCard) []int64 {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

func soMatches(t testing.TB, e *apptest.Env, u soUser, query string) (int, []soMatch) {
	t.Helper()
	r := soGet(e, u, "/api/v1/matches"+query)
	soExpect(t, r, 200, 0)
	var p struct {
		Total   int       `json:"total"`
		Matches []soMatch `json:"matches"`
	}
	r.Decode(t, &p)
	return p.Total, p.Matches
}

type soVipStatus struct {
	Level  int `json:"level"`
	Quotas struct {
		LikesLeftToday   *int `json:"likes_left_today"`
		RewindsLeftToday int  `json:"rewinds_left_today"`
	} `json:"quotas"`
}

func soVipOf(t testing.TB, e *apptest.Env, u soUser) soVipStatus {
	t.Helper()
	r := soGet(e, u, "/api/v1/vip")
	soExpect(t, r, 200, 0)
	var v soVipStatus
	r.Decode(t, &v)
	return v
}

func soCount(t testing.TB, e *apptest.Env, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.DB().NewRaw(query, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func soPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	img.Set(1, 1, color.NRGBA{R: 255, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func soSecondsToMidnight(e *apptest.Env) int {
	now := e.Clock.Now().In(e.Cfg.Timezone)
	next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, e.Cfg.Timezone)
	d := next.Sub(e.Clock.Now())
	return int((d + time.Second - 1) / time.Second)
}

// soMorning moves the fake clock to 09:00 local time of the next day, so
// that a test never crosses a local midnight by accident.
func soMorning(e *apptest.Env) {
	now := e.Clock.Now().In(e.Cfg.Timezone)
	e.Clock.Set(time.Date(now.Year(), now.Month(), now.Day()+1, 9, 0, 0, 0, e.Cfg.Timezone))
}

func soFreeLikes(n int) apptest.Option {
	return func(c *config.Config, _ *app.Options) { c.FreeDailyLikes = n }
}

// ---- tests ----

func TestSocialNeedsSession(t *testing.T) {
	e := apptest.New(t)
	for _, rt := range []struct{ method, path string }{
		{"GET", "/api/v1/recommendations"}, {"POST", "/api/v1/swipes"}, {"DELETE", "/api/v1/swipes/latest"},
		{"GET", "/api/v1/likes/received"}, {"GET", "/api/v1/matches"}, {"DELETE", "/api/v1/matches/1"},
		{"GET", "/api/v1/rank"}, {"GET", "/api/v1/vip"},
	} {
		r := e.Do(apptest.Request{Method: rt.method, Path: rt.path, JSON: map[string]any{"user_id": 1, "action": "like"}})
		if r.Status != 401 || r.Code != 1010 {
			t.Errorf("%s %s without session: %d %s", rt.method, rt.path, r.Status, r.Body)
		}
	}
}

func TestSocialSwipeValidation(t *testing.T) {
	e := apptest.New(t)
	a, b := soNewUser(t, e), soNewUser(t, e)
	post := func(body any) *apptest.Response {
		return e.Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: a.Token, JSON: body})
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   int
	}{
		{"empty object", map[string]any{}, 400, 1000},
		{"no action", map[string]any{"user_id": b.ID}, 400, 1000},
		{"no user_id", map[string]any{"action": "like"}, 400, 1000},
		{"null user_id", map[string]any{"user_id": nil, "action": "like"}, 400, 1000},
		{"string user_id", map[string]any{"user_id": strconv.FormatInt(b.ID, 10), "action": "like"}, 400, 1001},
		{"fractional user_id", `{"user_id": 1.5, "action": "like"}`, 400, 1001},
		{"zero user_id", map[string]any{"user_id": 0, "action": "like"}, 400, 1001},
		{"negative user_id", map[string]any{"user_id": -3, "action": "like"}, 400, 1001},
		{"huge user_id", `{"user_id": 99999999999999999999, "action": "like"}`, 400, 1001},
		{"bad action", map[string]any{"user_id": b.ID, "action": "love"}, 400, 1001},
		{"action not a string", map[string]any{"user_id": b.ID, "action": 1}, 400, 1001},
		{"not an object", `[1,2]`, 400, 1001},
		{"not JSON", `{"user_id":`, 400, 1001},
		{"self", map[string]any{"user_id": a.ID, "action": "like"}, 400, 2001},
		{"self with a bad action: input first", map[string]any{"user_id": a.ID, "action": "hug"}, 400, 1001},
		{"self superlike without VIP: input before 3001", map[string]any{"user_id": a.ID, "action": "superlike"}, 400, 2001},
		{"superlike without VIP", map[string]any{"user_id": b.ID, "action": "superlike"}, 403, 3001},
		{"superlike of an unknown user without VIP: 3001 first", map[string]any{"user_id": 999999, "action": "superlike"}, 403, 3001},
		{"unknown user", map[string]any{"user_id": 999999, "action": "like"}, 404, 1003},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			soExpect(t, post(c.body), c.status, c.code)
		})
	}
	r := e.Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: a.Token, ContentType: "text/plain",
		Body: strings.NewReader(`{"user_id": 2, "action": "like"}`)})
	soExpect(t, r, 400, 1001)
	if n := soCount(t, e, "SELECT COUNT(*) FROM swipes"); n != 0 {
		t.Fatalf("rejected swipes wrote %d rows", n)
	}

	// Unknown fields in a POST body are ignored.
	r = post(map[string]any{"user_id": b.ID, "action": "dislike", "extra": true})
	soExpect(t, r, 200, 0)
	var res struct {
		Matched bool            `json:"matched"`
		Match   json.RawMessage `json:"match"`
	}
	r.Decode(t, &res)
	if res.Matched || string(res.Match) != "null" {
		t.Fatalf("dislike: %s", r.Body)
	}
	soExpect(t, soSwipe(e, a, b.ID, "dislike"), 409, 2002)
	soExpect(t, soSwipe(e, a, b.ID, "like"), 409, 2002)
	// superlike permission before the conflict
	soExpect(t, soSwipe(e, a, b.ID, "superlike"), 403, 3001)
	soVIP(t, e, a, 1)
	soExpect(t, soSwipe(e, a, b.ID, "superlike"), 409, 2002)
}

// A swipe checks the VIP level on the swiper's row as its transaction reads
// it: a grant written by another process (here the store, with no cache
// invalidated) applies at once, and so does an expiry.
func TestSocialSwipeVIPFromTheDatabase(t *testing.T) {
	e := apptest.New(t)
	ctx := context.Background()
	a, b, c := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	soExpect(t, soSwipe(e, a, c.ID, "dislike"), 200, 0) // a's row is in the user cache now
	exp := e.Clock.Now().Add(time.Hour)
	if err := e.App.Store.SetVIP(ctx, a.ID, 1, &exp); err != nil {
		t.Fatal(err)
	}
	soExpect(t, soSwipe(e, a, b.ID, "superlike"), 200, 0)
	e.Clock.Advance(time.Hour + time.Second)
	soExpect(t, soSwipe(e, a, c.ID, "superlike"), 403, 3001) // expired: refused before the conflict
}

func TestSocialMatchFlow(t *testing.T) {
	e := apptest.New(t)
	a, b, c := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	// b has a photo and the default only_matched = true.
	soExpect(t, e.Upload("POST", "/api/v1/users/me/photos", b.Token, "photo", "p.png", soPNG(t)), 200, 0)
	var card soCard
	r := soGet(e, a, fmt.Sprintf("/api/v1/users/%d", b.ID))
	soExpect(t, r, 200, 0)
	r.Decode(t, &card)
	if len(card.Photos) != 0 {
		t.Fatalf("album visible before the match: %s", r.Body)
	}

	r = soSwipe(e, a, b.ID, "like")
	soExpect(t, r, 200, 0)
	if strings.Contains(string(r.Body), `"matched":true`) {
		t.Fatalf("one-sided like matched: %s", r.Body)
	}
	e.Clock.Advance(time.Second)
	r = soSwipe(e, b, a.ID, "like")
	soExpect(t, r, 200, 0)
	var res struct {
		Matched bool     `json:"matched"`
		Match   *soMatch `json:"match"`
	}
	r.Decode(t, &res)
	if !res.Matched || res.Match == nil || res.Match.User.ID != a.ID {
		t.Fatalf("mutual like: %s", r.Body)
	}
	if d := res.Match.MatchedAt.Sub(e.Clock.Now()); d > time.Second || d < -time.Second {
		t.Fatalf("matched_at %s, now %s", res.Match.MatchedAt, e.Clock.Now())
	}

	for _, side := range []struct{ me, other soUser }{{a, b}, {b, a}} {
		total, ms := soMatches(t, e, side.me, "")
		if total != 1 || len(ms) != 1 || ms[0].User.ID != side.other.ID {
			t.Fatalf("matches of %d: %d %+v", side.me.ID, total, ms)
		}
	}
	// Matched: a now sees b's album.
	_, ms := soMatches(t, e, a, "")
	if len(ms[0].User.Photos) != 1 {
		t.Fatalf("album hidden from a match: %+v", ms[0].User)
	}
	r = soGet(e, a, fmt.Sprintf("/api/v1/users/%d", b.ID))
	r.Decode(t, &card)
	if len(card.Photos) != 1 {
		t.Fatalf("album hidden from a match: %s", r.Body)
	}
	if n := soCount(t, e, "SELECT COUNT(*) FROM matches"); n != 1 {
		t.Fatalf("%d match rows", n)
	}

	// A second match, later, to check the order.
	e.Clock.Advance(time.Minute)
	soExpect(t, soSwipe(e, c, a.ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, a, c.ID, "like"), 200, 0)
	total, ms := soMatches(t, e, a, "")
	if total != 2 || len(ms) != 2 || ms[0].User.ID != c.ID || ms[1].User.ID != b.ID {
		t.Fatalf("newest first: %d %+v", total, ms)
	}
	total, ms = soMatches(t, e, a, "?order=matched_at")
	if total != 2 || ms[0].User.ID != b.ID || ms[1].User.ID != c.ID {
		t.Fatalf("oldest first: %+v", ms)
	}
	total, ms = soMatches(t, e, a, "?order=-matched_at&limit=1&page=2")
	if total != 2 || len(ms) != 1 || ms[0].User.ID != b.ID {
		t.Fatalf("page 2: %d %+v", total, ms)
	}
	total, ms = soMatches(t, e, a, "?limit=100&page=3")
	if total != 2 || len(ms) != 0 {
		t.Fatalf("page beyond the last: %d %+v", total, ms)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "limit=", "page=0", "page=-1", "page=1.5", "order=newest", "order=", "order=MATCHED_AT"} {
		soExpect(t, soGet(e, a, "/api/v1/matches?"+q), 400, 1001)
	}

	// Unmatch.
	soExpect(t, soDelete(e, a, "/api/v1/matches/abc"), 400, 1001)
	soExpect(t, soDelete(e, a, "/api/v1/matches/0"), 400, 1001)
	soExpect(t, soDelete(e, a, "/api/v1/matches/-5"), 400, 1001)
	soExpect(t, soDelete(e, a, "/api/v1/matches/99999999999999999999"), 400, 1001)
	soExpect(t, soDelete(e, a, "/api/v1/matches/999999"), 404, 2007)
	soExpect(t, soDelete(e, a, fmt.Sprintf("/api/v1/matches/%d", a.ID)), 404, 2007)
	r = soDelete(e, a, fmt.Sprintf("/api/v1/matches/%d", b.ID))
	soExpect(t, r, 200, 0)
	if string(r.Data) != "null" {
		t.Fatalf("unmatch data: %s", r.Body)
	}
	soExpect(t, soDelete(e, b, fmt.Sprintf("/api/v1/matches/%d", a.ID)), 404, 2007)
	if total, _ := soMatches(t, e, b, ""); total != 0 {
		t.Fatalf("b still matched: %d", total)
	}
	if total, _ := soMatches(t, e, a, ""); total != 1 {
		t.Fatalf("a: %d matches", total)
	}
	// The swipes stay: no swiping again, no coming back in the deck.
	soExpect(t, soSwipe(e, a, b.ID, "like"), 409, 2002)
	for _, cs := range [][]soCard{soDeck(t, e, a, 50), soDeck(t, e, b, 50)} {
		for _, c := range cs {
			if c.ID == a.ID || c.ID == b.ID {
				t.Fatalf("unmatched user back in the deck: %+v", cs)
			}
		}
	}
	// Album hidden again.
	r = soGet(e, a, fmt.Sprintf("/api/v1/users/%d", b.ID))
	r.Decode(t, &card)
	if len(card.Photos) != 0 {
		t.Fatalf("album visible after unmatch: %s", r.Body)
	}
}

func TestSocialLikeQuota(t *testing.T) {
	e := apptest.New(t, soFreeLikes(3))
	soMorning(e)
	a := soNewUser(t, e)
	var others []soUser
	for range 6 {
		others = append(others, soNewUser(t, e))
	}
	if v := soVipOf(t, e, a); v.Quotas.LikesLeftToday == nil || *v.Quotas.LikesLeftToday != 3 || v.Quotas.RewindsLeftToday != 0 {
		t.Fatalf("fresh quotas: %+v", v)
	}
	for i := range 3 {
		soExpect(t, soSwipe(e, a, others[i].ID, "like"), 200, 0)
	}
	if v := soVipOf(t, e, a); *v.Quotas.LikesLeftToday != 0 {
		t.Fatalf("likes left: %d", *v.Quotas.LikesLeftToday)
	}
	r := soSwipe(e, a, others[3].ID, "like")
	soExpect(t, r, 429, 2003)
	if got, want := r.Header.Get("Retry-After"), strconv.Itoa(soSecondsToMidnight(e)); got != want {
		t.Fatalf("Retry-After %s, want %s", got, want)
	}
	// The conflict wins over the limit; unknown users too.
	soExpect(t, soSwipe(e, a, others[0].ID, "like"), 409, 2002)
	soExpect(t, soSwipe(e, a, 999999, "like"), 404, 1003)
	// Dislikes are never limited.
	soExpect(t, soSwipe(e, a, others[3].ID, "dislike"), 200, 0)
	// A refused like wrote nothing.
	if n := soCount(t, e, "SELECT COUNT(*) FROM swipes WHERE swiper_id = ?", a.ID); n != 4 {
		t.Fatalf("%d swipes", n)
	}
	// Gold members are not limited (but superlike needs level 1+ anyway).
	soVIP(t, e, a, 3)
	soExpect(t, soSwipe(e, a, others[4].ID, "superlike"), 200, 0)
	if v := soVipOf(t, e, a); v.Quotas.LikesLeftToday != nil {
		t.Fatalf("unlimited likes: %+v", v)
	}
	soVIP(t, e, a, 0)
	// The next local day has a fresh quota.
	e.Clock.Advance(time.Duration(soSecondsToMidnight(e)) * time.Second)
	soExpect(t, soSwipe(e, a, others[5].ID, "like"), 200, 0)
	if v := soVipOf(t, e, a); *v.Quotas.LikesLeftToday != 2 {
		t.Fatalf("likes left the next day: %d", *v.Quotas.LikesLeftToday)
	}
}

func TestSocialParallelLikesQuota(t *testing.T) {
	e := apptest.New(t)
	soMorning(e)
	a := soNewUser(t, e)
	targets := make([]soUser, 110)
	for i := range targets {
		targets[i] = soNewUser(t, e)
	}
	var okN, limited, other atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, u := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := soSwipe(e, a, u.ID, "like")
			switch {
			case r.Status == 200:
				okN.Add(1)
			case r.Status == 429 && r.Code == 2003:
				limited.Add(1)
			default:
				other.Add(1)
				t.Errorf("unexpected %d %s", r.Status, r.Body)
			}
		}()
	}
	close(start)
	wg.Wait()
	if okN.Load() != 100 || limited.Load() != 10 || other.Load() != 0 {
		t.Fatalf("accepted %d, limited %d, other %d", okN.Load(), limited.Load(), other.Load())
	}
	if n := soCount(t, e, "SELECT COUNT(*) FROM swipes WHERE swiper_id = ?", a.ID); n != 100 {
		t.Fatalf("%d swipes stored", n)
	}
	if n := soCount(t, e, "SELECT likes FROM daily_quotas WHERE user_id = ?", a.ID); n != 100 {
		t.Fatalf("quota row says %d", n)
	}
}

func TestSocialMutualLikesRace(t *testing.T) {
	e := apptest.New(t)
	const pairs = 100
	users := make([]soUser, 2*pairs)
	for i := range users {
		users[i] = soNewUser(t, e)
	}
	var matchedAnswers atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range pairs {
		x, y := users[2*i], users[2*i+1]
		for _, side := range [][2]soUser{{x, y}, {y, x}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := soSwipe(e, side[0], side[1].ID, "like")
				if r.Status != 200 {
					t.Errorf("like %d→%d: %d %s", side[0].ID, side[1].ID, r.Status, r.Body)
					return
				}
				if strings.Contains(string(r.Body), `"matched":true`) {
					matchedAnswers.Add(1)
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	if n := soCount(t, e, "SELECT COUNT(*) FROM matches"); n != pairs {
		t.Fatalf("%d matches for %d mutual pairs", n, pairs)
	}
	for i := range pairs {
		a, b := users[2*i].ID, users[2*i+1].ID
		if n := soCount(t, e, "SELECT COUNT(*) FROM matches WHERE user_a = ? AND user_b = ?", a, b); n != 1 {
			t.Fatalf("pair %d/%d: %d matches", a, b, n)
		}
	}
	if matchedAnswers.Load() != pairs {
		t.Fatalf("%d answers said matched, want %d", matchedAnswers.Load(), pairs)
	}
}

func TestSocialRewind(t *testing.T) {
	e := apptest.New(t)
	soMorning(e)
	a := soNewUser(t, e)
	bs := make([]soUser, 6)
	for i := range bs {
		bs[i] = soNewUser(t, e)
	}
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 403, 3001)
	soVIP(t, e, a, 1)
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 403, 3001)
	soVIP(t, e, a, 2)
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 404, 2004)
	if v := soVipOf(t, e, a); v.Quotas.RewindsLeftToday != 3 || *v.Quotas.LikesLeftToday != 100 {
		t.Fatalf("quotas: %+v", v)
	}

	// b0 liked a first, a superlikes b0: a match. A swipe that made a match
	// cannot be rewound (2010): the match stays and no rewind is used.
	// Unmatching is the way out; then rewinding it removes the score and
	// the quota use, and b0 may come back.
	soExpect(t, soSwipe(e, bs[0], a.ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, a, bs[1].ID, "dislike"), 200, 0)
	e.Clock.Advance(time.Second)
	r := soSwipe(e, a, bs[0].ID, "superlike")
	soExpect(t, r, 200, 0)
	if !strings.Contains(string(r.Body), `"matched":true`) {
		t.Fatalf("no match: %s", r.Body)
	}
	if v := soVipOf(t, e, a); *v.Quotas.LikesLeftToday != 99 {
		t.Fatalf("likes left %d", *v.Quotas.LikesLeftToday)
	}
	e.Clock.Advance(300 * time.Second) // exactly at the window's end: still allowed
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 409, 2010)
	if total, _ := soMatches(t, e, bs[0], ""); total != 1 {
		t.Fatalf("the match went with the refused rewind")
	}
	if v := soVipOf(t, e, a); *v.Quotas.LikesLeftToday != 99 || v.Quotas.RewindsLeftToday != 3 {
		t.Fatalf("quotas after the refused rewind: %+v", v)
	}
	soExpect(t, soDelete(e, a, fmt.Sprintf("/api/v1/matches/%d", bs[0].ID)), 200, 0)
	r = soDelete(e, a, "/api/v1/swipes/latest")
	soExpect(t, r, 200, 0)
	var rw struct {
		User   soCard `json:"user"`
		Action string `json:"action"`
	}
	r.Decode(t, &rw)
	if rw.User.ID != bs[0].ID || rw.Action != "superlike" {
		t.Fatalf("rewind: %s", r.Body)
	}
	v := soVipOf(t, e, a)
	if *v.Quotas.LikesLeftToday != 100 || v.Quotas.RewindsLeftToday != 2 {
		t.Fatalf("quotas after rewind: %+v", v)
	}
	if n := soCount(t, e, "SELECT COUNT(*) FROM scores WHERE user_id = ? AND swipes > 0", bs[0].ID); n != 0 {
		t.Fatalf("score of the rewound superlike survived")
	}
	// b0's own like stays: a can swipe b0 again and match again.
	// The swipe before (dislike of b1) is now the latest, but it is older
	// than the window.
	r = soDelete(e, a, "/api/v1/swipes/latest")
	soExpect(t, r, 409, 2005)
	// failed attempts do not count
	if v := soVipOf(t, e, a); v.Quotas.RewindsLeftToday != 2 {
		t.Fatalf("a failed rewind counted: %+v", v)
	}

	// Two fresh swipes at the same instant: rewinds undo them newest first.
	soExpect(t, soSwipe(e, a, bs[2].ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, a, bs[3].ID, "dislike"), 200, 0)
	r = soDelete(e, a, "/api/v1/swipes/latest")
	soExpect(t, r, 200, 0)
	r.Decode(t, &rw)
	if rw.User.ID != bs[3].ID || rw.Action != "dislike" {
		t.Fatalf("first rewind: %s", r.Body)
	}
	r = soDelete(e, a, "/api/v1/swipes/latest")
	soExpect(t, r, 200, 0)
	r.Decode(t, &rw)
	if rw.User.ID != bs[2].ID || rw.Action != "like" {
		t.Fatalf("second rewind: %s", r.Body)
	}
	// Quota of 3 used: the next one is 2006 with Retry-After to midnight,
	// even though a swipe is there to rewind.
	soExpect(t, soSwipe(e, a, bs[4].ID, "like"), 200, 0)
	r = soDelete(e, a, "/api/v1/swipes/latest")
	soExpect(t, r, 429, 2006)
	if got, want := r.Header.Get("Retry-After"), strconv.Itoa(soSecondsToMidnight(e)); got != want {
		t.Fatalf("Retry-After %s, want %s", got, want)
	}
	if v := soVipOf(t, e, a); v.Quotas.RewindsLeftToday != 0 {
		t.Fatalf("rewinds left: %+v", v)
	}
	// The rewound users came back into play: a can swipe them again.
	soExpect(t, soSwipe(e, a, bs[2].ID, "dislike"), 200, 0)
	soExpect(t, soSwipe(e, a, bs[0].ID, "like"), 200, 0)

	// Window: 301 s later → 2005 (conflict wins over the used-up quota? no:
	// the conflict class comes first).
	e.Clock.Advance(301 * time.Second)
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 409, 2005)
	// A new day: rewinds again, but the window still applies.
	e.Clock.Advance(time.Duration(soSecondsToMidnight(e)) * time.Second)
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 409, 2005)
	soExpect(t, soSwipe(e, a, bs[5].ID, "like"), 200, 0)
	e.Clock.Advance(299 * time.Second)
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 200, 0)
}

func TestSocialRewindWindowFakeClock(t *testing.T) {
	e := apptest.New(t)
	a, b := soNewUser(t, e), soNewUser(t, e)
	soVIP(t, e, a, 2)
	soExpect(t, soSwipe(e, a, b.ID, "like"), 200, 0)
	e.Clock.Advance(301 * time.Second)
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 409, 2005)
}

func TestSocialParallelRewinds(t *testing.T) {
	e := apptest.New(t)
	soMorning(e)
	a := soNewUser(t, e)
	soVIP(t, e, a, 2)
	for range 10 {
		b := soNewUser(t, e)
		soExpect(t, soSwipe(e, a, b.ID, "like"), 200, 0)
	}
	var okN, limited atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := soDelete(e, a, "/api/v1/swipes/latest")
			switch {
			case r.Status == 200:
				okN.Add(1)
			case r.Status == 429 && r.Code == 2006:
				limited.Add(1)
			default:
				t.Errorf("unexpected %d %s", r.Status, r.Body)
			}
		}()
	}
	close(start)
	wg.Wait()
	if okN.Load() != 3 || limited.Load() != 7 {
		t.Fatalf("%d rewinds succeeded, %d limited", okN.Load(), limited.Load())
	}
	if n := soCount(t, e, "SELECT COUNT(*) FROM swipes WHERE swiper_id = ?", a.ID); n != 7 {
		t.Fatalf("%d swipes left", n)
	}
	if n := soCount(t, e, "SELECT rewinds FROM daily_quotas WHERE user_id = ?", a.ID); n != 3 {
		t.Fatalf("%d rewinds counted", n)
	}
	if n := soCount(t, e, "SELECT likes FROM daily_quotas WHERE user_id = ?", a.ID); n != 7 {
		t.Fatalf("%d likes counted", n)
	}
}

func TestSocialLikesReceived(t *testing.T) {
	e := apptest.New(t)
	me := soNewUser(t, e)
	c, d, f, g := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	soVIP(t, e, d, 1)
	// Permission first, even with nobody and with bad queries' absence.
	soExpect(t, soGet(e, me, "/api/v1/likes/received"), 403, 3001)
	soExpect(t, soSwipe(e, c, me.ID, "like"), 200, 0)
	e.Clock.Advance(time.Second)
	soExpect(t, soSwipe(e, d, me.ID, "superlike"), 200, 0)
	e.Clock.Advance(time.Second)
	soExpect(t, soSwipe(e, f, me.ID, "like"), 200, 0)
	e.Clock.Advance(time.Second)
	soExpect(t, soSwipe(e, g, me.ID, "dislike"), 200, 0)
	r := soGet(e, me, "/api/v1/likes/received")
	soExpect(t, r, 403, 3001)
	if !strings.Contains(string(r.Data), "who_liked_me") {
		t.Fatalf("3001 should name the permission: %s", r.Body)
	}
	for _, lvl := range []int{1, 2} {
		soVIP(t, e, me, lvl)
		soExpect(t, soGet(e, me, "/api/v1/likes/received"), 403, 3001)
	}
	soVIP(t, e, me, 3)
	type page struct {
		Total int      `json:"total"`
		Users []soCard `json:"users"`
	}
	get := func(q string) page {
		r := soGet(e, me, "/api/v1/likes/received"+q)
		soExpect(t, r, 200, 0)
		var p page
		r.Decode(t, &p)
		return p
	}
	p := get("")
	if p.Total != 3 || !slices.Equal(soIDs(p.Users), []int64{d.ID, f.ID, c.ID}) {
		t.Fatalf("likers: %+v", p)
	}
	if !p.Users[0].SuperlikedMe || p.Users[1].SuperlikedMe || p.Users[2].SuperlikedMe {
		t.Fatalf("superliked_me flags: %+v", p.Users)
	}
	p = get("?limit=1&page=2")
	if p.Total != 3 || len(p.Users) != 1 || p.Users[0].ID != f.ID {
		t.Fatalf("page 2: %+v", p)
	}
	p = get("?limit=100&page=9")
	if p.Total != 3 || len(p.Users) != 0 {
		t.Fatalf("page beyond: %+v", p)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=abc", "page=0", "page=-2", "page=x"} {
		soExpect(t, soGet(e, me, "/api/v1/likes/received?"+q), 400, 1001)
	}
	// Once I swiped them, they are gone.
	soExpect(t, soSwipe(e, me, f.ID, "dislike"), 200, 0)
	p = get("")
	if p.Total != 2 || !slices.Equal(soIDs(p.Users), []int64{d.ID, c.ID}) {
		t.Fatalf("after swiping f: %+v", p)
	}
}

func TestSocialPlainLikesDoNotLeak(t *testing.T) {
	e := apptest.New(t)
	me := soNewUser(t, e)
	liker, superliker := soNewUser(t, e), soNewUser(t, e)
	soVIP(t, e, superliker, 1)
	soExpect(t, soSwipe(e, liker, me.ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, superliker, me.ID, "superlike"), 200, 0)
	// The deck shows the superliker first, flagged; the plain liker, if at
	// all, as any other candidate.
	cs := soDeck(t, e, me, 50)
	if len(cs) == 0 || cs[0].ID != superliker.ID || !cs[0].SuperlikedMe {
		t.Fatalf("deck: %+v", cs)
	}
	for _, c := range cs[1:] {
		if c.SuperlikedMe {
			t.Fatalf("plain like flagged: %+v", c)
		}
	}
	soExpect(t, soGet(e, me, "/api/v1/likes/received"), 403, 3001)
	for _, path := range []string{fmt.Sprintf("/api/v1/users/%d", liker.ID), "/api/v1/rank", "/api/v1/matches", "/api/v1/users/me", "/api/v1/vip"} {
		r := soGet(e, me, path)
		soExpect(t, r, 200, 0)
		var anyBody any
		_ = json.Unmarshal(r.Data, &anyBody)
		soWalkCards(anyBody, func(c map[string]any) {
			if c["superliked_me"] == true && c["id"] != float64(superliker.ID) {
				t.Fatalf("%s flags %v as superliked_me", path, c["id"])
			}
		})
	}
}

func soWalkCards(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["superliked_me"]; ok {
			f(x)
		}
		for _, y := range x {
			soWalkCards(y, f)
		}
	case []any:
		for _, y := range x {
			soWalkCards(y, f)
		}
	}
}

func TestSocialRank(t *testing.T) {
	e := apptest.New(t)
	soMorning(e)
	var us []soUser
	for range 8 {
		us = append(us, soNewUser(t, e))
	}
	for _, u := range us {
		soVIP(t, e, u, 3)
	}
	// scores: u1 = 10 (two likes), u2 = 7 (superlike), u3 = 5, u4 = 5 (tie:
	// lower id first), u5 = -5 (not ranked: only positive scores are)
	soExpect(t, soSwipe(e, us[0], us[1].ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, us[6], us[1].ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, us[0], us[2].ID, "superlike"), 200, 0)
	soExpect(t, soSwipe(e, us[0], us[4].ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, us[6], us[3].ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, us[0], us[5].ID, "dislike"), 200, 0)
	type entry struct {
		Rank  int    `json:"rank"`
		Score int64  `json:"score"`
		User  soCard `json:"user"`
	}
	get := func(q string) []entry {
		r := soGet(e, us[7], "/api/v1/rank"+q)
		soExpect(t, r, 200, 0)
		var es []entry
		r.Decode(t, &es)
		return es
	}
	es := get("")
	want := []struct {
		id    int64
		score int64
	}{{us[1].ID, 10}, {us[2].ID, 7}, {us[3].ID, 5}, {us[4].ID, 5}}
	if len(es) != len(want) {
		t.Fatalf("rank: %+v", es)
	}
	for i, w := range want {
		if es[i].Rank != i+1 || es[i].User.ID != w.id || es[i].Score != w.score {
			t.Fatalf("rank[%d] = %+v, want %+v", i, es[i], w)
		}
	}
	if es := get("?limit=2"); len(es) != 2 || es[1].User.ID != us[2].ID {
		t.Fatalf("limit 2: %+v", es)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=ten"} {
		soExpect(t, soGet(e, us[7], "/api/v1/rank?"+q), 400, 1001)
	}
	// A rewind takes the score back; a user with no swipe left leaves the rank.
	soExpect(t, soDelete(e, us[0], "/api/v1/swipes/latest"), 200, 0) // dislike of u5
	soExpect(t, soDelete(e, us[0], "/api/v1/swipes/latest"), 200, 0) // like of u4
	es = get("")
	if len(es) != 3 || es[2].User.ID != us[3].ID {
		t.Fatalf("after rewinds: %+v", es)
	}
	// 0 is not ranked: u5 liked then disliked; a like more and u5 is.
	soExpect(t, soSwipe(e, us[0], us[5].ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, us[6], us[5].ID, "dislike"), 200, 0)
	if es = get(""); len(es) != 3 {
		t.Fatalf("zero score ranked: %+v", es)
	}
	soExpect(t, soSwipe(e, us[7], us[5].ID, "like"), 200, 0)
	es = get("")
	if len(es) != 4 || es[3].User.ID != us[5].ID || es[3].Score != 5 {
		t.Fatalf("positive again: %+v", es)
	}
}

func TestSocialRecommendations(t *testing.T) {
	e := apptest.New(t)
	ctx := context.Background()
	me := soNewUser(t, e) // male, 北京, wants female 18-50, born 1990
	woman := func(user, prefs map[string]any) soUser {
		u := soNewUser(t, e)
		user["gender"] = "female"
		soPatch(t, e, u, "/api/v1/users/me", user)
		if prefs == nil {
			prefs = map[string]any{}
		}
		if _, ok := prefs["dating_gender"]; !ok {
			prefs["dating_gender"] = "male"
		}
		soPatch(t, e, u, "/api/v1/users/me/profile", prefs)
		return u
	}
	var women []soUser
	for range 30 {
		women = append(women, woman(map[string]any{}, nil))
	}
	men := soNewUser(t, e)                                                      // same gender: not in my deck
	shanghai := woman(map[string]any{"city": "上海"}, nil)                        // another city, no location
	old := woman(map[string]any{"birthday": "1950-01-01"}, nil)                 // too old for me
	picky := woman(map[string]any{}, map[string]any{"dating_gender": "female"}) // I do not fit her gender
	youngOnly := woman(map[string]any{}, map[string]any{"max_dating_age": 25})  // I (born 1990) am too old for her

	for _, q := range []string{"limit=0", "limit=51", "limit=abc", "limit=-1", "limit="} {
		soExpect(t, soGet(e, me, "/api/v1/recommendations?"+q), 400, 1001)
	}
	r := soGet(e, me, "/api/v1/recommendations")
	soExpect(t, r, 200, 0)
	var def []soCard
	r.Decode(t, &def)
	if len(def) != 20 {
		t.Fatalf("default limit: %d cards", len(def))
	}
	deck := soDeck(t, e, me, 50)
	ids := soIDs(deck)
	if len(deck) != 30 {
		t.Fatalf("deck has %d cards, want the 30 fitting women: %v", len(deck), ids)
	}
	for _, bad := range []soUser{me, men, shanghai, old, picky, youngOnly} {
		if slices.Contains(ids, bad.ID) {
			t.Fatalf("deck contains %d", bad.ID)
		}
	}
	if slices.IsSorted(ids) {
		t.Fatalf("deck in id order: %v", ids)
	}
	// Stable for the viewer and day; fetching consumes nothing.
	if again := soIDs(soDeck(t, e, me, 50)); !slices.Equal(again, ids) {
		t.Fatalf("deck changed between calls:\n%v\n%v", ids, again)
	}
	// Another viewer with the same preferences sees another order.
	me2 := soNewUser(t, e)
	if other := soIDs(soDeck(t, e, me2, 50)); slices.Equal(other, ids) || len(other) != 30 {
		t.Fatalf("two viewers, same order: %v", other)
	}

	// Activity bands: active in 24 h, then 7 days, then the rest.
	now := e.Clock.Now()
	band := map[int64]int{}
	for i, u := range women {
		at := now.Add(-30 * 24 * time.Hour)
		switch i % 3 {
		case 0:
			at, band[u.ID] = now.Add(-time.Hour), 0
		case 1:
			at, band[u.ID] = now.Add(-3*24*time.Hour), 1
		default:
			band[u.ID] = 2
		}
		if _, err := e.DB().NewUpdate().Table("users").Set("active_at = ?", at).Where("id = ?", u.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Written around the services: the index learns it from its poll.
	if err := e.App.Deck.Fresh(ctx); err != nil {
		t.Fatal(err)
	}
	deck = soDeck(t, e, me, 50)
	for i := 1; i < len(deck); i++ {
		if band[deck[i-1].ID] > band[deck[i].ID] {
			t.Fatalf("bands out of order at %d: %v", i, soIDs(deck))
		}
	}

	// A superliker comes first whatever the filters (a man from 上海).
	sl := soNewUser(t, e)
	soPatch(t, e, sl, "/api/v1/users/me", map[string]any{"city": "上海"})
	soVIP(t, e, sl, 1)
	soExpect(t, soSwipe(e, sl, me.ID, "superlike"), 200, 0)
	deck = soDeck(t, e, me, 5)
	if len(deck) != 5 || deck[0].ID != sl.ID || !deck[0].SuperlikedMe {
		t.Fatalf("superliker not first: %+v", deck)
	}
	for _, c := range deck[1:] {
		if c.SuperlikedMe {
			t.Fatalf("flag on a non-superliker: %+v", c)
		}
	}

	// Swiped (any action) and matched users leave the deck.
	soExpect(t, soSwipe(e, me, deck[1].ID, "dislike"), 200, 0)
	soExpect(t, soSwipe(e, me, deck[2].ID, "like"), 200, 0)
	soExpect(t, soSwipe(e, me, sl.ID, "like"), 200, 0) // a match with the superliker
	gone := []int64{deck[1].ID, deck[2].ID, sl.ID}
	deck = soDeck(t, e, me, 50)
	for _, id := range gone {
		if slices.Contains(soIDs(deck), id) {
			t.Fatalf("swiped/matched %d still in deck", id)
		}
	}
	if len(deck) != 28 {
		t.Fatalf("deck has %d, want 28", len(deck))
	}
	// Rewound: back in the deck (after unmatching: the like that made the
	// match cannot be rewound while the match stands).
	soVIP(t, e, me, 2)
	soExpect(t, soDelete(e, me, "/api/v1/swipes/latest"), 409, 2010)
	soExpect(t, soDelete(e, me, fmt.Sprintf("/api/v1/matches/%d", sl.ID)), 200, 0)
	soExpect(t, soDelete(e, me, "/api/v1/swipes/latest"), 200, 0) // the like of sl
	deck = soDeck(t, e, me, 1)
	if len(deck) != 1 || deck[0].ID != sl.ID || !deck[0].SuperlikedMe {
		t.Fatalf("rewound superliker not back first: %+v", deck)
	}
}

// TestSocialDeckProperty: random users with random preferences; nobody in
// any deck fails the filters, and a deck is never shorter than it could be.
func TestSocialDeckProperty(t *testing.T) {
	e := apptest.New(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	cities := []string{"北京", "上海"}
	n := 70
	users := make([]soUser, n)
	for i := range users {
		u := soNewUser(t, e)
		users[i] = u
		patch := map[string]any{
			"gender":   []string{"male", "female"}[rng.IntN(2)],
			"birthday": fmt.Sprintf("%04d-%02d-%02d", 1960+rng.IntN(45), 1+rng.IntN(12), 1+rng.IntN(28)),
			"city":     cities[rng.IntN(2)],
		}
		if rng.IntN(4) > 0 { // most share a location, within ~60 km of each other
			patch["lat"] = 39.9 + rng.NormFloat64()*0.25
			patch["lng"] = 116.4 + rng.NormFloat64()*0.25
		}
		soPatch(t, e, u, "/api/v1/users/me", patch)
		minD := rng.IntN(20)
		minA := 18 + rng.IntN(30)
		soPatch(t, e, u, "/api/v1/users/me/profile", map[string]any{
			"dating_gender":  []string{"male", "female", "any"}[rng.IntN(3)],
			"min_distance":   minD,
			"max_distance":   minD + rng.IntN(60),
			"min_dating_age": minA,
			"max_dating_age": minA + rng.IntN(40),
		})
	}
	// A few swipes, so that exclusions are exercised too.
	for range 60 {
		a, b := users[rng.IntN(n)], users[rng.IntN(n)]
		if a.ID != b.ID {
			_ = soSwipe(e, a, b.ID, []string{"like", "dislike"}[rng.IntN(2)])
		}
	}
	st := e.App.Store
	now := e.Clock.Now()
	tz := e.Cfg.Timezone
	rows := map[int64]model.User{}
	prefs := map[int64]model.Profile{}
	for _, u := range users {
		row, err := st.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		rows[u.ID] = row
		p, err := st.Profile(ctx, u.ID, model.Profile{})
		if err != nil {
			t.Fatal(err)
		}
		prefs[u.ID] = p
	}
	excluded := func(v, c int64) bool {
		a, b := min(v, c), max(v, c)
		return soCount(t, e, "SELECT COUNT(*) FROM swipes WHERE swiper_id = ? AND swiped_id = ?", v, c) > 0 ||
			soCount(t, e, "SELECT COUNT(*) FROM matches WHERE user_a = ? AND user_b = ?", a, b) > 0
	}
	fits := func(v, c int64) bool {
		vu, cu, vp, cp := rows[v], rows[c], prefs[v], prefs[c]
		if v == c || excluded(v, c) {
			return false
		}
		if vp.DatingGender != "any" && vp.DatingGender != cu.Gender {
			return false
		}
		if cp.DatingGender != "any" && cp.DatingGender != vu.Gender {
			return false
		}
		ca, va := profile.AgeOn(cu.Birthday, now, tz), profile.AgeOn(vu.Birthday, now, tz)
		if ca < vp.MinDatingAge || ca > vp.MaxDatingAge || va < cp.MinDatingAge || va > cp.MaxDatingAge {
			return false
		}
		if d := profile.DistanceKM(vu, cu); d != nil {
			return *d >= vp.MinDistance && *d <= vp.MaxDistance
		}
		return cu.City == vp.DatingCity
	}
	superliked := func(v, c int64) bool {
		return soCount(t, e, "SELECT COUNT(*) FROM swipes WHERE swiper_id = ? AND swiped_id = ? AND action = 2", c, v) > 0
	}
	checked := 0
	for _, v := range users {
		deck := soDeck(t, e, v, 50)
		for _, c := range deck {
			if c.SuperlikedMe && superliked(v.ID, c.ID) {
				continue
			}
			if !fits(v.ID, c.ID) {
				t.Fatalf("deck of %d has %d, who fails the filters\nviewer %+v %+v\ncandidate %+v %+v",
					v.ID, c.ID, rows[v.ID], prefs[v.ID], rows[c.ID], prefs[c.ID])
			}
			if d := profile.DistanceKM(rows[v.ID], rows[c.ID]); (d == nil) != (c.DistanceKM == nil) || (d != nil && *d != *c.DistanceKM) {
				t.Fatalf("distance_km %v, want %v", c.DistanceKM, d)
			}
			checked++
		}
		eligible := 0
		for _, c := range users {
			if fits(v.ID, c.ID) {
				eligible++
			}
		}
		if len(deck) != min(50, eligible) {
			t.Fatalf("deck of %d has %d cards, %d users fit", v.ID, len(deck), eligible)
		}
	}
	t.Logf("%d cards checked", checked)
}

// TestSocialNoPrivateData: no social answer carries another user's phone,
// birthday or coordinates.
func TestSocialNoPrivateData(t *testing.T) {
	e := apptest.New(t)
	me := soNewUser(t, e)
	other := soNewUser(t, e)
	third := soNewUser(t, e)
	soVIP(t, e, me, 3)
	soVIP(t, e, other, 3)
	soPatch(t, e, me, "/api/v1/users/me", map[string]any{"lat": 39.91234, "lng": 116.40123, "birthday": "1991-03-04"})
	soPatch(t, e, other, "/api/v1/users/me", map[string]any{"gender": "female", "lat": 39.95678, "lng": 116.45678, "birthday": "1993-07-08"})
	soPatch(t, e, third, "/api/v1/users/me", map[string]any{"gender": "female", "birthday": "1994-02-03"})
	soExpect(t, soSwipe(e, third, me.ID, "like"), 200, 0)
	var bodies []*apptest.Response
	bodies = append(bodies, soGet(e, me, "/api/v1/recommendations?limit=50"))
	bodies = append(bodies, soSwipe(e, other, me.ID, "superlike"))
	bodies = append(bodies, soGet(e, me, "/api/v1/likes/received"))
	bodies = append(bodies, soGet(e, me, "/api/v1/recommendations?limit=50"))
	bodies = append(bodies, soSwipe(e, me, other.ID, "like"))
	bodies = append(bodies, soGet(e, me, "/api/v1/matches"))
	bodies = append(bodies, soGet(e, other, "/api/v1/matches"))
	bodies = append(bodies, soGet(e, me, "/api/v1/rank"))
	bodies = append(bodies, soGet(e, other, "/api/v1/rank"))
	bodies = append(bodies, soSwipe(e, me, third.ID, "dislike")) // a swipe without a match: rewindable
	bodies = append(bodies, soDelete(e, me, "/api/v1/swipes/latest"))
	bodies = append(bodies, soGet(e, me, "/api/v1/vip"))
	secrets := []string{other.Phone, strings.TrimPrefix(other.Phone, "+86"), "1993-07-08", "39.95", "116.45", "3996", "11646",
		third.Phone, strings.TrimPrefix(third.Phone, "+86"), "1994-02-03", me.Phone, "1991-03-04", "39.91", "116.40"}
	for i, r := range bodies {
		if r.Status != 200 {
			t.Fatalf("call %d: %d %s", i, r.Status, r.Body)
		}
		for _, s := range secrets {
			if strings.Contains(string(r.Body), s) {
				t.Fatalf("call %d leaks %q: %s", i, s, r.Body)
			}
		}
		for _, k := range []string{`"phone"`, `"birthday"`, `"lat"`, `"lng"`, `"cell_lat"`, `"cell_lng"`, `"dating_`, `"only_matched"`} {
			if strings.Contains(string(r.Body), k) {
				t.Fatalf("call %d has %s: %s", i, k, r.Body)
			}
		}
	}
}

// TestSocialVipQuotas: GET /vip reports the real quotas of today.
func TestSocialVipQuotas(t *testing.T) {
	e := apptest.New(t)
	soMorning(e)
	a, b, c := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	soVIP(t, e, a, 2)
	soExpect(t, soSwipe(e, a, b.ID, "superlike"), 200, 0)
	soExpect(t, soSwipe(e, a, c.ID, "dislike"), 200, 0)
	v := soVipOf(t, e, a)
	if v.Level != 2 || *v.Quotas.LikesLeftToday != 99 || v.Quotas.RewindsLeftToday != 3 {
		t.Fatalf("%+v", v)
	}
	soExpect(t, soDelete(e, a, "/api/v1/swipes/latest"), 200, 0)
	v = soVipOf(t, e, a)
	if *v.Quotas.LikesLeftToday != 99 || v.Quotas.RewindsLeftToday != 2 {
		t.Fatalf("after rewinding a dislike: %+v", v)
	}
	// The next day starts fresh.
	e.Clock.Advance(24 * time.Hour)
	soVIP(t, e, a, 2)
	v = soVipOf(t, e, a)
	if *v.Quotas.LikesLeftToday != 100 || v.Quotas.RewindsLeftToday != 3 {
		t.Fatalf("next day: %+v", v)
	}
}
