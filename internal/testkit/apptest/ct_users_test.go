package apptest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

// ---------------------------------------------------------------- PATCH /users/me

func TestContractPatchMeValid(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	now := e.Clock.Now().In(e.Cfg.Timezone)
	exactly18 := time.Date(now.Year()-18, now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
	cjk32 := strings.Repeat("张", 32)
	cases := []struct {
		name  string
		body  string
		check map[string]any
	}{
		{"empty body changes nothing", `{}`, map[string]any{"nickname": "用户5678"}},
		{"nickname ascii", `{"nickname":"Bob"}`, map[string]any{"nickname": "Bob"}},
		{"nickname trimmed", `{"nickname":"  Alice  "}`, map[string]any{"nickname": "Alice"}},
		{"nickname 32 CJK", `{"nickname":"` + cjk32 + `"}`, map[string]any{"nickname": cjk32}},
		{"nickname 1 char", `{"nickname":"a"}`, map[string]any{"nickname": "a"}},
		{"gender female", `{"gender":"female"}`, map[string]any{"gender": "female"}},
		{"gender male", `{"gender":"male"}`, map[string]any{"gender": "male"}},
		{"birthday", `{"birthday":"1995-06-15"}`, map[string]any{"birthday": "1995-06-15"}},
		{"birthday exactly 18 today", `{"birthday":"` + exactly18 + `"}`, map[string]any{"birthday": exactly18, "age": float64(18)}},
		{"birthday leap day", `{"birthday":"2000-02-29"}`, map[string]any{"birthday": "2000-02-29"}},
		{"city", `{"city":"上海"}`, map[string]any{"city": "上海"}},
		{"city trimmed", `{"city":"  Zürich "}`, map[string]any{"city": "Zürich"}},
		{"city 32 chars", `{"city":"` + strings.Repeat("城", 32) + `"}`, map[string]any{"city": strings.Repeat("城", 32)}},
		{"location", `{"lat":39.9042,"lng":116.4074}`, map[string]any{"has_location": true}},
		{"location edges", `{"lat":-90,"lng":180}`, map[string]any{"has_location": true}},
		{"location cleared", `{"lat":null,"lng":null}`, map[string]any{"has_location": false}},
		{"several at once", `{"nickname":"小明","gender":"female","city":"广州","lat":23.1,"lng":113.3}`,
			map[string]any{"nickname": "小明", "gender": "female", "city": "广州", "has_location": true}},
		{"json charset", `{"nickname":"Charset"}`, map[string]any{"nickname": "Charset"}},
	}
	for _, c := range cases {
		ct := ""
		if c.name == "json charset" {
			ct = "application/json; charset=utf-8"
		}
		r := e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, Token: tok, JSON: c.body, ContentType: ct})
		if !ctCheck(t, r, 200, 0) {
			continue
		}
		got := ctObj(t, r)
		after := ctMe(t, e, tok)
		for k, v := range c.check {
			if got[k] != v {
				t.Errorf("%s: PATCH answer %s = %v, want %v", c.name, k, got[k], v)
			}
			if after[k] != v {
				t.Errorf("%s: GET after PATCH %s = %v, want %v", c.name, k, after[k], v)
			}
		}
		for _, k := range []string{"lat", "lng", "cell_lat", "cell_lng", "coordinates", "location"} {
			if _, ok := got[k]; ok {
				t.Errorf("%s: Me carries %q", c.name, k)
			}
		}
	}
}

