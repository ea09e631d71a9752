package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/platform/logging"
)

type middleware func(http.Handler) http.Handler

// chain applies mws so that the first one is the outermost.
func chain(h http.Handler, mws ...middleware) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// statusWriter records the status of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestID takes a sane X-Request-ID from the client or makes one, and puts
// it on the context (so every log line carries it) and on the response.
func requestID() middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get("X-Request-ID")
			if !validRequestID(id) {
				b := make([]byte, 8)
				_, _ = rand.Read(b)
				id = hex.EncodeToString(b)
			}
			w.Header().Set("X-Request-ID", id)
			next.ServeHTTP(w, r.WithContext(logging.WithRequestID(r.Context(), id)))
		})
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// recoverPanics turns a panic into a 500 5000 with nothing internal in it.
func recoverPanics(log *slog.Logger) middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					log.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
					if !sw.wrote {
						fail(sw, http.StatusInternalServerError, codeInternal, "internal error")
					}
				}
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// Metrics are the HTTP metrics, labelled by route pattern.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "swiper_http_requests_total", Help: "HTTP requests by route pattern and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "swiper_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// requestLog holds what a handler adds to its request's log line.
type requestLog struct{ attrs []slog.Attr }

type requestLogKey struct{}

// logAttrs adds attributes to the log line of r (one line per request: a
// login says who logged in there rather than in a line of its own).
func logAttrs(r *http.Request, attrs ...slog.Attr) {
	if l, ok := r.Context().Value(requestLogKey{}).(*requestLog); ok {
		l.attrs = append(l.attrs, attrs...)
	}
}

// statusClientClosed is nginx's status for a request whose client went away
// before the answer.
const statusClientClosed = 499

// observe logs and measures each request by its route pattern (never the
// raw path, which would hold ids). A request that failed (5xx) is logged
// through log at once, the others through its access log (buffered lines
// in production: logging.ForAccess).
func observe(log *slog.Logger, m *Metrics) middleware {
	access := logging.ForAccess(log)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			rl := &requestLog{}
			r = r.WithContext(context.WithValue(r.Context(), requestLogKey{}, rl))
			next.ServeHTTP(sw, r)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			if !sw.wrote {
				sw.status = http.StatusOK
			}
			status := sw.status
			if r.Context().Err() != nil {
				// The client closed the connection before the answer (a load
				// generator stopping, a user leaving): counted as nginx does,
				// 499, not as the 503 nobody read, which would look like an
				// outage on the dashboards.
				status = statusClientClosed
			}
			d := time.Since(start)
			m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			m.latency.WithLabelValues(route).Observe(d.Seconds())
			level, out := slog.LevelInfo, access
			if status >= 500 {
				level, out = slog.LevelWarn, log
			}
			if route == "GET /healthz" || route == "GET /readyz" || route == "GET /metrics" {
				level = slog.LevelDebug
			}
			if !out.Enabled(r.Context(), level) {
				return
			}
			attrs := append([]slog.Attr{slog.String("method", r.Method), slog.String("route", route),
				slog.Int("status", status), slog.Float64("duration_ms", float64(d.Microseconds())/1000)}, rl.attrs...)
			out.LogAttrs(r.Context(), level, "request", attrs...)
		})
	}
}

// securityHeaders sets headers every answer should carry.
func securityHeaders() middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			next.ServeHTTP(w, r)
		})
	}
}

// clientIP is the peer address, or — when the peer is a trusted proxy — the
// last address in X-Forwarded-For that is not a trusted proxy.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer := peerAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if !isTrusted(peer, trusted) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !isTrusted(a, trusted) {
			return a.String()
		}
	}
	return peer.String()
}

// fromTLS reports whether the client used TLS, directly or per a trusted proxy.
func fromTLS(r *http.Request, trusted []netip.Prefix) bool {
	if r.TLS != nil {
		return true
	}
	peer := peerAddr(r.RemoteAddr)
	return peer.IsValid() && isTrusted(peer, trusted) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// errCrossOrigin refuses a state change made with the session cookie from
// another origin (4003).
var errCrossOrigin = errors.New("httpapi: cross-origin request refused")

// sameOrigin reports whether a request may change state with the session
// cookie (API.md §1): safe methods always; otherwise its Origin must be the
// server's own origin — the scheme (TLS, directly or per a trusted proxy,
// as for the cookie's Secure flag) and the Host the request arrived for.
// Without Origin, Sec-Fetch-Site must be same-origin or none; a request with
// neither header is not from a browser and passes.
func sameOrigin(r *http.Request, trusted []netip.Prefix) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if origin := r.Header.Values("Origin"); len(origin) > 0 {
		scheme := "http"
		if fromTLS(r, trusted) {
			scheme = "https"
		}
		own := normalOrigin(scheme + "://" + r.Host)
		return len(origin) == 1 && own != "" && normalOrigin(origin[0]) == own
	}
	site := r.Header.Values("Sec-Fetch-Site")
	return len(site) == 0 || (len(site) == 1 && (site[0] == "same-origin" || site[0] == "none"))
}

// normalOrigin is an origin (scheme://host[:port]) lower-cased and without
// its scheme's default port; "" when it is not one ("null" included).
func normalOrigin(s string) string {
	u, err := url.Parse(strings.ToLower(strings.TrimSpace(s)))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return ""
	}
	host := u.Host
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return u.Scheme + "://" + host
}

func peerAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		a, err := netip.ParseAddr(remote)
		if err != nil {
			return netip.Addr{}
		}
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
