package apptest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

// ---------------------------------------------------------------- POST /verification-codes

func TestContractCodeRequestOK(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	for _, phone := range []string{"13812345678", "+8613912345678", "+14155550123"} {
		r := ctRequestCodeRaw(e, phone, nil)
		ctExpect(t, r, 200, 0)
		if got := strings.TrimSpace(string(r.Body)); got != `{"code":0,"data":{"expires_in":300,"resend_after":60}}` {
			t.Errorf("%s: body %s", phone, got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		e164 := phone
		if !strings.HasPrefix(e164, "+") {
			e164 = "+86" + e164
		}
		code, err := e.SMS.WaitN(ctx, e164, 1)
		cancel()
		if err != nil {
			t.Fatalf("%s: no SMS: %v", phone, err)
		}
		if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			t.Errorf("%s: code %q is not 6 digits", phone, code)
		}
	}
	// POST bodies ignore unknown fields.
	r := e.Do(apptest.Request{Method: "POST", Path: ctCodesPath, JSON: map[string]any{"phone": "13700000001", "foo": 1}})
	ctExpect(t, r, 200, 0)
	// A charset parameter on the content type is fine.
	r = e.Do(apptest.Request{Method: "POST", Path: ctCodesPath, JSON: `{"phone":"13700000002"}`, ContentType: "application/json; charset=utf-8"})
	ctExpect(t, r, 200, 0)
}

func TestContractCodeRequestInputErrors(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	big := `{"phone":"13812345678","pad":"` + strings.Repeat("x", 65<<10) + `"}`
	cases := []struct {
		name        string
		body        any
		contentType string
		status      int
		code        int
		field       string
	}{
		{"missing phone", `{}`, "", 400, 1000, "phone"},
		{"null phone", `{"phone":null}`, "", 400, 1000, "phone"},
		{"other fields only", `{"tel":"13812345678"}`, "", 400, 1000, "phone"},
		{"too short", `{"phone":"1381234567"}`, "", 400, 1002, "phone"},
		{"too long", `{"phone":"138123456789"}`, "", 400, 1002, "phone"},
		{"bad prefix 12", `{"phone":"12812345678"}`, "", 400, 1002, "phone"},
		{"starts with 2", `{"phone":"23812345678"}`, "", 400, 1002, "phone"},
		{"letters", `{"phone":"abcdefghijk"}`, "", 400, 1002, "phone"},
		{"dashes", `{"phone":"138-1234-5678"}`, "", 400, 1002, "phone"},
		{"+86 not mobile", `{"phone":"+8612812345678"}`, "", 400, 1002, "phone"},
		{"+0", `{"phone":"+0123456789"}`, "", 400, 1002, "phone"},
		{"plus only", `{"phone":"+"}`, "", 400, 1002, "phone"},
		{"e164 with spaces inside", `{"phone":"+1 415 555 0123"}`, "", 400, 1002, "phone"},
		{"not json", `phone=13812345678`, "", 400, 1001, "body"},
		{"truncated json", `{"phone":"138`, "", 400, 1001, "body"},
		{"json array", `["13812345678"]`, "", 400, 1001, "body"},
		{"json string", `"13812345678"`, "", 400, 1001, "body"},
		{"trailing data", `{"phone":"13812345678"} {}`, "", 400, 1001, "body"},
		{"text/plain", `{"phone":"13812345678"}`, "text/plain", 400, 1001, "body"},
		{"form", `{"phone":"13812345678"}`, "application/x-www-form-urlencoded", 400, 1001, "body"},
		{"too large", big, "", 413, 4002, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(apptest.Request{Method: "POST", Path: ctCodesPath, JSON: c.body, ContentType: c.contentType})
			ctExpect(t, r, c.status, c.code)
			if c.field != "" {
				if _, ok := r.Errors[c.field]; !ok {
					t.Errorf("errors %v does not name %q", r.Errors, c.field)
				}
			}
		})
	}
	// No content type at all.
	r := e.Do(apptest.Request{Method: "POST", Path: ctCodesPath, Body: strings.NewReader(`{"phone":"13812345678"}`)})
	ctExpect(t, r, 400, 1001)
	if n := e.SMS.Count("+8613812345678"); n != 0 {
		t.Errorf("%d codes sent for rejected requests", n)
	}
}

