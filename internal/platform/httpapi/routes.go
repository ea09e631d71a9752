package httpapi

import (
	"net/http"
	"strings"
)

// New returns the HTTP handler of the whole service. Every route is here.
func New(d Deps) http.Handler {
	s := &server{Deps: d}
	mux := http.NewServeMux() // everything under /api/

	// Auth
	mux.Handle("POST /api/v1/verification-codes", s.public(s.requestCode))
	mux.Handle("POST /api/v1/sessions", s.public(s.login))
	mux.Handle("DELETE /api/v1/sessions/current", s.requireUser(s.logout))

	// Users and profile
	mux.Handle("GET /api/v1/users/me", s.requireUserReading(s.meKeys(), s.getMe))
	mux.Handle("PATCH /api/v1/users/me", s.requireUser(s.patchMe))
	mux.Handle("GET /api/v1/users/me/profile", s.requireUser(s.getProfile))
	mux.Handle("PATCH /api/v1/users/me/profile", s.requireUser(s.patchProfile))
	mux.Handle("PUT /api/v1/users/me/avatar", s.requireUser(s.putAvatar))
	mux.Handle("POST /api/v1/users/me/photos", s.requireUser(s.addPhoto))
	mux.Handle("DELETE /api/v1/users/me/photos/{id}", s.requireUser(s.deletePhoto))
	mux.Handle("GET /api/v1/users/{id}", s.requireUser(s.getUser))

	// Social
	mux.Handle("GET /api/v1/recommendations", s.requireUser(s.getRecommendations))
	mux.Handle("POST /api/v1/swipes", s.requireUser(s.createSwipe))
	mux.Handle("DELETE /api/v1/swipes/latest", s.requireUser(s.rewindSwipe))
	mux.Handle("GET /api/v1/likes/received", s.requireUser(s.getLikesReceived))
	mux.Handle("GET /api/v1/matches", s.requireUser(s.getMatches))
	mux.Handle("DELETE /api/v1/matches/{user_id}", s.requireUser(s.deleteMatch))
	mux.Handle("GET /api/v1/rank", s.requireUser(s.getRank))

	// Conversations (the events socket is events.go's)
	mux.Handle("GET /api/v1/conversations", s.requireUser(s.getConversations))
	mux.Handle("GET /api/v1/conversations/{user_id}/messages", s.requireUser(s.getMessages))
	mux.Handle("POST /api/v1/conversations/{user_id}/messages", s.requireUser(s.sendMessage))
	mux.Handle("POST /api/v1/conversations/{user_id}/read", s.requireUser(s.readMessages))
	// checks its session and Origin itself, before upgrading
	mux.Handle("GET /api/v1/events", s.handle(s.getEvents))

	// Safety and the account
	mux.Handle("POST /api/v1/blocks", s.requireUser(s.createBlock))
	mux.Handle("DELETE /api/v1/blocks/{user_id}", s.requireUser(s.deleteBlock))
	mux.Handle("GET /api/v1/blocks", s.requireUser(s.getBlocks))
	mux.Handle("POST /api/v1/reports", s.requireUser(s.createReport))
	mux.Handle("DELETE /api/v1/users/me", s.requireUser(s.deleteMe))
	mux.Handle("GET /api/v1/users/me/export", s.requireUser(s.getExport))

	// VIP
	mux.Handle("GET /api/v1/vip", s.requireUser(s.getVIP))
	mux.Handle("GET /api/v1/vip/plans", s.public(s.getPlans))

	mux.Handle("GET /api/v1/openapi.json", http.HandlerFunc(s.openapi))

	// Operations, media and the web client
	api := jsonNotFound(mux)
	root := http.NewServeMux()
	root.Handle("GET /healthz", http.HandlerFunc(s.healthz))
	root.Handle("GET /readyz", http.HandlerFunc(s.readyz))
	root.Handle("GET /metrics", s.metrics())
	if s.Media != nil {
		root.Handle("GET /media/", s.media())
	}
	web := s.web()
	root.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/"):
			api.ServeHTTP(w, r)
		case r.Method == http.MethodGet || r.Method == http.MethodHead:
			web.ServeHTTP(w, r)
		default:
			w.Header().Set("Allow", "GET, HEAD")
			fail(w, http.StatusMethodNotAllowed, codeNoMethod, "method not allowed on this route")
		}
	}))

	return chain(cleanAPIPaths(jsonNotFound(root)),
		requestID(),
		observe(s.Log, s.Metrics),
		recoverPanics(s.Log),
		securityHeaders(),
	)
}
