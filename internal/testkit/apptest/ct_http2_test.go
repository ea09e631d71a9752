package apptest_test

// Contract tests of issue 10 for the HTTP layer and the user profile:
// cross-origin cookie requests (4003), one JSON value per body, queries that
// do not parse, names, unclean /api/ paths, the location and profile-view
// limits (2008) and dating_gender following gender. Helpers start with h2.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

// h2Cookie is a header that authenticates by the session cookie, plus the
// given header pairs.
func h2Cookie(tok string, kv ...string) http.Header {
	h := http.Header{"Cookie": {"swiper_session=" + tok}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// h2Upload posts a photo with the given headers (no bearer token).
func h2Upload(t testing.TB, e *apptest.Env, hdr http.Header, data []byte) *apptest.Response {
	t.Helper()
	body, ct := ctMultipart(t, [2]any{"photo", data})
	return e.Do(apptest.Request{Method: "POST", Path: ctPhotosPath, Body: body, ContentType: ct, Header: hdr})
}

func h2Photos(t testing.TB, e *apptest.Env, tok string) int {
	t.Helper()
	return len(ctMe(t, e, tok)["photos"].([]any))
}

// A state change authenticated by the cookie from another origin is refused
// with 403 4003 and changes nothing; the same origin, a Bearer token, a
// non-browser client (no Origin, no Sec-Fetch-Site) and reads pass.
func TestContractCrossOriginCookie(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	self := e.URL // the origin the test server is reached at (http://127.0.0.1:port)
	foreign := "http://evil.example"
	sameSite := strings.Replace(self, "127.0.0.1", "localhost", 1) // another origin

	// Multipart POST of a photo (the reported attack), from a foreign and
	// from a same-site origin: refused, no photo added.
	for _, origin := range []string{foreign, sameSite, "null", self + "/", "https" + strings.TrimPrefix(self, "http")} {
		r := h2Upload(t, e, h2Cookie(tok, "Origin", origin), ctPNG(t, 8, 8))
		if ctCheck(t, r, 403, 4003) == false {
			t.Logf("Origin %q", origin)
		}
	}
	if n := h2Photos(t, e, tok); n != 0 {
		t.Fatalf("cross-origin uploads added %d photos", n)
	}
	// Without Origin, Sec-Fetch-Site other than same-origin/none is refused.
	for _, site := range []string{"cross-site", "same-site"} {
		ctExpect(t, h2Upload(t, e, h2Cookie(tok, "Sec-Fetch-Site", site), ctPNG(t, 8, 8)), 403, 4003)
	}
	if n := h2Photos(t, e, tok); n != 0 {
		t.Fatalf("Sec-Fetch-Site cross uploads added %d photos", n)
	}

	// PATCH /users/me and /users/me/profile.
	r := e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":"Pwned"}`, Header: h2Cookie(tok, "Origin", foreign)})
	ctExpect(t, r, 403, 4003)
	r = e.Do(apptest.Request{Method: "PATCH", Path: ctProfilePath, JSON: `{"only_matched":false}`, Header: h2Cookie(tok, "Origin", foreign)})
	ctExpect(t, r, 403, 4003)
	r = e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":"Pwned"}`, Header: h2Cookie(tok, "Sec-Fetch-Site", "cross-site")})
	ctExpect(t, r, 403, 4003)
	if got := ctMe(t, e, tok)["nickname"]; got != "用户5678" {
		t.Fatalf("nickname %v after refused PATCHes", got)
	}
	if got := ctProfile(t, e, tok)["only_matched"]; got != true {
		t.Fatalf("only_matched %v after a refused PATCH", got)
	}

	// DELETE /sessions/current: the session survives.
	r = e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/sessions/current", Header: h2Cookie(tok, "Origin", foreign)})
	ctExpect(t, r, 403, 4003)
	if c := ctCookie(r.Header, "swiper_session"); c != nil {
		t.Errorf("a refused logout touched the cookie: %v", c)
	}
	ctMe(t, e, tok)

	// A swipe (POST JSON) is refused too.
	other := e.Login("13912345678")
	oid := ctID(t, e, other)
	r = e.Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", JSON: map[string]any{"user_id": oid, "action": "like"},
		Header: h2Cookie(tok, "Origin", foreign)})
	ctExpect(t, r, 403, 4003)

	// Reads with the cookie are not state changes.
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Header: h2Cookie(tok, "Origin", foreign)}), 200, 0)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Header: h2Cookie(tok, "Sec-Fetch-Site", "cross-site")}), 200, 0)

	// The same origin (as the web client sends it), in any case.
	r = e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":"Same"}`, Header: h2Cookie(tok, "Origin", self)})
	ctExpect(t, r, 200, 0)
	r = e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":"Upper"}`, Header: h2Cookie(tok, "Origin", strings.ToUpper(self))})
	ctExpect(t, r, 200, 0)
	ctExpect(t, h2Upload(t, e, h2Cookie(tok, "Origin", self, "Sec-Fetch-Site", "same-origin"), ctPNG(t, 8, 8)), 200, 0)
	// Without Origin: Sec-Fetch-Site same-origin or none, or no header at all.
	for _, hdr := range []http.Header{h2Cookie(tok, "Sec-Fetch-Site", "same-origin"), h2Cookie(tok, "Sec-Fetch-Site", "none"), h2Cookie(tok)} {
		r = e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":"Plain"}`, Header: hdr})
		ctExpect(t, r, 200, 0)
	}
	// Origin wins over Sec-Fetch-Site.
	r = e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":"Plain"}`, Header: h2Cookie(tok, "Origin", foreign, "Sec-Fetch-Site", "same-origin")})
	ctExpect(t, r, 403, 4003)

	// A Bearer token is not affected by Origin (a third-party client's
	// token cannot be sent by a foreign page).
	r = e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, Token: tok, JSON: `{"nickname":"Bearer"}`,
		Header: http.Header{"Origin": {foreign}, "Sec-Fetch-Site": {"cross-site"}}})
	ctExpect(t, r, 200, 0)
	ctExpect(t, e.Do(apptest.Request{Method: "POST", Path: ctPhotosPath, Token: tok,
		Header: http.Header{"Origin": {foreign}}, Body: strings.NewReader(""), ContentType: "text/plain"}), 400, 1001)
	r = e.Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: tok, JSON: map[string]any{"user_id": oid, "action": "like"},
		Header: http.Header{"Origin": {foreign}}})
	ctExpect(t, r, 200, 0)
	if n := h2Photos(t, e, tok); n != 1 {
		t.Errorf("%d photos, want the one same-origin upload", n)
	}
	// Logout with the cookie from the same origin works.
	r = e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/sessions/current", Header: h2Cookie(tok, "Origin", self)})
	ctExpect(t, r, 200, 0)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: tok}), 401, 1010)
}