// openapi.yaml: "1000 `phone` missing (or empty); 1001 ... `phone` not a string".
func TestContractCodeRequestEmptyOrNonStringPhone(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	r := e.Do(apptest.Request{Method: "POST", Path: ctCodesPath, JSON: `{"phone":""}`})
	ctCheck(t, r, 400, 1000)
	r = e.Do(apptest.Request{Method: "POST", Path: ctCodesPath, JSON: `{"phone":13812345678}`})
	ctCheck(t, r, 400, 1001)
}

func TestContractCodeResendInterval(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctMorning(e)
	phone := "13812345678"
	first := e.RequestCode(phone)
	r := ctRequestCodeRaw(e, phone, nil)
	ctExpect(t, r, 429, 1006)
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q, want 1..60", r.Header.Get("Retry-After"))
	}
	e.Clock.Advance(30 * time.Second)
	r = ctRequestCodeRaw(e, phone, nil)
	ctExpect(t, r, 429, 1006)
	if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 1 || ra > 30 {
		t.Errorf("Retry-After after 30 s: %q, want 1..30", r.Header.Get("Retry-After"))
	}
	// The E.164 form is the same phone.
	ctExpect(t, ctRequestCodeRaw(e, "+86"+phone, nil), 429, 1006)
	// Rejected requests issued nothing (an SMS is queued only for a code
	// issued): the first code was not replaced, it still logs in ...
	ctExpect(t, ctLoginRaw(e, phone, first), 200, 0)
	// ... and the interval still runs from the first send (a code issued at
	// +30 s would have restarted it): one interval after it, a code is sent.
	e.Clock.Advance(31 * time.Second)
	second := e.RequestCode(phone)
	if n := e.SMS.Count("+86" + phone); n != 2 {
		t.Errorf("%d codes sent, want 2", n)
	}
	// A code other than the current one counts as wrong (1004); the new one
	// works.
	if first != second {
		ctExpect(t, ctLoginRaw(e, phone, first), 400, 1004)
	}
	ctExpect(t, ctLoginRaw(e, phone, second), 200, 0)
}

func TestContractCodeDailyLimit(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctMorning(e)
	phone := "13812345678"
	for i := 0; i < 10; i++ {
		ctExpect(t, ctRequestCodeRaw(e, phone, nil), 200, 0)
		e.Clock.Advance(61 * time.Second)
	}
	r := ctRequestCodeRaw(e, phone, nil)
	ctExpect(t, r, 429, 1006)
	ra, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	// Until the next local midnight: from ~10:11 that is ~13.8 h.
	now := e.Clock.Now().In(e.Cfg.Timezone)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, e.Cfg.Timezone)
	want := int(midnight.Sub(now).Seconds())
	if ra < want-2 || ra > want+2 {
		t.Errorf("Retry-After %d, want ≈ %d (seconds to local midnight)", ra, want)
	}
	// Another phone is not affected; the next local day resets it.
	ctExpect(t, ctRequestCodeRaw(e, "13912345678", nil), 200, 0)
	e.Clock.Set(midnight.Add(time.Minute))
	ctExpect(t, ctRequestCodeRaw(e, phone, nil), 200, 0)
}

// 50 parallel requests from one client for 50 phones with a limit of 30:
// exactly 30 succeed.
func TestContractCodeIPLimitParallel(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, ctIPLimit(30))
	ctMorning(e)
	var wg sync.WaitGroup
	results := make([]*apptest.Response, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = ctRequestCodeRaw(e, fmt.Sprintf("1370000%04d", i), nil)
		}()
	}
	wg.Wait()
	ok, limited := 0, 0
	for _, r := range results {
		switch {
		case r.Status == 200 && r.Code == 0:
			ok++
		case r.Status == 429 && r.Code == 1006:
			limited++
			if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
				t.Errorf("IP limit Retry-After %q", r.Header.Get("Retry-After"))
			}
		default:
			t.Errorf("unexpected answer %d %s", r.Status, r.Body)
		}
	}
	if ok != 30 || limited != 20 {
		t.Errorf("%d × 200 and %d × 429/1006, want 30 and 20", ok, limited)
	}
	// The next hour window allows the client again.
	e.Clock.Advance(time.Hour)
	ctExpect(t, ctRequestCodeRaw(e, "13700009999", nil), 200, 0)
}

