// Package httpapi is Swiper's HTTP layer: routes, middleware, decoding and
// the one function that maps errors to HTTP answers. Handlers are thin:
// decode, call a service, encode.
package httpapi

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/domain/auth"
	"github.com/swiper-social/swiper/internal/domain/chat"
	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/domain/safety"
	"github.com/swiper-social/swiper/internal/domain/social"
)

// Pinger is a dependency /readyz checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are what the HTTP layer needs.
type Deps struct {
	Auth           *auth.Service
	Profile        *profile.Service
	Social         *social.Service   // swipes, matches, likes, deck, rank
	Chat           *chat.Service     // conversations of matched users
	Safety         *safety.Service   // blocks, reports, account deletion and export
	Ready          map[string]Pinger // name → dependency, checked by /readyz
	Gatherer       prometheus.Gatherer
	Metrics        *Metrics
	OpenAPIJSON    []byte
	Media          fs.FS // the local media store, served at /media/; nil = not served
	Web            fs.FS // the built web client, nil = none
	TrustedProxies []netip.Prefix
	Activity       Toucher // records that an authenticated user was active
	Log            *slog.Logger

	// MeWithSession: the user caches live in the session store (Redis), so
	// GET /users/me reads the user's cached record with the session, in
	// one round trip.
	MeWithSession bool

	// The events socket (events.go): the streams, the registry of open
	// sockets (closed with 1012 on shutdown), the ping interval (0: 30 s).
	Events       *events.Service
	Sockets      *Sockets
	PingInterval time.Duration
}

// Toucher records user activity without blocking.
type Toucher interface {
	Touch(userID int64)
}

type server struct {
	Deps
	answers answerBuffers // respond.go
}

type userKey struct{}

// userID is the authenticated user of a request (set by requireUser).
func userID(r *http.Request) int64 {
	id, _ := r.Context().Value(userKey{}).(int64)
	return id
}

// handlerFunc is a handler that returns its error to writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			writeError(w, r, s.Log, err)
		}
	})
}

// sessionToken is the bearer token, else the session cookie; byCookie says
// which one it is.
func sessionToken(r *http.Request) (token string, byCookie bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t), false
		}
		return "", false
	}
	if c, err := r.Cookie(cookieName); err == nil {
		return c.Value, true
	}
	return "", false
}

// requireUser authenticates the request (1010 otherwise) before anything
// else of the route runs, then refuses a cross-origin state change made
// with the cookie (4003) and a query that does not parse (1001), in the
// order of API.md §1.
func (s *server) requireUser(h handlerFunc) http.Handler {
	return s.requireUserReading(nil, func(w http.ResponseWriter, r *http.Request, _ [][]byte) error { return h(w, r) })
}

// requireUserReading is requireUser for a route that wants keys of the
// session store read with the session (auth.Service.AuthenticateRead):
// keys names them for the user the token names (nil: none), and h gets
// their values (nil: not read).
func (s *server) requireUserReading(keys func(uid int64) []string, h func(w http.ResponseWriter, r *http.Request, read [][]byte) error) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		token, byCookie := sessionToken(r)
		uid, read, err := s.Auth.AuthenticateRead(r.Context(), token, keys)
		if err != nil {
			return err
		}
		if byCookie && !sameOrigin(r, s.TrustedProxies) {
			return errCrossOrigin
		}
		s.Activity.Touch(uid)
		if err := checkQuery(r); err != nil {
			return err
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, uid)), read)
	})
}

// public is a route without a session: only the query is checked before it.
func (s *server) public(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if err := checkQuery(r); err != nil {
			return err
		}
		return h(w, r)
	})
}

// checkQuery refuses a query string that does not parse (1001): net/url
// drops a pair it cannot parse (`limit=1000;`, `%zz`) from r.URL.Query(),
// which would silently give the default.
func checkQuery(r *http.Request) error {
	if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
		return input.Invalid("query", "the query string does not parse")
	}
	return nil
}

// readJSON reads a JSON body of at most 64 KiB with the JSON content type.
func readJSON(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, jsonBodyLimit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, input.Invalid("body", "could not be read")
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return nil, input.Invalid("body", "Content-Type must be application/json")
	}
	return body, nil
}

// readFields reads a JSON object body (POST: unknown fields are ignored).
func readFields(w http.ResponseWriter, r *http.Request) (map[string][]byte, error) {
	body, err := readJSON(w, r)
	if err != nil {
		return nil, err
	}
	return input.Fields(body)
}

// pathID parses a positive int64 path value (1001 otherwise).
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, input.Invalid(name, "must be a positive integer")
	}
	return id, nil
}

// captureWriter holds back the mux's own plain-text 404/405 so that a JSON
// envelope can replace it.
type captureWriter struct {
	http.ResponseWriter
	status int
}

func (c *captureWriter) WriteHeader(code int) { c.status = code }
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return len(b), nil
}

// cleanAPIPaths answers a path under /api/ that is not in clean form (an
// empty, "." or ".." segment, escaped or not: `/api//v1/x`, `/api/v1/./x`,
// `/api/v1/x/%2e`) with 404 4000 in the envelope, where the mux would
// redirect to the cleaned path with an HTML body.
func cleanAPIPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := strings.CutPrefix(r.URL.Path, "/api/"); ok {
			for _, seg := range strings.Split(p, "/") {
				if seg == "" || seg == "." || seg == ".." {
					fail(w, http.StatusNotFound, codeNoRoute, "no such route")
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// jsonNotFound answers unknown routes and methods with the API envelope.
func jsonNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		cw := &captureWriter{ResponseWriter: w}
		mux.ServeHTTP(cw, r)
		w.Header().Del("X-Content-Type-Options")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		switch cw.status {
		case http.StatusMethodNotAllowed:
			fail(w, http.StatusMethodNotAllowed, codeNoMethod, "method not allowed on this route")
		case http.StatusNotFound, 0:
			fail(w, http.StatusNotFound, codeNoRoute, "no such route")
		default:
			// A redirect: path cleaning of a path outside /api/ (those
			// under it never get here: cleanAPIPaths), or /x → /x/ of a
			// subtree pattern. Let the mux answer for real.
			mux.ServeHTTP(w, r)
		}
	})
}
