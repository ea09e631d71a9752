package profile

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/vip"
	"github.com/swiper-social/swiper/internal/platform/backend"
)

func ptr[T any](v T) *T { return &v }

var changeNow = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// vipUser is a user whose level (3) may date in any city until tomorrow.
func vipUser(u model.User) model.User {
	exp := changeNow.Add(24 * time.Hour)
	u.VIPLevel, u.VIPExpiresAt = 3, &exp
	return u
}

func TestChangeAccount(t *testing.T) {
	if !vip.Has(EffectiveLevel(vipUser(model.User{}), changeNow), vip.PermAnyLocation) {
		t.Fatal("the VIP user of these cases cannot date in any city")
	}
	base := model.User{ID: 1, Nickname: "n", Gender: "male", Birthday: "1990-01-01", City: "北京"}
	prof := defaultProfile(base) // female, 北京, never edited
	edited := prof
	edited.Edited, edited.DatingGender = true, "any"
	lat, lng := int32(3990), int32(11640)
	located := base
	located.CellLat, located.CellLng = &lat, &lng
	tests := []struct {
		name     string
		u        model.User
		p        model.Profile
		c        accountChange
		wantU    func(*model.User)
		wantP    func(*model.Profile)
		unchange bool
	}{
		{name: "nothing", u: base, p: prof},
		{name: "nickname and birthday", u: base, p: prof, c: accountChange{nickname: ptr("m"), birthday: ptr("1991-02-03")},
			wantU: func(u *model.User) { u.Nickname, u.Birthday = "m", "1991-02-03" }},
		{name: "gender: dating_gender follows", u: base, p: prof, c: accountChange{gender: ptr("female")},
			wantU: func(u *model.User) { u.Gender = "female" }, wantP: func(p *model.Profile) { p.DatingGender = "male" }},
		{name: "gender of an edited profile: dating_gender stays", u: base, p: edited, c: accountChange{gender: ptr("female")},
			wantU: func(u *model.User) { u.Gender = "female" }},
		{name: "the same gender: nothing follows", u: base, p: edited, c: accountChange{gender: ptr("male")}},
		{name: "city: dating_city follows", u: base, p: prof, c: accountChange{city: ptr("上海")},
			wantU: func(u *model.User) { u.City = "上海" }, wantP: func(p *model.Profile) { p.DatingCity = "上海" }},
		{name: "city of an edited profile: dating_city follows", u: base, p: edited, c: accountChange{city: ptr("上海")},
			wantU: func(u *model.User) { u.City = "上海" }, wantP: func(p *model.Profile) { p.DatingCity = "上海" }},
		{name: "city of a VIP: dating_city stays", u: vipUser(base), p: prof, c: accountChange{city: ptr("上海")},
			wantU: func(u *model.User) { u.City = "上海" }},
		{name: "the same city: nothing follows", u: base, p: func() model.Profile { p := prof; p.DatingCity = "广州"; return p }(),
			c: accountChange{city: ptr("北京")}},
		{name: "location snapped to its cell", u: base, p: prof, c: accountChange{setLoc: true, lat: 39.9042, lng: 116.4074},
			wantU: func(u *model.User) { u.CellLat, u.CellLng = ptr(int32(3990)), ptr(int32(11641)) }},
		{name: "location cleared", u: located, p: prof, c: accountChange{clearLoc: true},
			wantU: func(u *model.User) { u.CellLat, u.CellLng = nil, nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantU, wantP := tc.u, tc.p
			if tc.wantU != nil {
				tc.wantU(&wantU)
			}
			if tc.wantP != nil {
				tc.wantP(&wantP)
			}
			u, p := changeAccount(tc.u, tc.p, tc.c, changeNow)
			if !sameUser(u, wantU) || p != wantP {
				t.Fatalf("got %+v %+v\nwant %+v %+v", u, p, wantU, wantP)
			}
		})
	}
}