func TestContractCodeIPLimitTrustedProxy(t *testing.T) {
	t.Parallel()
	xff := func(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }
	t.Run("trusted", func(t *testing.T) {
		t.Parallel()
		e := apptest.New(t, ctIPLimit(3), ctTrustLocalhost())
		ctMorning(e)
		for i := 0; i < 3; i++ {
			ctExpect(t, ctRequestCodeRaw(e, fmt.Sprintf("1370000000%d", i), xff("10.0.0.1")), 200, 0)
		}
		// Same forwarded client, directly or behind another trusted hop.
		ctExpect(t, ctRequestCodeRaw(e, "13700000010", xff("10.0.0.1")), 429, 1006)
		ctExpect(t, ctRequestCodeRaw(e, "13700000011", xff("10.0.0.1, 127.0.0.1")), 429, 1006)
		// The last untrusted address counts, not a spoofed first one.
		ctExpect(t, ctRequestCodeRaw(e, "13700000012", xff("10.9.9.9, 10.0.0.1")), 429, 1006)
		// Another forwarded address has its own budget.
		for i := 0; i < 3; i++ {
			ctExpect(t, ctRequestCodeRaw(e, fmt.Sprintf("1370000002%d", i), xff("10.0.0.2")), 200, 0)
		}
		ctExpect(t, ctRequestCodeRaw(e, "13700000030", xff("10.0.0.2")), 429, 1006)
		// Without the header the proxy itself is the client.
		ctExpect(t, ctRequestCodeRaw(e, "13700000040", nil), 200, 0)
	})
	t.Run("untrusted", func(t *testing.T) {
		t.Parallel()
		e := apptest.New(t, ctIPLimit(3))
		ctMorning(e)
		for i := 0; i < 3; i++ {
			ctExpect(t, ctRequestCodeRaw(e, fmt.Sprintf("1370000000%d", i), xff(fmt.Sprintf("10.0.1.%d", i))), 200, 0)
		}
		// X-Forwarded-For is ignored: the peer has used its budget.
		ctExpect(t, ctRequestCodeRaw(e, "13700000010", xff("10.0.1.200")), 429, 1006)
	})
}

// Registered and unregistered phones get identical answers.
func TestContractCodeRequestDoesNotRevealRegistration(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctMorning(e)
	e.Login("13812345678") // registered; Login moves the clock past the interval
	compare := func(what string, a, b *apptest.Response) {
		t.Helper()
		if a.Status != b.Status || !bytes.Equal(a.Body, b.Body) {
			t.Errorf("%s: registered %d %s, unregistered %d %s", what, a.Status, a.Body, b.Status, b.Body)
		}
		keys := func(h http.Header) []string {
			var out []string
			for k, v := range h {
				if k == "Date" || k == "X-Request-Id" {
					continue
				}
				out = append(out, k+": "+strings.Join(v, ","))
			}
			sort.Strings(out)
			return out
		}
		if ka, kb := keys(a.Header), keys(b.Header); strings.Join(ka, "\n") != strings.Join(kb, "\n") {
			t.Errorf("%s: headers differ:\nregistered   %v\nunregistered %v", what, ka, kb)
		}
	}
	a := ctRequestCodeRaw(e, "13812345678", nil)
	b := ctRequestCodeRaw(e, "13912345678", nil)
	ctExpect(t, a, 200, 0)
	compare("first request", a, b)
	a = ctRequestCodeRaw(e, "13812345678", nil)
	b = ctRequestCodeRaw(e, "13912345678", nil)
	ctExpect(t, a, 429, 1006)
	compare("too soon", a, b)
}

// ---------------------------------------------------------------- POST /sessions