func TestContractPatchMeInvalid(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	before := ctMe(t, e, tok)
	now := e.Clock.Now().In(e.Cfg.Timezone)
	under18 := time.Date(now.Year()-18, now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1).Format("2006-01-02")
	future := now.AddDate(1, 0, 0).Format("2006-01-02")
	cases := []struct {
		name   string
		body   string
		ct     string
		status int
		code   int
		fields []string
	}{
		{"nickname empty", `{"nickname":""}`, "", 400, 1001, []string{"nickname"}},
		{"nickname blank", `{"nickname":"   "}`, "", 400, 1001, []string{"nickname"}},
		{"nickname 33 chars", `{"nickname":"` + strings.Repeat("a", 33) + `"}`, "", 400, 1001, []string{"nickname"}},
		{"nickname 33 CJK", `{"nickname":"` + strings.Repeat("张", 33) + `"}`, "", 400, 1001, []string{"nickname"}},
		{"nickname number", `{"nickname":5}`, "", 400, 1001, []string{"nickname"}},
		{"nickname null", `{"nickname":null}`, "", 400, 1001, []string{"nickname"}},
		{"nickname control char", `{"nickname":"a\u0000b"}`, "", 400, 1001, []string{"nickname"}},
		{"gender other", `{"gender":"other"}`, "", 400, 1001, []string{"gender"}},
		{"gender case", `{"gender":"Male"}`, "", 400, 1001, []string{"gender"}},
		{"birthday malformed", `{"birthday":"1990/01/01"}`, "", 400, 1001, []string{"birthday"}},
		{"birthday short", `{"birthday":"1990-1-1"}`, "", 400, 1001, []string{"birthday"}},
		{"birthday Feb 30", `{"birthday":"1990-02-30"}`, "", 400, 1001, []string{"birthday"}},
		{"birthday Feb 29 non-leap", `{"birthday":"1991-02-29"}`, "", 400, 1001, []string{"birthday"}},
		{"birthday under 18", `{"birthday":"` + under18 + `"}`, "", 400, 1001, []string{"birthday"}},
		{"birthday future", `{"birthday":"` + future + `"}`, "", 400, 1001, []string{"birthday"}},
		{"birthday number", `{"birthday":19900101}`, "", 400, 1001, []string{"birthday"}},
		{"city empty", `{"city":""}`, "", 400, 1001, []string{"city"}},
		{"city too long", `{"city":"` + strings.Repeat("城", 33) + `"}`, "", 400, 1001, []string{"city"}},
		{"lat without lng", `{"lat":39.9}`, "", 400, 1000, []string{"lng"}},
		{"lng without lat", `{"lng":116.4}`, "", 400, 1000, []string{"lat"}},
		{"lat 91", `{"lat":91,"lng":116.4}`, "", 400, 1001, []string{"lat"}},
		{"lat -90.5", `{"lat":-90.5,"lng":116.4}`, "", 400, 1001, []string{"lat"}},
		{"lng 181", `{"lat":39.9,"lng":181}`, "", 400, 1001, []string{"lng"}},
		{"lat string", `{"lat":"39.9","lng":116.4}`, "", 400, 1001, []string{"lat"}},
		{"lat null lng number", `{"lat":null,"lng":116.4}`, "", 400, 1001, nil},
		{"unknown field", `{"foo":1}`, "", 400, 1001, []string{"foo"}},
		{"id", `{"id":99}`, "", 400, 1001, []string{"id"}},
		{"phone", `{"phone":"+8613900000000"}`, "", 400, 1001, []string{"phone"}},
		{"vip", `{"vip":{"level":3}}`, "", 400, 1001, []string{"vip"}},
		{"avatar", `{"avatar":"http://evil/x.jpg"}`, "", 400, 1001, []string{"avatar"}},
		{"age", `{"age":20}`, "", 400, 1001, []string{"age"}},
		{"valid with unknown", `{"nickname":"Mallory","phone":"+8613900000000"}`, "", 400, 1001, []string{"phone"}},
		{"several invalid", `{"nickname":"","gender":"x","birthday":"bad","city":""}`, "", 400, 1001,
			[]string{"nickname", "gender", "birthday", "city"}},
		{"valid and invalid", `{"nickname":"Partial","gender":"x"}`, "", 400, 1001, []string{"gender"}},
		{"not json", `nickname=x`, "", 400, 1001, []string{"body"}},
		{"json array", `[{"nickname":"x"}]`, "", 400, 1001, []string{"body"}},
		{"json null", `null`, "", 400, 1001, []string{"body"}},
		{"trailing data", `{"nickname":"x"}{}`, "", 400, 1001, []string{"body"}},
		{"wrong content type", `{"nickname":"Typed"}`, "text/plain", 400, 1001, []string{"body"}},
		{"too large", `{"nickname":"` + strings.Repeat("n", 70000) + `"}`, "", 413, 4002, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(apptest.Request{Method: "PATCH", Path: ctMePath, Token: tok, JSON: c.body, ContentType: c.ct})
			ctExpect(t, r, c.status, c.code)
			if c.fields != nil {
				ctErrFields(t, r, c.fields...)
			}
		})
	}
	// Nothing was written.
	after := ctMe(t, e, tok)
	b1, _ := json.Marshal(before)
	b2, _ := json.Marshal(after)
	if string(b1) != string(b2) {
		t.Errorf("rejected PATCHes changed the user:\nbefore %s\nafter  %s", b1, b2)
	}
}

