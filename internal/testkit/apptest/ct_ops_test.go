package apptest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/web"
)

func TestContractOpsHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	r := e.Do(apptest.Request{Method: "GET", Path: "/healthz"})
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("/healthz: %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	r = e.Do(apptest.Request{Method: "GET", Path: "/readyz"})
	if r.Status != 200 {
		t.Errorf("/readyz: %d %s", r.Status, r.Body)
	}
	tok := e.Login("13812345678")
	ctMe(t, e, tok)
	ctMe(t, e, tok)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/users/12345", Token: tok}), 404, 1003)
	r = e.Do(apptest.Request{Method: "GET", Path: "/metrics"})
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	m := string(r.Body)
	for _, want := range []string{
		`swiper_http_requests_total{route="GET /api/v1/users/me",status="200"}`,
		`swiper_http_requests_total{route="POST /api/v1/sessions",status="200"}`,
		// The route pattern, never the raw path with its id.
		`swiper_http_requests_total{route="GET /api/v1/users/{id}",status="404"}`,
		`swiper_http_request_duration_seconds_bucket{route="GET /api/v1/users/me"`,
		`swiper_cache_requests_total{cache="user",result="hit"}`,
		`swiper_cache_requests_total{cache="user",result="miss"}`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(m, "/api/v1/users/12345") {
		t.Error("/metrics carries a raw path with an id")
	}
}

func TestContractOpsOpenAPIDocument(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/openapi.json"})
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
		Code    *int                       `json:"code"`
	}
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || doc.Code != nil {
		t.Errorf("openapi %q, enveloped %v", doc.OpenAPI, doc.Code != nil)
	}
	for _, p := range []string{"/api/v1/verification-codes", "/api/v1/sessions", "/api/v1/sessions/current",
		"/api/v1/users/me", "/api/v1/users/me/profile", "/api/v1/users/me/avatar", "/api/v1/users/me/photos",
		"/api/v1/users/me/photos/{id}", "/api/v1/users/{id}", "/api/v1/recommendations", "/api/v1/swipes",
		"/api/v1/swipes/latest", "/api/v1/likes/received", "/api/v1/matches", "/api/v1/matches/{user_id}",
		"/api/v1/rank", "/api/v1/vip", "/api/v1/vip/plans", "/api/v1/openapi.json", "/healthz", "/readyz", "/metrics"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("openapi.json lacks path %s", p)
		}
	}
}

func TestContractOpsRoutingErrors(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	tok := e.Login("13812345678")
	for _, c := range []struct {
		method, path string
		status, code int
		allow        string
	}{
		{"GET", "/api/v1/nope", 404, 4000, ""},
		{"GET", "/api/v2/users/me", 404, 4000, ""},
		{"GET", "/api/", 404, 4000, ""},
		{"POST", "/api/v1/nope", 404, 4000, ""},
		{"GET", "/api/v1/users/me/unknown", 404, 4000, ""},
		{"PUT", "/api/v1/users/me", 405, 4001, "PATCH"},
		{"PUT", "/api/v1/users/me/profile", 405, 4001, "PATCH"},
		{"GET", "/api/v1/verification-codes", 405, 4001, "POST"},
		{"GET", "/api/v1/sessions", 405, 4001, "POST"},
		{"POST", "/api/v1/vip/plans", 405, 4001, "GET"},
		{"POST", "/api/v1/vip", 405, 4001, "GET"},
		{"GET", "/api/v1/users/me/photos", 405, 4001, "POST"},
		{"POST", "/healthz", 405, 4001, ""},
	} {
		// Routing errors come before authentication: with or without a token.
		for _, token := range []string{"", tok} {
			r := e.Do(apptest.Request{Method: c.method, Path: c.path, Token: token})
			if r.Status != c.status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%s %s: %d %q %s", c.method, c.path, r.Status, r.Header.Get("Content-Type"), r.Body)
				continue
			}
			var env struct {
				Code int    `json:"code"`
				Data string `json:"data"`
			}
			if err := json.Unmarshal(r.Body, &env); err != nil || env.Code != c.code {
				t.Errorf("%s %s: body %s, want code %d", c.method, c.path, r.Body, c.code)
			}
			if c.allow != "" && !strings.Contains(r.Header.Get("Allow"), c.allow) {
				t.Errorf("%s %s: Allow %q lacks %s", c.method, c.path, r.Header.Get("Allow"), c.allow)
			}
		}
	}
}

func TestContractOpsWebClient(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, func(_ *config.Config, o *app.Options) { o.Web = web.Dist() })
	root := e.Do(apptest.Request{Method: "GET", Path: "/"})
	if root.Status != 200 || !strings.HasPrefix(root.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(strings.ToLower(string(root.Body)), "<html") {
		t.Fatalf("GET /: %d %q %.200s", root.Status, root.Header.Get("Content-Type"), root.Body)
	}
	for _, deep := range []string{"/matches", "/users/42", "/settings/profile"} {
		r := e.Do(apptest.Request{Method: "GET", Path: deep})
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || string(r.Body) != string(root.Body) {
			t.Errorf("deep link %s: %d %q (same HTML as /: %v)", deep, r.Status, r.Header.Get("Content-Type"), string(r.Body) == string(root.Body))
		}
	}
	// A missing asset is a real 404, never the app shell.
	if r := e.Do(apptest.Request{Method: "GET", Path: "/assets/does-not-exist.js"}); r.Status != 404 {
		t.Errorf("missing asset: %d", r.Status)
	}
	// /api/ paths never fall back to the web client.
	r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/matchez"})
	ctExpect(t, r, 404, 4000)
}

// The logs never hold a verification code, a session token or a full phone.
func TestContractLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	phone := "13812345678"
	code := e.RequestCode(phone)
	ctExpect(t, ctLoginRaw(e, phone, ctWrongCode(code, 1)), 400, 1004)
	r := ctLoginRaw(e, phone, code)
	ctExpect(t, r, 200, 0)
	var s struct {
		Token string `json:"token"`
	}
	r.Decode(t, &s)
	ctMe(t, e, s.Token)
	ctExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/sessions/current", Token: s.Token}), 200, 0)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: s.Token}), 401, 1010)
	ctExpect(t, ctLoginRaw(e, phone, code), 400, 1005)
	logs := e.Logs.String()
	if !strings.Contains(logs, "request") {
		t.Fatalf("no request logs captured: %q", logs)
	}
	for what, secret := range map[string]string{"code": code, "token": s.Token, "phone": phone, "E.164 phone": "+86" + phone,
		"token prefix": s.Token[:16]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain the %s %q", what, secret)
		}
	}
}