func TestContractLoginSuccess(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	code := e.RequestCode("13812345678")
	r := ctLoginRaw(e, "13812345678", code)
	ctExpect(t, r, 200, 0)
	var s struct {
		Token     string          `json:"token"`
		ExpiresAt string          `json:"expires_at"`
		Created   *bool           `json:"created"`
		User      json.RawMessage `json:"user"`
	}
	r.Decode(t, &s)
	// Opaque (API.md §2): at least 128 random bits, usable as is in a
	// Bearer header and a cookie.
	if len(s.Token) < 22 || strings.Trim(s.Token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
		t.Errorf("token %q (%d chars) is not at least 22 token68 characters", s.Token, len(s.Token))
	}
	exp, err := time.Parse(time.RFC3339, s.ExpiresAt)
	if err != nil || !strings.HasSuffix(s.ExpiresAt, "Z") {
		t.Errorf("expires_at %q is not RFC 3339 UTC", s.ExpiresAt)
	}
	if d := exp.Sub(e.Clock.Now().Add(30 * 24 * time.Hour)); d < -time.Minute || d > time.Minute {
		t.Errorf("expires_at %s is not 30 days after %s", exp, e.Clock.Now())
	}
	if s.Created == nil || !*s.Created {
		t.Errorf("created = %v on the first login", s.Created)
	}
	var me map[string]any
	if err := json.Unmarshal(s.User, &me); err != nil {
		t.Fatal(err)
	}
	ctCheckNewMe(t, me, "+8613812345678", "用户5678")

	// Cookie.
	c := ctCookie(r.Header, "swiper_session")
	if c == nil {
		t.Fatalf("no swiper_session cookie: %v", r.Header.Values("Set-Cookie"))
	}
	if c.Value != s.Token || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
		t.Errorf("cookie %+v: want value=token, HttpOnly, SameSite=Lax, Path=/, not Secure over http", c)
	}
	if c.MaxAge < 30*24*3600-120 || c.MaxAge > 30*24*3600 {
		t.Errorf("cookie Max-Age %d, want ≈ 30 days", c.MaxAge)
	}
	// The cookie alone authenticates.
	r2 := e.Do(apptest.Request{Method: "GET", Path: ctMePath, Header: http.Header{"Cookie": {"swiper_session=" + s.Token}}})
	ctExpect(t, r2, 200, 0)
	if got := ctObj(t, r2)["phone"]; got != "+8613812345678" {
		t.Errorf("cookie GET /me phone %v", got)
	}
	// When both are sent the Authorization header wins.
	r2 = e.Do(apptest.Request{Method: "GET", Path: ctMePath, Header: http.Header{
		"Cookie": {"swiper_session=" + s.Token}, "Authorization": {"Bearer " + strings.Repeat("A", 43)}}})
	ctExpect(t, r2, 401, 1010)

	// Second login (E.164 form of the same phone): created false, same user,
	// and both sessions stay valid.
	e.Clock.Advance(61 * time.Second)
	code2 := e.RequestCode("+8613812345678")
	r = ctLoginRaw(e, "+8613812345678", code2)
	ctExpect(t, r, 200, 0)
	var s2 struct {
		Token   string `json:"token"`
		Created bool   `json:"created"`
		User    struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	r.Decode(t, &s2)
	if s2.Created {
		t.Error("created true on the second login")
	}
	if s2.Token == s.Token {
		t.Error("the second login returned the same token")
	}
	if s2.User.ID != int64(me["id"].(float64)) {
		t.Errorf("second login user %d, first %v", s2.User.ID, me["id"])
	}
	for _, tok := range []string{s.Token, s2.Token} {
		ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: tok}), 200, 0)
	}
	// A used code cannot be reused.
	ctExpect(t, ctLoginRaw(e, "13812345678", code2), 400, 1005)
}