func sameUser(a, b model.User) bool {
	cell := func(c *int32) int64 {
		if c == nil {
			return -1 << 40
		}
		return int64(*c)
	}
	if cell(a.CellLat) != cell(b.CellLat) || cell(a.CellLng) != cell(b.CellLng) {
		return false
	}
	a.CellLat, a.CellLng, b.CellLat, b.CellLng = nil, nil, nil, nil
	a.VIPExpiresAt, b.VIPExpiresAt = nil, nil
	return a == b
}

func TestChangeProfile(t *testing.T) {
	u := model.User{ID: 1, Gender: "male", Birthday: "1990-01-01", City: "北京"}
	prof := defaultProfile(u)
	tests := []struct {
		name      string
		u         model.User
		c         profileChange
		want      func(*model.Profile)
		wantField string // a 1001 naming this field
		wantPerm  bool   // a 3001
	}{
		{name: "an empty body changes nothing", u: u},
		{name: "any field marks it edited", u: u, c: profileChange{bools: map[string]*bool{"vibration": ptr(false)}, edited: true},
			want: func(p *model.Profile) { p.Vibration, p.Edited = false, true }},
		{name: "dating_gender", u: u, c: profileChange{datingGender: ptr("any"), edited: true},
			want: func(p *model.Profile) { p.DatingGender, p.Edited = "any", true }},
		{name: "the ranges", u: u, c: profileChange{ints: map[string]*int{"min_distance": ptr(5), "max_distance": ptr(9),
			"min_dating_age": ptr(20), "max_dating_age": ptr(30)}, edited: true},
			want: func(p *model.Profile) {
				p.MinDistance, p.MaxDistance, p.MinDatingAge, p.MaxDatingAge, p.Edited = 5, 9, 20, 30, true
			}},
		{name: "min_distance above the stored max", u: u, c: profileChange{ints: map[string]*int{"min_distance": ptr(60)}, edited: true},
			wantField: "min_distance"},
		{name: "max_distance below the sent min names max", u: u,
			c: profileChange{ints: map[string]*int{"min_distance": ptr(10), "max_distance": ptr(5)}, edited: true}, wantField: "max_distance"},
		{name: "max_dating_age below the stored min", u: u, c: profileChange{ints: map[string]*int{"max_dating_age": ptr(17)}, edited: true},
			wantField: "max_dating_age"},
		{name: "the user's own city", u: u, c: profileChange{datingCity: ptr("北京"), edited: true},
			want: func(p *model.Profile) { p.Edited = true }},
		{name: "another city without VIP", u: u, c: profileChange{datingCity: ptr("上海"), edited: true}, wantPerm: true},
		{name: "another city as a VIP", u: vipUser(u), c: profileChange{datingCity: ptr("上海"), edited: true},
			want: func(p *model.Profile) { p.DatingCity, p.Edited = "上海", true }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := changeProfile(prof, tc.u, tc.c, changeNow)
			var fe *input.Error
			var pe *PermissionError
			switch {
			case tc.wantPerm:
				if !errors.As(err, &pe) || pe.Permission != vip.PermAnyLocation {
					t.Fatalf("err %v, want a PermissionError", err)
				}
			case tc.wantField != "":
				if !errors.As(err, &fe) || fe.Missing || len(fe.Fields) != 1 || fe.Fields[tc.wantField] == "" {
					t.Fatalf("err %v, want an error of %s", err, tc.wantField)
				}
			default:
				want := prof
				if tc.want != nil {
					tc.want(&want)
				}
				if err != nil || got != want {
					t.Fatalf("got %+v %v, want %+v", got, err, want)
				}
			}
		})
	}
}

func TestRetryLost(t *testing.T) {
	for _, tc := range []struct {
		name      string
		lose      int // attempts that lose before one that succeeds
		wantCalls int
		wantErr   error
	}{
		{"first wins", 0, 1, nil},
		{"wins after losing", 3, 4, nil},
		{"gives up: try again later", 100, writeAttempts, backend.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := retryLost(func() error {
				calls++
				if calls <= tc.lose {
					return model.ErrConflict
				}
				return nil
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("%d calls, %v; want %d, %v", calls, err, tc.wantCalls, tc.wantErr)
			}
		})
	}
	other := errors.New("other")
	calls := 0
	if err := retryLost(func() error { calls++; return other }); err != other || calls != 1 {
		t.Fatalf("another error: %d calls, %v", calls, err)
	}
}

