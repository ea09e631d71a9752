// Package apptest runs a whole Swiper (the real app wiring) behind an
// httptest server for black-box tests, on the embedded path or — with
// SWIPER_TEST_BACKEND=production — on MariaDB + Redis + asynq. Every
// response is validated against api/openapi.yaml.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/api"
	"github.com/swiper-social/swiper/internal/adapters/sms"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/platform/logging"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// Env is one running Swiper.
type Env struct {
	T      testing.TB
	App    *app.App
	Cfg    config.Config
	URL    string
	Clock  *clock.Fake
	SMS    *sms.Sink
	Logs   *SyncBuffer
	router routers.Router
	opts   app.Options
	stop   func() // stops this Swiper (once)
	dbOnce sync.Once
	db     *bun.DB
}

// DB returns a handle of the test's own on the app's database
// (storetest.DBAt), for the SQL a test runs itself; the app's pools are
// its own.
func (e *Env) DB() *bun.DB {
	e.dbOnce.Do(func() {
		dialect, dsn, err := e.Cfg.Database()
		if err != nil {
			e.T.Fatal(err)
		}
		e.db = storetest.DBAt(e.T, dialect, dsn)
	})
	return e.db
}

// SyncBuffer is a goroutine-safe log buffer.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything logged so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Option adjusts the configuration or options before the app is built.
type Option func(*config.Config, *app.Options)

// New starts a Swiper for t; it is stopped when t ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	env := map[string]string{
		"SWIPER_OTP_IP_LIMIT": "1000",
		"SWIPER_MEDIA_DIR":    filepath.Join(t.TempDir(), "media"),
		"SWIPER_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "swiper.db"),
	}
	var aopts app.Options
	if testenv.Production() {
		env["SWIPER_DATABASE_URL"] = testenv.MySQLDatabase(t)
		env["SWIPER_REDIS_URL"] = testenv.RedisURL(t)
		env["SWIPER_REDIS_NAMESPACE"] = testenv.RedisNamespace(t)
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fake := clock.NewFake(startTime(time.Now(), cfg.Timezone))
	sink := &sms.Sink{}
	aopts.Clock = fake
	aopts.SMSSender = sink
	for _, o := range opts {
		o(&cfg, &aopts)
	}
	return start(t, cfg, aopts, fake, sink)
}

// Restart stops e's Swiper and starts a new one on the same configuration
// (database, media directory, Redis namespace), clock and SMS sink, as
// when `swiper serve` is restarted: what the new one remembers is what
// outlives a process. e must not be used afterwards.
func (e *Env) Restart() *Env {
	e.T.Helper()
	e.stop()
	return start(e.T, e.Cfg, e.opts, e.Clock, e.SMS)
}

// Replica starts another Swiper on e's database, Redis, queue, clock and
// SMS sink, as a second `swiper serve` behind nginx (production path only:
// embedded, the cache and sessions live in one process).
func (e *Env) Replica() *Env {
	e.T.Helper()
	if !testenv.Production() {
		e.T.Fatal("apptest: replicas need the production path (SWIPER_TEST_BACKEND=production)")
	}
	return start(e.T, e.Cfg, e.opts, e.Clock, e.SMS)
}

func start(t testing.TB, cfg config.Config, aopts app.Options, fake *clock.Fake, sink *sms.Sink) *Env {
	t.Helper()
	logs := &SyncBuffer{}
	var w io.Writer = logs
	if os.Getenv("SWIPER_TEST_LOG") != "" {
		w = io.MultiWriter(logs, os.Stderr)
	}
	log := logging.New(w, false, slog.LevelDebug)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, log, aopts)
	if err != nil {
		cancel()
		t.Fatalf("app: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.RunWorkers(ctx, 4) }()
	srv := httptest.NewServer(a.Handler)
	stop := sync.OnceFunc(func() {
		srv.Close()
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("task workers did not stop within 30 s")
		}
		a.Close()
	})
	t.Cleanup(stop)
	doc, err := api.Load(context.Background())
	if err != nil {
		t.Fatalf("openapi: %v", err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi router: %v", err)
	}
	return &Env{T: t, App: a, Cfg: cfg, URL: srv.URL, Clock: fake, SMS: sink, Logs: logs, router: router, opts: aopts, stop: stop}
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	Code   int             // envelope code (-1 when the body is not an envelope)
	Data   json.RawMessage // envelope data
	Errors map[string]string
}

// Decode unmarshals Data into v, failing the test on error.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
}

// Request describes one call.
type Request struct {
	Method      string
	Path        string
	Token       string
	JSON        any    // marshalled as the body (a string or []byte is sent as is)
	ContentType string // default application/json when JSON is set
	Body        io.Reader
	Header      http.Header
}

