package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/logging"
)

func TestRecoverPanics(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := recoverPanics(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("boom: SELECT secret FROM users")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/users/me", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Body)
	if string(body) != `{"code":5000,"data":"internal error"}`+"\n" {
		t.Fatalf("body %q", body)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Fatal("the panic was not logged")
	}
}

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	cases := []struct {
		remote, xff, want string
		trust             []netip.Prefix
	}{
		{"203.0.113.9:1234", "1.2.3.4", "203.0.113.9", trusted},     // untrusted peer: header ignored
		{"127.0.0.1:1234", "1.2.3.4", "1.2.3.4", trusted},           // trusted proxy
		{"127.0.0.1:1234", "6.6.6.6, 1.2.3.4", "1.2.3.4", trusted},  // spoofed first hop ignored
		{"127.0.0.1:1234", "1.2.3.4, 10.1.1.1", "1.2.3.4", trusted}, // chain of trusted proxies
		{"127.0.0.1:1234", "garbage", "127.0.0.1", trusted},
		{"127.0.0.1:1234", "1.2.3.4", "127.0.0.1", nil}, // no trusted proxies configured
		{"[::1]:80", "", "::1", trusted},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := clientIP(r, c.trust); got != c.want {
			t.Errorf("clientIP(%s, %q) = %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}

// A request whose client went away is logged and counted as 499 at Info,
// not as the 503 the handler wrote for nobody; a real 503 stays a Warn 503.
func TestObserveClientClosed(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/recommendations", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, backend.Unavailable(errors.New("dial tcp 127.0.0.1:6379: connection refused")))
	})
	h := observe(log, m)(mux)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/recommendations", nil).WithContext(ctx))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/recommendations", nil))

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var requests []string
	for _, l := range lines {
		if strings.Contains(l, "msg=request") {
			requests = append(requests, l)
		}
	}
	if len(requests) != 2 || !strings.Contains(requests[0], "level=INFO") || !strings.Contains(requests[0], "status=499") ||
		!strings.Contains(requests[1], "level=WARN") || !strings.Contains(requests[1], "status=503") {
		t.Fatalf("request lines:\n%s", strings.Join(requests, "\n"))
	}
	for status, want := range map[string]float64{"499": 1, "503": 1} {
		if got := testutil.ToFloat64(m.requests.WithLabelValues("GET /api/v1/recommendations", status)); got != want {
			t.Errorf("requests with status %s: %v, want %v", status, got, want)
		}
	}
}

// On a production Output, a request's line waits in the access log's
// buffer; a failed request's line is written at once, after it.
func TestObserveBuffersAccessLines(t *testing.T) {
	var logs bytes.Buffer
	out := logging.NewOutput(&logs, 64<<10)
	log := logging.New(out, true, slog.LevelInfo)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { ok(w, "fine") })
	mux.HandleFunc("GET /down", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, backend.Unavailable(errors.New("redis down")))
	})
	h := observe(log, NewMetrics(prometheus.NewRegistry()))(mux)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/ok", nil))
	if logs.Len() != 0 {
		t.Fatalf("the access line was written at once: %s", logs.String())
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/down", nil))
	var routes []string
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			routes = append(routes, l[strings.Index(l, `"route"`):])
		}
	}
	if len(routes) != 2 || !strings.HasPrefix(routes[0], `"route":"GET /ok","status":200`) ||
		!strings.HasPrefix(routes[1], `"route":"GET /down","status":503`) {
		t.Fatalf("request lines in order: %q", routes)
	}
}