// 1010 comes before 4003, and 4003 before 4002 and input errors (API.md §1).
func TestContractCrossOriginOrder(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	foreign := http.Header{"Origin": {"http://evil.example"}}
	bad := h2Cookie("not-a-session", "Origin", "http://evil.example")
	ctExpect(t, e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":"x"}`, Header: bad}), 401, 1010)
	ctExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/sessions/current", Header: bad}), 401, 1010)

	cookie := h2Cookie(tok, "Origin", foreign.Get("Origin"))
	huge := `{"nickname":"` + strings.Repeat("n", 70000) + `"}`
	ctExpect(t, e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: huge, Header: cookie}), 403, 4003)
	ctExpect(t, e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":""}`, Header: cookie}), 403, 4003)
	ctExpect(t, e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":"x"}]`, Header: cookie}), 403, 4003)
	ctExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: ctPhotosPath + "/0", Header: cookie}), 403, 4003)
	ctExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/matches/999999?x=%zz", Header: cookie}), 403, 4003)
	// Routing still comes first.
	ctExpect(t, e.Do(apptest.Request{Method: "PUT", Path: ctMePath, JSON: `{}`, Header: cookie}), 405, 4001)
	// And the same requests from the same origin get their own answers.
	same := h2Cookie(tok, "Origin", e.URL)
	ctExpect(t, e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: huge, Header: same}), 413, 4002)
	ctExpect(t, e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":""}`, Header: same}), 400, 1001)
}