// A PATCH followed at once by a GET (and by another user's view) returns the
// new value: no stale cache, on either path.
func TestContractPatchMeNoStaleRead(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	other := e.Login("13912345678")
	id := ctID(t, e, tok)
	for i := 0; i < 15; i++ {
		nick := fmt.Sprintf("nick-%d", i)
		ctExpect(t, ctPatch(e, ctMePath, tok, map[string]any{"nickname": nick}), 200, 0)
		if got := ctMe(t, e, tok)["nickname"]; got != nick {
			t.Fatalf("GET /users/me after PATCH: nickname %v, want %s", got, nick)
		}
		r := e.Do(apptest.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/users/%d", id), Token: other})
		ctExpect(t, r, 200, 0)
		if got := ctObj(t, r)["nickname"]; got != nick {
			t.Fatalf("GET /users/{id} after PATCH: nickname %v, want %s", got, nick)
		}
	}
}

func TestContractCityMovesDatingCity(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	if p := ctProfile(t, e, tok); p["dating_city"] != "北京" {
		t.Fatalf("default dating_city %v", p["dating_city"])
	}
	ctExpect(t, ctPatch(e, ctMePath, tok, map[string]any{"city": "上海"}), 200, 0)
	if p := ctProfile(t, e, tok); p["dating_city"] != "上海" {
		t.Errorf("non-VIP dating_city %v after city → 上海", p["dating_city"])
	}
	// Own city is always allowed; another one is not.
	ctExpect(t, ctPatch(e, ctProfilePath, tok, map[string]any{"dating_city": "上海"}), 200, 0)
	r := ctPatch(e, ctProfilePath, tok, map[string]any{"dating_city": "北京"})
	ctExpect(t, r, 403, 3001)
	if !strings.Contains(string(r.Body), "any_location") {
		t.Errorf("3001 does not name any_location: %s", r.Body)
	}

	// A VIP 3 user (any_location) keeps their dating_city when the city changes.
	ctRegisterVIP(t, e, "+8613700000001", 3, 30*24*time.Hour)
	vtok := e.Login("13700000001")
	ctExpect(t, ctPatch(e, ctProfilePath, vtok, map[string]any{"dating_city": "成都"}), 200, 0)
	ctExpect(t, ctPatch(e, ctMePath, vtok, map[string]any{"city": "深圳"}), 200, 0)
	if p := ctProfile(t, e, vtok); p["dating_city"] != "成都" {
		t.Errorf("VIP dating_city %v after city change, want 成都 kept", p["dating_city"])
	}
}

// ---------------------------------------------------------------- profile

var ctDefaultProfile = map[string]any{"dating_gender": "female", "dating_city": "北京", "min_distance": float64(0),
	"max_distance": float64(50), "min_dating_age": float64(18), "max_dating_age": float64(50),
	"vibration": true, "only_matched": true, "auto_play": true}

func TestContractProfileDefaultsAndValid(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	p := ctProfile(t, e, tok)
	for k, v := range ctDefaultProfile {
		if p[k] != v {
			t.Errorf("default %s = %v, want %v", k, p[k], v)
		}
	}
	if len(p) != len(ctDefaultProfile) {
		t.Errorf("profile keys %v", p)
	}
	cases := []map[string]any{
		{"dating_gender": "any"},
		{"dating_gender": "male"},
		{"min_distance": 0, "max_distance": 500},
		{"min_distance": 500},
		{"min_distance": 10, "max_distance": 10},
		{"min_dating_age": 18, "max_dating_age": 100},
		{"min_dating_age": 100},
		{"min_dating_age": 30, "max_dating_age": 30},
		{"vibration": false, "only_matched": false, "auto_play": false},
		{"dating_city": "  北京 "},
		{"max_distance": 20.0},
	}
	state := map[string]any{}
	for k, v := range p {
		state[k] = v
	}
	for _, c := range cases {
		r := ctPatch(e, ctProfilePath, tok, c)
		if !ctCheck(t, r, 200, 0) {
			continue
		}
		for k, v := range c {
			switch x := v.(type) {
			case int:
				v = float64(x)
			case string:
				v = strings.TrimSpace(x)
			}
			state[k] = v
		}
		got := ctObj(t, r)
		again := ctProfile(t, e, tok)
		for k, v := range state {
			if got[k] != v || again[k] != v {
				t.Errorf("after %v: %s = %v (answer) / %v (GET), want %v", c, k, got[k], again[k], v)
			}
		}
	}
	// Setting min_distance 500 needed max 500; reset works in one request.
	ctExpect(t, ctPatch(e, ctProfilePath, tok, map[string]any{"min_distance": 0, "max_distance": 50}), 200, 0)
	ctExpect(t, ctPatch(e, ctProfilePath, tok, `{}`), 200, 0)
}

func TestContractProfileInvalid(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	ctExpect(t, ctPatch(e, ctProfilePath, tok, map[string]any{"max_dating_age": 30}), 200, 0)
	before := ctProfile(t, e, tok)
	cases := []struct {
		name   string
		body   string
		ct     string
		status int
		code   int
		fields []string
	}{
		{"min_distance -1", `{"min_distance":-1}`, "", 400, 1001, []string{"min_distance"}},
		{"max_distance 501", `{"max_distance":501}`, "", 400, 1001, []string{"max_distance"}},
		{"min_dating_age 17", `{"min_dating_age":17}`, "", 400, 1001, []string{"min_dating_age"}},
		{"max_dating_age 101", `{"max_dating_age":101}`, "", 400, 1001, []string{"max_dating_age"}},
		{"min_distance 10.5", `{"min_distance":10.5}`, "", 400, 1001, []string{"min_distance"}},
		{"max_distance string", `{"max_distance":"20"}`, "", 400, 1001, []string{"max_distance"}},
		{"max_distance null", `{"max_distance":null}`, "", 400, 1001, []string{"max_distance"}},
		{"huge int", `{"max_distance":99999999999999999999}`, "", 400, 1001, []string{"max_distance"}},
		{"dating_gender other", `{"dating_gender":"other"}`, "", 400, 1001, []string{"dating_gender"}},
		{"dating_city empty", `{"dating_city":""}`, "", 400, 1001, []string{"dating_city"}},
		{"dating_city too long", `{"dating_city":"` + strings.Repeat("城", 33) + `"}`, "", 400, 1001, []string{"dating_city"}},
		{"vibration string", `{"vibration":"yes"}`, "", 400, 1001, []string{"vibration"}},
		{"only_matched number", `{"only_matched":1}`, "", 400, 1001, []string{"only_matched"}},
		{"auto_play null", `{"auto_play":null}`, "", 400, 1001, []string{"auto_play"}},
		{"unknown field", `{"user_id":2}`, "", 400, 1001, []string{"user_id"}},
		{"several", `{"min_distance":-1,"max_dating_age":101,"vibration":"x"}`, "", 400, 1001,
			[]string{"min_distance", "max_dating_age", "vibration"}},
		// Cross-field rules on the merged result (max_dating_age is 30 now).
		{"min age above stored max", `{"min_dating_age":40}`, "", 400, 1001, []string{"min_dating_age"}},
		{"both ages crossed", `{"min_dating_age":40,"max_dating_age":35}`, "", 400, 1001, nil},
		{"min distance above stored max", `{"min_distance":60}`, "", 400, 1001, []string{"min_distance"}},
		{"max distance below min", `{"min_distance":20,"max_distance":10}`, "", 400, 1001, nil},
		// Input errors win over the VIP permission.
		{"invalid plus other city", `{"dating_city":"上海","min_distance":-1}`, "", 400, 1001, []string{"min_distance"}},
		{"other city without VIP", `{"dating_city":"上海"}`, "", 403, 3001, nil},
		{"other city and valid change", `{"dating_city":"上海","auto_play":false}`, "", 403, 3001, nil},
		{"not json", `max_distance=1`, "", 400, 1001, []string{"body"}},
		{"wrong content type", `{"max_distance":20}`, "text/plain", 400, 1001, []string{"body"}},
		{"too large", `{"dating_city":"` + strings.Repeat("c", 70000) + `"}`, "", 413, 4002, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(apptest.Request{Method: "PATCH", Path: ctProfilePath, Token: tok, JSON: c.body, ContentType: c.ct})
			ctExpect(t, r, c.status, c.code)
			if c.fields != nil {
				ctErrFields(t, r, c.fields...)
			}
		})
	}
	after := ctProfile(t, e, tok)
	b1, _ := json.Marshal(before)
	b2, _ := json.Marshal(after)
	if string(b1) != string(b2) {
		t.Errorf("rejected PATCHes changed the profile:\nbefore %s\nafter  %s", b1, b2)
	}
}