// ctCheckNewMe checks a new user's Me.
func ctCheckNewMe(t testing.TB, me map[string]any, e164, nickname string) {
	t.Helper()
	want := map[string]any{"phone": e164, "nickname": nickname, "gender": "male", "birthday": "1990-01-01",
		"city": "北京", "has_location": false, "avatar": ""}
	for k, v := range want {
		if me[k] != v {
			t.Errorf("Me.%s = %v, want %v", k, me[k], v)
		}
	}
	if id, _ := me["id"].(float64); id < 1 {
		t.Errorf("Me.id = %v", me["id"])
	}
	if age, _ := me["age"].(float64); age < 35 {
		t.Errorf("Me.age = %v for 1990-01-01", me["age"])
	}
	if ph, _ := me["photos"].([]any); ph == nil || len(ph) != 0 {
		t.Errorf("Me.photos = %v, want []", me["photos"])
	}
	if _, err := time.Parse(time.RFC3339, fmt.Sprint(me["created_at"])); err != nil {
		t.Errorf("Me.created_at = %v", me["created_at"])
	}
	vip, _ := me["vip"].(map[string]any)
	if vip["level"] != float64(0) || vip["name"] != "非会员" || vip["expires_at"] != nil {
		t.Errorf("Me.vip = %v", vip)
	}
	if p, _ := vip["permissions"].([]any); p == nil || len(p) != 0 {
		t.Errorf("Me.vip.permissions = %v", vip["permissions"])
	}
	q, _ := vip["quotas"].(map[string]any)
	if q["likes_left_today"] != float64(100) || q["rewinds_left_today"] != float64(0) {
		t.Errorf("Me.vip.quotas = %v", q)
	}
	keys := make([]string, 0, len(me))
	for k := range me {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if got := strings.Join(keys, ","); got != "age,avatar,birthday,city,created_at,gender,has_location,id,nickname,phone,photos,vip" {
		t.Errorf("Me keys %s", got)
	}
}

func TestContractLoginSecureCookieBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	proto := http.Header{"X-Forwarded-Proto": {"https"}}
	login := func(e *apptest.Env) *http.Cookie {
		code := e.RequestCode("13812345678")
		r := e.Do(apptest.Request{Method: "POST", Path: ctSessionsPath, Header: proto,
			JSON: map[string]string{"phone": "13812345678", "code": code}})
		ctExpect(t, r, 200, 0)
		c := ctCookie(r.Header, "swiper_session")
		if c == nil {
			t.Fatal("no cookie")
		}
		return c
	}
	e := apptest.New(t, ctTrustLocalhost())
	if c := login(e); !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("behind a trusted TLS proxy the cookie is %+v, want Secure HttpOnly Lax Path=/", c)
	}
	e2 := apptest.New(t)
	if c := login(e2); c.Secure {
		t.Error("X-Forwarded-Proto from an untrusted peer made the cookie Secure")
	}
}

func TestContractLoginInputErrors(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	e.RequestCode("13812345678")
	cases := []struct {
		name   string
		body   any
		ct     string
		status int
		code   int
		fields []string
	}{
		{"missing both", `{}`, "", 400, 1000, nil},
		{"missing code", `{"phone":"13812345678"}`, "", 400, 1000, []string{"code"}},
		{"null code", `{"phone":"13812345678","code":null}`, "", 400, 1000, []string{"code"}},
		{"missing phone", `{"code":"123456"}`, "", 400, 1000, []string{"phone"}},
		{"bad phone", `{"phone":"12345","code":"123456"}`, "", 400, 1002, []string{"phone"}},
		{"code number", `{"phone":"13812345678","code":123456}`, "", 400, 1001, []string{"code"}},
		{"not json", `phone=1&code=2`, "", 400, 1001, []string{"body"}},
		{"wrong content type", `{"phone":"13812345678","code":"123456"}`, "text/plain", 400, 1001, []string{"body"}},
		{"too large", `{"phone":"13812345678","code":"123456","x":"` + strings.Repeat("y", 70000) + `"}`, "", 413, 4002, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.Do(apptest.Request{Method: "POST", Path: ctSessionsPath, JSON: c.body, ContentType: c.ct})
			ctExpect(t, r, c.status, c.code)
			for _, f := range c.fields {
				if _, ok := r.Errors[f]; !ok {
					t.Errorf("errors %v does not name %s", r.Errors, f)
				}
			}
		})
	}
	// None of these counted as a wrong attempt: 4 wrong codes still answer 1004.
	for i := 0; i < 4; i++ {
		ctExpect(t, ctLoginRaw(e, "13812345678", "000000x"), 400, 1004)
	}
}

// openapi.yaml: "1000 `phone` or `code` missing (or empty)".
func TestContractLoginEmptyCodeIsMissing(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	e.RequestCode("13812345678")
	ctCheck(t, ctLoginRaw(e, "13812345678", ""), 400, 1000)
	ctCheck(t, ctLoginRaw(e, "", "123456"), 400, 1000)
}