// fieldsOf decodes a body as input.Object does for the services.
func fieldsOf(t *testing.T, body string) map[string]json.RawMessage {
	t.Helper()
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// checkInput checks err against a wanted 1000 (missing) or 1001 error of
// exactly the fields named in want ("" wants no error).
func checkInput(t *testing.T, err error, want string, missing bool) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("err %v, want none", err)
		}
		return
	}
	var ie *input.Error
	if !errors.As(err, &ie) || ie.Missing != missing || len(ie.Fields) != len(strings.Split(want, ",")) {
		t.Fatalf("err %v, want an input error of %s (missing %v)", err, want, missing)
	}
	for _, f := range strings.Split(want, ",") {
		if ie.Fields[f] == "" {
			t.Fatalf("err %v does not name %s", err, f)
		}
	}
}

func TestParseAccountChange(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	for _, tc := range []struct {
		body    string
		want    string // the invalid (or missing) fields, comma-separated
		missing bool
		check   func(c accountChange) bool
	}{
		{body: `{}`, check: func(c accountChange) bool { return c == accountChange{} }},
		{body: `{"nickname": " 小明 ", "gender": "female", "birthday": "2000-02-29", "city": "上海"}`,
			check: func(c accountChange) bool {
				return *c.nickname == "小明" && *c.gender == "female" && *c.birthday == "2000-02-29" && *c.city == "上海"
			}},
		{body: `{"lat": 39.9, "lng": 116.4}`, check: func(c accountChange) bool { return c.setLoc && c.lat == 39.9 && c.lng == 116.4 }},
		{body: `{"lat": null, "lng": null}`, check: func(c accountChange) bool { return c.clearLoc && !c.setLoc }},
		{body: `{"gender": "other", "nickname": 5}`, want: "gender,nickname"},
		{body: `{"birthday": "2010-01-01"}`, want: "birthday"}, // under 18
		{body: `{"birthday": "1899-12-31"}`, want: "birthday"},
		{body: `{"birthday": "2000-13-01"}`, want: "birthday"},
		{body: `{"lat": 39.9}`, want: "lng", missing: true},
		{body: `{"lat": null, "lng": 116.4}`, want: "lat"},
		{body: `{"lat": 91, "lng": -181}`, want: "lat,lng"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			c, err := parseAccountChange(fieldsOf(t, tc.body), changeNow, tz)
			checkInput(t, err, tc.want, tc.missing)
			if tc.check != nil && !tc.check(c) {
				t.Fatalf("parsed %+v", c)
			}
		})
	}
}

func TestParseProfileChange(t *testing.T) {
	for _, tc := range []struct {
		body  string
		want  string
		check func(c profileChange) bool
	}{
		{body: `{}`, check: func(c profileChange) bool { return !c.edited && len(c.ints) == 0 && len(c.bools) == 0 }},
		{body: `{"dating_gender": "any", "dating_city": "上海", "min_distance": 0, "max_distance": 500, "min_dating_age": 18,
			"max_dating_age": 100, "vibration": false, "only_matched": true, "auto_play": false}`,
			check: func(c profileChange) bool {
				return c.edited && *c.datingGender == "any" && *c.datingCity == "上海" && *c.ints["max_distance"] == 500 &&
					*c.ints["min_dating_age"] == 18 && !*c.bools["vibration"] && *c.bools["only_matched"]
			}},
		{body: `{"max_distance": 501, "min_dating_age": 17, "vibration": "yes"}`, want: "max_distance,min_dating_age,vibration"},
		{body: `{"dating_gender": "x", "dating_city": ""}`, want: "dating_gender,dating_city"},
		{body: `{"min_distance": 1.5}`, want: "min_distance"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			c, err := parseProfileChange(fieldsOf(t, tc.body))
			checkInput(t, err, tc.want, false)
			if tc.check != nil && !tc.check(c) {
				t.Fatalf("parsed %+v", c)
			}
		})
	}
}