// VIP 3 may set any dating_city. The level is granted (store write) before
// the user's first login, so no cached copy of the user exists yet; see
// ctRegisterVIP.
func TestContractProfileDatingCityWithVIP(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctRegisterVIP(t, e, "+8613812345678", 3, 30*24*time.Hour)
	tok := e.Login("13812345678")
	r := ctPatch(e, ctProfilePath, tok, map[string]any{"dating_city": "上海"})
	ctExpect(t, r, 200, 0)
	if got := ctObj(t, r)["dating_city"]; got != "上海" {
		t.Errorf("dating_city %v", got)
	}
	if got := ctProfile(t, e, tok)["dating_city"]; got != "上海" {
		t.Errorf("GET dating_city %v", got)
	}
	// Level 2 lacks any_location.
	ctRegisterVIP(t, e, "+8613912345678", 2, 30*24*time.Hour)
	tok2 := e.Login("13912345678")
	ctExpect(t, ctPatch(e, ctProfilePath, tok2, map[string]any{"dating_city": "上海"}), 403, 3001)
}

// ---------------------------------------------------------------- VIP

func TestContractVIPPlans(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	want := `[{"level":0,"name":"非会员","permissions":[]},` +
		`{"level":1,"name":"青铜会员","permissions":["vipflag","superlike"]},` +
		`{"level":2,"name":"白银会员","permissions":["vipflag","superlike","rewind"]},` +
		`{"level":3,"name":"黄金会员","permissions":["vipflag","superlike","rewind","who_liked_me","unlimited_like","any_location"]}]`
	for _, h := range []http.Header{nil, {"Authorization": {"Bearer garbage"}}} {
		r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/vip/plans", Header: h})
		ctExpect(t, r, 200, 0)
		var got, exp any
		_ = json.Unmarshal(r.Data, &got)
		_ = json.Unmarshal([]byte(want), &exp)
		g, _ := json.Marshal(got)
		x, _ := json.Marshal(exp)
		if string(g) != string(x) {
			t.Errorf("plans\n got %s\nwant %s", r.Data, want)
		}
	}
}

