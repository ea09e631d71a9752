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
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/auth"
	"github.com/swiper-social/swiper/internal/input"
	"github.com/swiper-social/swiper/internal/profile"
	"github.com/swiper-social/swiper/internal/social"
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
	Ready          map[string]Pinger // name → dependency, checked by /readyz
	Gatherer       prometheus.Gatherer
	Metrics        *Metrics
	OpenAPIJSON    []byte
	MediaDir       string // served at /media/ when non-empty
	Web            fs.FS  // the built web client, nil = none
	TrustedProxies []netip.Prefix
	Activity       Toucher // records that an authenticated user was active
	Log            *slog.Logger
}

// Toucher records user activity without blocking.
type Toucher interface {
	Touch(userID int64)
}

type server struct {
	Deps
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

// sessionToken is the bearer token, else the session cookie.
func sessionToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(cookieName); err == nil {
		return c.Value
	}
	return ""
}

// requireUser authenticates the request (1010 otherwise) before anything
// else of the route runs.
func (s *server) requireUser(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		uid, err := s.Auth.Authenticate(r.Context(), sessionToken(r))
		if err != nil {
			return err
		}
		s.Activity.Touch(uid)
		return h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, uid)))
	})
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
			// A redirect (e.g. path cleaning): let the mux answer for real.
			mux.ServeHTTP(w, r)
		}
	})
}