// Do sends req, validates the response against the OpenAPI document (for
// documented routes) and returns it.
func (e *Env) Do(req Request) *Response {
	e.T.Helper()
	var body io.Reader = req.Body
	ct := req.ContentType
	if req.JSON != nil {
		switch v := req.JSON.(type) {
		case string:
			body = strings.NewReader(v)
		case []byte:
			body = bytes.NewReader(v)
		default:
			b, err := json.Marshal(v)
			if err != nil {
				e.T.Fatal(err)
			}
			body = bytes.NewReader(b)
		}
		if ct == "" {
			ct = "application/json"
		}
	}
	hr, err := http.NewRequest(req.Method, e.URL+req.Path, body)
	if err != nil {
		e.T.Fatal(err)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.T.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	r := &Response{Status: resp.StatusCode, Header: resp.Header, Body: b, Code: -1}
	var env struct {
		Code   *int              `json:"code"`
		Data   json.RawMessage   `json:"data"`
		Errors map[string]string `json:"errors"`
	}
	if strings.HasPrefix(req.Path, "/api/") && req.Path != "/api/v1/openapi.json" {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			e.T.Errorf("%s %s: Content-Type %q", req.Method, req.Path, ct)
		}
		if err := json.Unmarshal(b, &env); err != nil || env.Code == nil {
			e.T.Errorf("%s %s: body is not an envelope: %s", req.Method, req.Path, b)
		} else {
			r.Code, r.Data, r.Errors = *env.Code, env.Data, env.Errors
		}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			if resp.Header.Get("Retry-After") == "" {
				e.T.Errorf("%s %s: %d without Retry-After", req.Method, req.Path, resp.StatusCode)
			}
		}
	}
	e.validate(hr, resp, b)
	return r
}

// validate checks the response against the OpenAPI document when the route
// is documented; unknown routes (404 tests) are skipped.
func (e *Env) validate(hr *http.Request, resp *http.Response, body []byte) {
	e.T.Helper()
	vr := hr.Clone(context.Background())
	vr.URL.Scheme, vr.URL.Host, vr.Host = "", "", ""
	route, params, err := e.router.FindRoute(vr)
	if err != nil {
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	rin := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), rin); err != nil {
		e.T.Errorf("%s %s → %d does not match api/openapi.yaml: %v\nbody: %s", hr.Method, hr.URL.Path, resp.StatusCode, err, truncate(body))
	}
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// RequestCode asks for a code for phone and returns the code delivered.
func (e *Env) RequestCode(phone string) string {
	e.T.Helper()
	n := e.SMS.Count(e164(phone))
	r := e.Do(Request{Method: "POST", Path: "/api/v1/verification-codes", JSON: map[string]string{"phone": phone}})
	if r.Status != 200 {
		e.T.Fatalf("request code for %s: %d %s", phone, r.Status, r.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	code, err := e.SMS.WaitN(ctx, e164(phone), n+1)
	if err != nil {
		e.T.Fatalf("code for %s never delivered: %v", phone, err)
	}
	return code
}

// Login logs phone in through the SMS flow and returns the session token.
func (e *Env) Login(phone string) string {
	e.T.Helper()
	code := e.RequestCode(phone)
	r := e.Do(Request{Method: "POST", Path: "/api/v1/sessions", JSON: map[string]string{"phone": phone, "code": code}})
	if r.Status != 200 || r.Code != 0 {
		e.T.Fatalf("login %s: %d %s", phone, r.Status, r.Body)
	}
	var s struct {
		Token string `json:"token"`
	}
	r.Decode(e.T, &s)
	// Let the next code for this phone be requested at once.
	e.Clock.Advance(61 * time.Second)
	return s.Token
}

// Upload sends a multipart file in field to method path.
func (e *Env) Upload(method, path, token, field, filename string, data []byte) *Response {
	e.T.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		e.T.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.Close()
	return e.Do(Request{Method: method, Path: path, Token: token, Body: &buf, ContentType: mw.FormDataContentType()})
}

// WaitFor polls cond for up to 15 s (tasks run asynchronously).
func (e *Env) WaitFor(what string, cond func() bool) {
	e.T.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.T.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func e164(phone string) string {
	if strings.HasPrefix(phone, "+") {
		return phone
	}
	return "+86" + phone
}

// startTime is when a test's fake clock starts: now, unless now is in the
// last two hours of the local day, where the tests' clock advances (61 s
// a login) could cross midnight and reset the daily quotas a test counts;
// then half past the next midnight.
func startTime(now time.Time, tz *time.Location) time.Time {
	l := now.In(tz)
	if l.Hour() < 22 {
		return now
	}
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 30, 0, 0, tz)
}