func TestContractVIPStatus(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/vip", Token: tok})
	ctExpect(t, r, 200, 0)
	want := `{"level":0,"name":"非会员","expires_at":null,"permissions":[],"quotas":{"likes_left_today":100,"rewinds_left_today":0}}`
	var got, exp any
	_ = json.Unmarshal(r.Data, &got)
	_ = json.Unmarshal([]byte(want), &exp)
	g, _ := json.Marshal(got)
	x, _ := json.Marshal(exp)
	if string(g) != string(x) {
		t.Errorf("vip status\n got %s\nwant %s", r.Data, want)
	}

	// A VIP 3 user: unlimited likes (null), 3 rewinds, expires_at set; after
	// expiry level 0 again.
	ctRegisterVIP(t, e, "+8613912345678", 3, 48*time.Hour)
	vtok := e.Login("13912345678")
	r = e.Do(apptest.Request{Method: "GET", Path: "/api/v1/vip", Token: vtok})
	ctExpect(t, r, 200, 0)
	var st struct {
		Level       int      `json:"level"`
		Name        string   `json:"name"`
		ExpiresAt   *string  `json:"expires_at"`
		Permissions []string `json:"permissions"`
		Quotas      struct {
			Likes   *int `json:"likes_left_today"`
			Rewinds int  `json:"rewinds_left_today"`
		} `json:"quotas"`
	}
	r.Decode(t, &st)
	if st.Level != 3 || st.Name != "黄金会员" || st.ExpiresAt == nil || st.Quotas.Likes != nil || st.Quotas.Rewinds != 3 || len(st.Permissions) != 6 {
		t.Errorf("VIP 3 status %s", r.Data)
	}
	if me := ctMe(t, e, vtok); me["vip"].(map[string]any)["level"] != float64(3) {
		t.Errorf("Me.vip %v", me["vip"])
	}
	e.Clock.Advance(49 * time.Hour)
	r = e.Do(apptest.Request{Method: "GET", Path: "/api/v1/vip", Token: vtok})
	ctExpect(t, r, 200, 0)
	r.Decode(t, &st)
	if st.Level != 0 || st.ExpiresAt != nil || st.Quotas.Likes == nil || *st.Quotas.Likes != 100 || st.Quotas.Rewinds != 0 {
		t.Errorf("expired VIP status %s", r.Data)
	}
}