// Behind a trusted proxy the scheme is the one the proxy reports; an
// untrusted X-Forwarded-Proto is ignored.
func TestContractCrossOriginScheme(t *testing.T) {
	t.Parallel()
	host := func(e *apptest.Env) string { return strings.TrimPrefix(e.URL, "http://") }
	patch := func(e *apptest.Env, tok, origin, proto string) *apptest.Response {
		hdr := h2Cookie(tok, "Origin", origin)
		if proto != "" {
			hdr.Set("X-Forwarded-Proto", proto)
		}
		return e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, JSON: `{"nickname":"Proxied"}`, Header: hdr})
	}
	proxied := apptest.New(t, ctTrustLocalhost())
	tok := proxied.Login("13812345678")
	ctExpect(t, patch(proxied, tok, "https://"+host(proxied), "https"), 200, 0)
	ctExpect(t, patch(proxied, tok, "http://"+host(proxied), "https"), 403, 4003)
	ctExpect(t, patch(proxied, tok, "http://"+host(proxied), ""), 200, 0)

	direct := apptest.New(t)
	tok = direct.Login("13812345678")
	ctExpect(t, patch(direct, tok, "https://"+host(direct), "https"), 403, 4003)
	ctExpect(t, patch(direct, tok, "http://"+host(direct), "https"), 200, 0)
}

// A body is one JSON value and nothing after it; a query that does not
// parse is 1001 (API.md §1).
func TestContractOneJSONValueAndQueries(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	other := e.Login("13912345678")
	oid := ctID(t, e, other)
	for _, body := range []string{`{"nickname":"a"}]`, `{"nickname":"a"}}`, `{"nickname":"a"},`, `{"nickname":"a"} x`, `{"nickname":"a"}{"nickname":"b"}`} {
		r := e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, Token: tok, JSON: body})
		ctExpect(t, r, 400, 1001)
		ctErrFields(t, r, "body")
		r = e.Do(apptest.Request{Method: "PATCH", Path: ctProfilePath, Token: tok, JSON: strings.Replace(body, `"nickname":"a"`, `"vibration":false`, 1)})
		ctExpect(t, r, 400, 1001)
	}
	if got := ctMe(t, e, tok)["nickname"]; got != "用户5678" {
		t.Fatalf("nickname %v after refused bodies", got)
	}
	if got := ctProfile(t, e, tok)["vibration"]; got != true {
		t.Fatalf("vibration %v after refused bodies", got)
	}
	// POST bodies (unknown fields ignored) too: nothing swiped, no code sent.
	r := e.Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: tok, JSON: fmt.Sprintf(`{"user_id":%d,"action":"like"}]`, oid)})
	ctExpect(t, r, 400, 1001)
	n := e.SMS.Count("+8613700000000")
	ctExpect(t, e.Do(apptest.Request{Method: "POST", Path: ctCodesPath, JSON: `{"phone":"13700000000"}}`}), 400, 1001)
	ctExpect(t, e.Do(apptest.Request{Method: "POST", Path: ctSessionsPath, JSON: `{"phone":"13700000000","code":"123456"}]`}), 400, 1001)
	if e.SMS.Count("+8613700000000") != n {
		t.Error("a refused code request sent an SMS")
	}
	// Whitespace after the value is fine.
	ctExpect(t, e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, Token: tok, JSON: "{\"nickname\":\"ws\"} \r\n\t "}), 200, 0)

	// Queries.
	for _, path := range []string{
		"/api/v1/matches?limit=1000;", "/api/v1/matches?limit=5;page=1", "/api/v1/matches?limit=%zz",
		"/api/v1/recommendations?limit=5;", "/api/v1/likes/received?page=1;", "/api/v1/rank?limit=10;",
		"/api/v1/users/me?x=%g", "/api/v1/vip/plans?;",
	} {
		r := e.Do(apptest.Request{Method: "GET", Path: path, Token: tok})
		if ctCheck(t, r, 400, 1001) {
			ctErrFields(t, r, "query")
		}
	}
	// Not logged in: 1010 first.
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/matches?limit=1000;"}), 401, 1010)
	// Queries that parse keep working.
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/matches?limit=5&page=1", Token: tok}), 200, 0)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/vip?x=%41&y", Token: tok}), 200, 0)
}