func TestContractLoginCodeStates(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	// Never requested.
	ctExpect(t, ctLoginRaw(e, "13812345678", "123456"), 400, 1005)
	// Expired.
	code := e.RequestCode("13812345678")
	e.Clock.Advance(301 * time.Second)
	ctExpect(t, ctLoginRaw(e, "13812345678", code), 400, 1005)
	// 1005 answers did not count: 4 wrong codes on a fresh code are 1004.
	code = e.RequestCode("13812345678")
	for _, wrong := range []string{ctWrongCode(code, 1), "12345", "abcdef", "1234567"} {
		ctExpect(t, ctLoginRaw(e, "13812345678", wrong), 400, 1004)
	}
	// The right code still works (4 failures), and resets the counter.
	ctExpect(t, ctLoginRaw(e, "13812345678", code), 200, 0)
	// Used.
	ctExpect(t, ctLoginRaw(e, "13812345678", code), 400, 1005)
	// Counter reset by the login: 4 more wrong codes are 1004 again.
	e.Clock.Advance(61 * time.Second)
	code = e.RequestCode("13812345678")
	for i := 0; i < 4; i++ {
		ctExpect(t, ctLoginRaw(e, "13812345678", ctWrongCode(code, i)), 400, 1004)
	}
	ctExpect(t, ctLoginRaw(e, "13812345678", code), 200, 0)
}

func TestContractLoginLock(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	phone := "13812345678"
	code := e.RequestCode(phone)
	for i := 0; i < 4; i++ {
		ctExpect(t, ctLoginRaw(e, phone, ctWrongCode(code, i)), 400, 1004)
	}
	r := ctLoginRaw(e, phone, ctWrongCode(code, 9))
	ctExpect(t, r, 429, 1007)
	if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 890 || ra > 900 {
		t.Errorf("Retry-After %q, want ≈ 900", r.Header.Get("Retry-After"))
	}
	// During the lock: the right code, and code requests, are 1007.
	e.Clock.Advance(5 * time.Minute)
	r = ctLoginRaw(e, phone, code)
	ctExpect(t, r, 429, 1007)
	if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 590 || ra > 600 {
		t.Errorf("Retry-After during lock %q, want ≈ 600", r.Header.Get("Retry-After"))
	}
	r = ctRequestCodeRaw(e, phone, nil)
	ctExpect(t, r, 429, 1007)
	if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 590 || ra > 600 {
		t.Errorf("code request Retry-After during lock %q, want ≈ 600", r.Header.Get("Retry-After"))
	}
	// Other phones are not locked.
	e.RequestCode("13912345678")
	// After the lock the burned code is 1005 until a new one is requested.
	e.Clock.Advance(10*time.Minute + time.Second)
	ctExpect(t, ctLoginRaw(e, phone, code), 400, 1005)
	code2 := e.RequestCode(phone)
	r = ctLoginRaw(e, phone, code2)
	ctExpect(t, r, 200, 0)
}

// The counter survives the lock: one more wrong code after it locks again.
func TestContractLoginRelockAfterLock(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	phone := "13812345678"
	code := e.RequestCode(phone)
	for i := 0; i < 4; i++ {
		ctExpect(t, ctLoginRaw(e, phone, ctWrongCode(code, i)), 400, 1004)
	}
	ctExpect(t, ctLoginRaw(e, phone, ctWrongCode(code, 5)), 429, 1007)
	e.Clock.Advance(15*time.Minute + time.Second)
	code = e.RequestCode(phone)
	ctExpect(t, ctLoginRaw(e, phone, ctWrongCode(code, 6)), 429, 1007)
}

func TestContractLoginResendKeepsFailures(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	phone := "13812345678"
	code := e.RequestCode(phone)
	for i := 0; i < 3; i++ {
		ctExpect(t, ctLoginRaw(e, phone, ctWrongCode(code, i)), 400, 1004)
	}
	e.Clock.Advance(61 * time.Second)
	code2 := e.RequestCode(phone)
	ctExpect(t, ctLoginRaw(e, phone, ctWrongCode(code2, 3)), 400, 1004)
	ctExpect(t, ctLoginRaw(e, phone, ctWrongCode(code2, 4)), 429, 1007)
	ctExpect(t, ctLoginRaw(e, phone, code2), 429, 1007)
}