// ---------------------------------------------------------------- GET /users/{id}

func TestContractUserCard(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	viewer := e.Login("13812345678")
	owner := e.Login("13912345678")
	ownerID := ctID(t, e, owner)
	viewerID := ctID(t, e, viewer)
	ctExpect(t, ctPatch(e, ctMePath, owner, map[string]any{"birthday": "1996-03-04", "nickname": "Owner"}), 200, 0)
	ctExpect(t, e.Upload("POST", ctPhotosPath, owner, "photo", "p.png", ctPNG(t, 20, 20)), 200, 0)
	ctExpect(t, e.Upload("PUT", ctAvatarPath, owner, "avatar", "a.png", ctPNG(t, 20, 20)), 200, 0)

	card := func(tok string, id int64) (*apptest.Response, map[string]any) {
		t.Helper()
		r := e.Do(apptest.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/users/%d", id), Token: tok})
		ctExpect(t, r, 200, 0)
		for _, banned := range []string{"phone", "birthday", "lat", "lng", "coordinates", "dating_gender", "only_matched", "+86", "1996-03-04", "13912345678"} {
			if strings.Contains(string(r.Data), banned) {
				t.Errorf("card contains %q: %s", banned, r.Data)
			}
		}
		return r, ctObj(t, r)
	}
	r, c := card(viewer, ownerID)
	if got := strings.Join(ctKeys(t, r.Data), ","); got != "age,avatar,city,gender,id,nickname,photos,superliked_me" {
		t.Errorf("card keys %s (no location: no distance_km)", got)
	}
	if c["id"] != float64(ownerID) || c["nickname"] != "Owner" || c["gender"] != "male" || c["city"] != "北京" ||
		c["superliked_me"] != false || !strings.HasPrefix(fmt.Sprint(c["avatar"]), "/media/avatars/") {
		t.Errorf("card %v", c)
	}
	if ph := c["photos"].([]any); len(ph) != 0 {
		t.Errorf("only_matched owner: photos %v visible", ph)
	}
	// Only one side located: still no distance.
	ctExpect(t, ctPatch(e, ctMePath, owner, map[string]any{"lat": 39.9042, "lng": 116.4074}), 200, 0)
	if r, _ := card(viewer, ownerID); strings.Contains(string(r.Data), "distance_km") {
		t.Errorf("distance_km with one location: %s", r.Data)
	}
	// Both located: integer >= 1.
	ctExpect(t, ctPatch(e, ctMePath, viewer, map[string]any{"lat": 39.9043, "lng": 116.4075}), 200, 0)
	r, c = card(viewer, ownerID)
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(r.Data, &raw)
	if d := string(raw["distance_km"]); d != "1" {
		t.Errorf("same cell distance_km %q, want 1", d)
	}
	ctExpect(t, ctPatch(e, ctMePath, viewer, map[string]any{"lat": 31.2304, "lng": 121.4737}), 200, 0)
	r, _ = card(viewer, ownerID)
	_ = json.Unmarshal(r.Data, &raw)
	var km int
	if err := json.Unmarshal(raw["distance_km"], &km); err != nil || km < 1000 || km > 1150 || strings.ContainsAny(string(raw["distance_km"]), ".eE") {
		t.Errorf("Beijing–Shanghai distance_km %s", raw["distance_km"])
	}
	// Album visible once the owner turns only_matched off (at once).
	ctExpect(t, ctPatch(e, ctProfilePath, owner, map[string]any{"only_matched": false}), 200, 0)
	_, c = card(viewer, ownerID)
	if ph := c["photos"].([]any); len(ph) != 1 {
		t.Errorf("only_matched=false: photos %v", ph)
	}
	ctExpect(t, ctPatch(e, ctProfilePath, owner, map[string]any{"only_matched": true}), 200, 0)
	_, c = card(viewer, ownerID)
	if ph := c["photos"].([]any); len(ph) != 0 {
		t.Errorf("only_matched back on: photos %v", ph)
	}
	_ = viewerID

	for _, p := range []struct {
		path   string
		status int
		code   int
	}{
		{"/api/v1/users/999999", 404, 1003},
		{"/api/v1/users/9223372036854775807", 404, 1003},
		{"/api/v1/users/0", 400, 1001},
		{"/api/v1/users/-1", 400, 1001},
		{"/api/v1/users/abc", 400, 1001},
		{"/api/v1/users/1.5", 400, 1001},
		{"/api/v1/users/1e3", 400, 1001},
		{"/api/v1/users/9223372036854775808", 400, 1001},
		{"/api/v1/users/%201", 400, 1001},
	} {
		r := e.Do(apptest.Request{Method: "GET", Path: p.path, Token: viewer})
		if !ctCheck(t, r, p.status, p.code) {
			t.Logf("path %s", p.path)
		}
	}
}

// openapi.yaml: "Asking for one's own id answers one's own Card"; the owner
// always sees their own album (profile.AlbumShown: "the owner always sees
// it"), even with only_matched on.
func TestContractOwnCardShowsOwnAlbum(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	id := ctID(t, e, tok)
	ctExpect(t, e.Upload("POST", ctPhotosPath, tok, "photo", "p.png", ctPNG(t, 20, 20)), 200, 0)
	r := e.Do(apptest.Request{Method: "GET", Path: fmt.Sprintf("/api/v1/users/%d", id), Token: tok})
	ctExpect(t, r, 200, 0)
	c := ctObj(t, r)
	if c["id"] != float64(id) {
		t.Errorf("own card %v", c)
	}
	if strings.Contains(string(r.Data), "phone") || strings.Contains(string(r.Data), "birthday") {
		t.Errorf("own card is a Me, not a Card: %s", r.Data)
	}
	if ph, _ := c["photos"].([]any); len(ph) != 1 {
		t.Errorf("own card photos %v, want the owner's 1 photo", c["photos"])
	}
}