// Nicknames and cities: at least one visible character, ZWJ emoji allowed,
// no control characters, line separators or noncharacters; 1-32 code points.
func TestContractNames(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	family := "👨\u200d👩\u200d👧"
	ok := []struct{ in, want string }{
		{family, family},
		{"Ann " + family, "Ann " + family},
		{"🇨🇳", "🇨🇳"},
		{"❤\ufe0f", "❤\ufe0f"},
		{"\u3000小明\u3000", "小明"},
		{"...", "..."},
		{strings.Repeat("😀", 32), strings.Repeat("😀", 32)},
		{"São Paulo", "São Paulo"},
	}
	for _, c := range ok {
		for _, field := range []string{"nickname", "city"} {
			r := ctPatch(e, ctMePath, tok, map[string]any{field: c.in})
			if !ctCheck(t, r, 200, 0) {
				continue
			}
			if got := ctObj(t, r)[field]; got != c.want {
				t.Errorf("%s %q stored as %q, want %q", field, c.in, got, c.want)
			}
		}
	}
	before := ctMe(t, e, tok)
	bad := []string{
		"\u3164", "\u115f\u1160", "\uffa0", "\u2800", "\u2800\u2800", " \u3164 ", "\u200b", "\u200d", "\u0301", "\ufe0f",
		"a\u2028b", "ab\u2028", "a\u2029b", "a\ufdd0", "a\ufdef", "a\ufffe", "a\uffff", "a\U0010fffe",
		"a\u0000b", "a\nb", "ab\n", "a\tb", "a\u007f", "a\u0085b",
		strings.Repeat("a", 33), strings.Repeat(family, 7), "",
	}
	for _, in := range bad {
		for _, field := range []string{"nickname", "city"} {
			r := ctPatch(e, ctMePath, tok, map[string]any{field: in})
			if ctCheck(t, r, 400, 1001) {
				ctErrFields(t, r, field)
			} else {
				t.Logf("%s %q", field, in)
			}
		}
		r := ctPatch(e, ctProfilePath, tok, map[string]any{"dating_city": in})
		if !ctCheck(t, r, 400, 1001) {
			t.Logf("dating_city %q", in)
		}
	}
	after := ctMe(t, e, tok)
	if before["nickname"] != after["nickname"] || before["city"] != after["city"] {
		t.Errorf("refused names were written: %v/%v → %v/%v", before["nickname"], before["city"], after["nickname"], after["city"])
	}
}

// Under /api/ a path that is not clean answers 404 4000 in the envelope,
// never the mux's 307 redirect with an HTML body.
func TestContractUncleanAPIPaths(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	for _, c := range []struct{ method, path string }{
		{"GET", "/api//v1/vip/plans"},
		{"GET", "/api/v1/./vip/plans"},
		{"GET", "/api/v1/vip/../vip/plans"},
		{"GET", "/api/v1/vip/plans/."},
		{"GET", "/api/v1/vip/plans/%2e"},
		{"GET", "/api/v1/vip/plans/%2E%2E/plans"},
		{"GET", "/api/v1/%2e/vip/plans"},
		{"GET", "/api/v1/vip//plans"},
		{"GET", "/api/v1/users//me"},
		{"GET", "/api//v1/vip/plans?limit=1"},
		{"POST", "/api//v1/sessions"},
		{"PATCH", "/api/v1/./users/me"},
		{"DELETE", "/api/v1/sessions/./current"},
	} {
		r := e.Do(apptest.Request{Method: c.method, Path: c.path, Token: tok, JSON: `{}`})
		if !ctCheck(t, r, 404, 4000) {
			t.Logf("%s %s", c.method, c.path)
		}
		if loc := r.Header.Get("Location"); loc != "" {
			t.Errorf("%s %s: Location %q", c.method, c.path, loc)
		}
	}
	// Still logged in (the DELETE above did not log out), and the clean
	// paths answer.
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: tok}), 200, 0)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/vip/plans"}), 200, 0)
}