func TestContractLoginBruteForceParallel(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	phone := "13812345678"
	code := e.RequestCode(phone)
	var wg sync.WaitGroup
	results := make([]*apptest.Response, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = ctLoginRaw(e, phone, ctWrongCode(code, 100+i))
		}()
	}
	wg.Wait()
	wrong, locked := 0, 0
	for _, r := range results {
		switch {
		case r.Status == 400 && r.Code == 1004:
			wrong++
		case r.Status == 429 && r.Code == 1007:
			locked++
		default:
			t.Errorf("unexpected answer %d %s", r.Status, r.Body)
		}
	}
	if wrong > 4 || wrong+locked != 50 {
		t.Errorf("%d × 1004 and %d × 1007; at most 4 may be 1004", wrong, locked)
	}
	ctExpect(t, ctLoginRaw(e, phone, code), 429, 1007)
}

// ---------------------------------------------------------------- DELETE /sessions/current

func TestContractLogout(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	t1 := e.Login("13812345678")
	t2 := e.Login("13812345678")
	r := e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/sessions/current", Token: t1})
	ctExpect(t, r, 200, 0)
	if strings.TrimSpace(string(r.Body)) != `{"code":0,"data":null}` {
		t.Errorf("logout body %s", r.Body)
	}
	c := ctCookie(r.Header, "swiper_session")
	if c == nil || c.Value != "" || c.MaxAge >= 0 || c.Path != "/" || !c.HttpOnly {
		t.Errorf("logout cookie %+v, want an expired swiper_session", c)
	}
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: t1}), 401, 1010)
	ctExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/sessions/current", Token: t1}), 401, 1010)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: t2}), 200, 0)
	// Logout by cookie.
	r = e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/sessions/current", Header: http.Header{"Cookie": {"swiper_session=" + t2}}})
	ctExpect(t, r, 200, 0)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: t2}), 401, 1010)
}

// The session lives 30 days from the login (embedded path only: on the
// production path Redis expires keys by its own wall clock, not the fake one).
func TestContractSessionExpires(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	if !e.App.Embedded() {
		t.Skip("session expiry follows Redis's own clock on the production path")
	}
	tok := e.Login("13812345678")
	e.Clock.Advance(30*24*time.Hour - 2*time.Minute)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: tok}), 200, 0)
	e.Clock.Advance(2 * time.Minute)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: tok}), 401, 1010)
}

// Every authenticated route answers 401/1010 to a missing, garbage, unknown
// or revoked token, before looking at the body.
func TestContractAuthRequiredEverywhere(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	revoked := e.Login("13812345678")
	ctExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/sessions/current", Token: revoked}), 200, 0)
	routes := []struct{ method, path string }{
		{"DELETE", "/api/v1/sessions/current"},
		{"GET", ctMePath},
		{"PATCH", ctMePath},
		{"GET", ctProfilePath},
		{"PATCH", ctProfilePath},
		{"PUT", ctAvatarPath},
		{"POST", ctPhotosPath},
		{"DELETE", ctPhotosPath + "/1"},
		{"DELETE", ctPhotosPath + "/abc"},
		{"GET", "/api/v1/users/1"},
		{"GET", "/api/v1/users/abc"},
		{"GET", "/api/v1/vip"},
	}
	headers := map[string]http.Header{
		"missing":         nil,
		"garbage":         {"Authorization": {"Bearer garbage"}},
		"empty bearer":    {"Authorization": {"Bearer "}},
		"basic":           {"Authorization": {"Basic " + revoked}},
		"unknown":         {"Authorization": {"Bearer " + strings.Repeat("x", 43)}},
		"revoked":         {"Authorization": {"Bearer " + revoked}},
		"revoked cookie":  {"Cookie": {"swiper_session=" + revoked}},
		"garbage cookie":  {"Cookie": {"swiper_session=%%%"}},
		"too long bearer": {"Authorization": {"Bearer " + strings.Repeat("a", 5000)}},
	}
	for _, rt := range routes {
		for name, h := range headers {
			// An invalid body must not matter: 1010 comes first.
			r := e.Do(apptest.Request{Method: rt.method, Path: rt.path, Header: h, JSON: `{not json`})
			if r.Status != 401 || r.Code != 1010 {
				t.Errorf("%s %s with %s token: %d %s", rt.method, rt.path, name, r.Status, r.Body)
			}
		}
	}
}