// At most 10 changes of location per user per hour (2008); a PATCH that
// leaves the location as it is does not count, clearing does.
func TestContractLocationLimit(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	ctMorning(e) // 10:00 local: a UTC hour boundary in Asia/Shanghai, so the hour window starts now
	loc := func(i int) map[string]any { return map[string]any{"lat": 30 + float64(i)*0.1, "lng": 110.0} }
	changes := 0
	change := func(body map[string]any) {
		t.Helper()
		ctExpect(t, ctPatch(e, ctMePath, tok, body), 200, 0)
		changes++
	}
	noop := func(body map[string]any) {
		t.Helper()
		ctExpect(t, ctPatch(e, ctMePath, tok, body), 200, 0)
	}
	noop(map[string]any{"lat": nil, "lng": nil}) // nothing to clear
	change(loc(0))
	noop(loc(0))
	noop(map[string]any{"lat": 30.001, "lng": 110.001}) // the same ~1 km cell
	noop(map[string]any{"nickname": "Walker"})
	change(map[string]any{"lat": nil, "lng": nil}) // clearing counts
	for i := 1; changes < 10; i++ {
		change(loc(i))
		noop(loc(i))
	}
	before := ctMe(t, e, tok)
	e.Clock.Advance(20 * time.Minute)
	r := ctPatch(e, ctMePath, tok, map[string]any{"lat": 45.0, "lng": 120.0, "nickname": "Moved"})
	ctExpect(t, r, 429, 2008)
	if ra := r.Header.Get("Retry-After"); ra != "2400" {
		t.Errorf("Retry-After %q, want 2400 (the rest of the hour)", ra)
	}
	ctExpect(t, ctPatch(e, ctMePath, tok, map[string]any{"lat": nil, "lng": nil}), 429, 2008)
	after := ctMe(t, e, tok)
	if after["nickname"] != before["nickname"] || after["has_location"] != true {
		t.Errorf("a refused PATCH wrote: nickname %v, has_location %v", after["nickname"], after["has_location"])
	}
	// Input errors come before the limit; other fields are not limited.
	ctExpect(t, ctPatch(e, ctMePath, tok, map[string]any{"lat": 91, "lng": 120}), 400, 1001)
	ctExpect(t, ctPatch(e, ctMePath, tok, map[string]any{"nickname": "Still"}), 200, 0)
	// Another user is not limited.
	other := e.Login("13912345678")
	ctExpect(t, ctPatch(e, ctMePath, other, loc(0)), 200, 0)
	// The next hour.
	e.Clock.Advance(40 * time.Minute)
	ctExpect(t, ctPatch(e, ctMePath, tok, map[string]any{"lat": 45.0, "lng": 120.0}), 200, 0)
}

// At most 300 Cards per viewer per 10 minutes (2008); an unknown user is
// still 1003.
func TestContractProfileViewLimit(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	viewer := e.Login("13812345678")
	target := e.Login("13912345678")
	tid := ctID(t, e, target)
	ctMorning(e) // 10:00 local: a 10-minute boundary
	path := fmt.Sprintf("/api/v1/users/%d", tid)
	for i := 0; i < 300; i++ {
		r := e.Do(apptest.Request{Method: "GET", Path: path, Token: viewer})
		if r.Status != 200 {
			t.Fatalf("view %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	e.Clock.Advance(4 * time.Minute)
	r := e.Do(apptest.Request{Method: "GET", Path: path, Token: viewer})
	ctExpect(t, r, 429, 2008)
	if ra := r.Header.Get("Retry-After"); ra != "360" {
		t.Errorf("Retry-After %q, want 360", ra)
	}
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/users/99999999", Token: viewer}), 404, 1003)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/users/0", Token: viewer}), 400, 1001)
	// Another viewer is not limited, nor are the viewer's other routes.
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: path, Token: target}), 200, 0)
	ctMe(t, e, viewer)
	e.Clock.Advance(6 * time.Minute)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: path, Token: viewer}), 200, 0)
}

// Until the user first changes the profile, dating_gender follows gender,
// in the profile and in the deck.
func TestContractDatingGenderFollowsGender(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	she := e.Login("13812345678")
	he := e.Login("13912345678")
	sid, hid := ctID(t, e, she), ctID(t, e, he)
	deck := func(tok string) map[int64]bool {
		t.Helper()
		r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/recommendations?limit=50", Token: tok})
		ctExpect(t, r, 200, 0)
		var cs []struct {
			ID int64 `json:"id"`
		}
		r.Decode(t, &cs)
		ids := map[int64]bool{}
		for _, c := range cs {
			ids[c.ID] = true
		}
		return ids
	}
	// Both new and male (looking for women): neither sees the other.
	if deck(he)[sid] || deck(she)[hid] {
		t.Fatal("two new men see each other")
	}
	ctExpect(t, ctPatch(e, ctMePath, she, map[string]any{"gender": "female"}), 200, 0)
	if got := ctProfile(t, e, she)["dating_gender"]; got != "male" {
		t.Fatalf("new user set gender female: dating_gender %v, want male", got)
	}
	// The deck uses the same value, on both sides.
	if !deck(he)[sid] {
		t.Error("he does not see her after she set gender female")
	}
	if !deck(she)[hid] {
		t.Error("she does not see him after she set gender female")
	}
	// Back and forth, still following.
	ctExpect(t, ctPatch(e, ctMePath, she, map[string]any{"gender": "male"}), 200, 0)
	if got := ctProfile(t, e, she)["dating_gender"]; got != "female" {
		t.Fatalf("gender back to male: dating_gender %v, want female", got)
	}
	ctExpect(t, ctPatch(e, ctMePath, she, map[string]any{"gender": "female"}), 200, 0)
	// A change of the profile (any field) ends the following.
	ctExpect(t, ctPatch(e, ctProfilePath, she, map[string]any{"vibration": false}), 200, 0)
	ctExpect(t, ctPatch(e, ctMePath, she, map[string]any{"gender": "male"}), 200, 0)
	if got := ctProfile(t, e, she)["dating_gender"]; got != "male" {
		t.Fatalf("after a profile PATCH, gender male: dating_gender %v, want male kept", got)
	}
	// He chose explicitly; his gender change does not touch it.
	ctExpect(t, ctPatch(e, ctProfilePath, he, map[string]any{"dating_gender": "female"}), 200, 0)
	ctExpect(t, ctPatch(e, ctMePath, he, map[string]any{"gender": "female"}), 200, 0)
	if got := ctProfile(t, e, he)["dating_gender"]; got != "female" {
		t.Fatalf("explicit dating_gender female changed to %v by a gender change", got)
	}
	// An empty profile PATCH is no change: a third user still follows.
	third := e.Login("13712345678")
	ctExpect(t, ctPatch(e, ctProfilePath, third, map[string]any{}), 200, 0)
	ctExpect(t, ctPatch(e, ctMePath, third, map[string]any{"gender": "female"}), 200, 0)
	if got := ctProfile(t, e, third)["dating_gender"]; got != "male" {
		t.Fatalf("after an empty profile PATCH: dating_gender %v, want male", got)
	}
}
