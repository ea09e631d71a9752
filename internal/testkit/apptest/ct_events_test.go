package apptest_test

// Black-box tests of the events WebSocket (API.md §3 Conversations,
// GET /api/v1/events), on whichever path the suite runs. Every frame is
// validated against the Event schema of api/openapi.yaml.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/swiper-social/swiper/api"
	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

type evFrame struct {
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// evSock is an open events socket read in the background (so that pings
// are answered).
type evSock struct {
	t      testing.TB
	c      *websocket.Conn
	frames chan evFrame
	closed chan error // the read error that ended the socket
}

var (
	evSchemaOnce sync.Once
	evSchema     *openapi3.SchemaRef
)

func evEventSchema(t testing.TB) *openapi3.SchemaRef {
	evSchemaOnce.Do(func() {
		doc, err := api.Load(context.Background())
		if err != nil {
			t.Fatalf("openapi: %v", err)
		}
		evSchema = doc.Components.Schemas["Event"]
	})
	if evSchema == nil {
		t.Fatal("api/openapi.yaml has no Event schema")
	}
	return evSchema
}

func evURL(e *apptest.Env, query string) string {
	u := "ws" + strings.TrimPrefix(e.URL, "http") + "/api/v1/events"
	if query != "" {
		u += "?" + query
	}
	return u
}

// evDialRaw opens a socket with the given headers.
func evDialRaw(e *apptest.Env, query string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return websocket.Dial(ctx, evURL(e, query), &websocket.DialOptions{HTTPHeader: hdr})
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// evOpen opens a socket of the user with token tok from since.
func evOpen(t testing.TB, e *apptest.Env, tok string, since int64) *evSock {
	t.Helper()
	c, resp, err := evDialRaw(e, "since="+strconv.FormatInt(since, 10), bearer(tok))
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial events: %v (HTTP %d)", err, status)
	}
	return evWatch(t, c)
}

func evWatch(t testing.TB, c *websocket.Conn) *evSock {
	s := &evSock{t: t, c: c, frames: make(chan evFrame, 1024), closed: make(chan error, 1)}
	schema := evEventSchema(t)
	go func() {
		for {
			typ, b, err := c.Read(context.Background())
			if err != nil {
				s.closed <- err
				close(s.frames)
				return
			}
			if typ != websocket.MessageText {
				t.Errorf("binary frame")
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Errorf("frame is not JSON: %s", b)
			} else if err := schema.Value.VisitJSON(v); err != nil {
				t.Errorf("frame does not match the Event schema: %v\n%s", err, b)
			}
			var f evFrame
			_ = json.Unmarshal(b, &f)
			s.frames <- f
		}
	}()
	t.Cleanup(func() { _ = c.CloseNow() })
	return s
}

// next returns the next frame (fails after 5 s).
func (s *evSock) next() evFrame {
	s.t.Helper()
	select {
	case f, ok := <-s.frames:
		if !ok {
			s.t.Fatalf("socket closed: %v", <-s.closed)
		}
		return f
	case <-time.After(5 * time.Second):
		s.t.Fatal("no frame within 5 s")
	}
	return evFrame{}
}

// none checks that no frame arrives within d.
func (s *evSock) none(d time.Duration) {
	s.t.Helper()
	select {
	case f, ok := <-s.frames:
		if ok {
			s.t.Fatalf("unexpected frame %+v", f)
		}
	case <-time.After(d):
	}
}

// closeStatus waits for the socket to end and returns its close code.
func (s *evSock) closeStatus(within time.Duration) websocket.StatusCode {
	s.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-s.frames:
			if !ok {
				return websocket.CloseStatus(<-s.closed)
			}
		case <-deadline:
			s.t.Fatalf("socket still open after %s", within)
		}
	}
}

func evUserID(t testing.TB, f evFrame) int64 {
	t.Helper()
	var d struct {
		UserID int64 `json:"user_id"`
		User   struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(f.Data, &d); err != nil {
		t.Fatalf("data %s: %v", f.Data, err)
	}
	if d.UserID != 0 {
		return d.UserID
	}
	return d.User.ID
}

func evExpect(t testing.TB, f evFrame, seq int64, typ string, other int64) {
	t.Helper()
	if f.Seq != seq || f.Type != typ || evUserID(t, f) != other {
		t.Fatalf("frame %d %s %s; want seq %d %s about user %d", f.Seq, f.Type, f.Data, seq, typ, other)
	}
}

// evMatch makes a and b match (a likes b, b likes a).
func evMatch(t testing.TB, e *apptest.Env, a, b soUser) {
	t.Helper()
	soExpect(t, soSwipe(e, a, b.ID, "like"), 200, 0)
	r := soSwipe(e, b, a.ID, "like")
	soExpect(t, r, 200, 0)
	var res struct{ Matched bool }
	r.Decode(t, &res)
	if !res.Matched {
		t.Fatalf("no match: %s", r.Body)
	}
}

// Without a valid session: 401 1010, not upgraded (cookie and Bearer).
func TestCTEventsNeedSession(t *testing.T) {
	e := apptest.New(t)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/events"}), 401, 1010)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/events", Token: "nope"}), 401, 1010)
	for name, hdr := range map[string]http.Header{
		"none":   nil,
		"bearer": bearer("not-a-token"),
		"cookie": {"Cookie": {"swiper_session=not-a-token"}},
	} {
		c, resp, err := evDialRaw(e, "", hdr)
		if err == nil {
			c.CloseNow()
			t.Fatalf("%s: upgraded without a session", name)
		}
		if resp == nil || resp.StatusCode != 401 {
			t.Fatalf("%s: %v %v; want HTTP 401", name, resp, err)
		}
		var env struct{ Code int }
		b, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(b, &env) != nil || env.Code != 1010 {
			t.Fatalf("%s: body %s; want code 1010", name, b)
		}
	}
	// A token in the URL is never a session.
	u := soNewUser(t, e)
	c, resp, err := evDialRaw(e, "token="+u.Token, nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		if c != nil {
			c.CloseNow()
		}
		t.Fatalf("token in the URL: %v; want 401", err)
	}
}

// A present Origin that is not the server's own: 403 4003 before
// upgrading, by cookie or Bearer; the own origin (and none) is accepted.
func TestCTEventsOrigin(t *testing.T) {
	e := apptest.New(t)
	u := soNewUser(t, e)
	cookie := http.Header{"Cookie": {"swiper_session=" + u.Token}}
	for _, origin := range []string{"http://evil.example", "null", "https://" + strings.TrimPrefix(e.URL, "http://"), e.URL + ".evil.example"} {
		r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/events", Header: http.Header{"Cookie": cookie["Cookie"], "Origin": {origin}}})
		ctExpect(t, r, 403, 4003)
		for _, hdr := range []http.Header{cookie, bearer(u.Token)} {
			h := hdr.Clone()
			h.Set("Origin", origin)
			c, resp, err := evDialRaw(e, "", h)
			if err == nil {
				c.CloseNow()
				t.Fatalf("origin %q: upgraded", origin)
			}
			if resp == nil || resp.StatusCode != 403 {
				t.Fatalf("origin %q: %v; want 403", origin, err)
			}
		}
	}
	// Without a session the answer is 401 whatever the Origin (§1 order).
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/events", Header: http.Header{"Origin": {"http://evil.example"}}}), 401, 1010)
	for _, hdr := range []http.Header{cookie, bearer(u.Token)} {
		h := hdr.Clone()
		h.Set("Origin", e.URL)
		c, _, err := evDialRaw(e, "since=0", h)
		if err != nil {
			t.Fatalf("own origin refused: %v", err)
		}
		c.CloseNow()
	}
	c, _, err := evDialRaw(e, "", cookie) // no Origin: not a browser page
	if err != nil {
		t.Fatalf("cookie without Origin refused: %v", err)
	}
	c.CloseNow()
}

// since must be one integer ≥ 0; the route needs the upgrade headers.
func TestCTEventsBadSince(t *testing.T) {
	e := apptest.New(t)
	u := soNewUser(t, e)
	for _, q := range []string{"since=-1", "since=abc", "since=1.5", "since=", "since=1&since=2", "since=99999999999999999999", "since=%zz"} {
		r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/events?" + q, Token: u.Token})
		ctExpect(t, r, 400, 1001)
		if c, resp, err := evDialRaw(e, q, bearer(u.Token)); err == nil || resp == nil || resp.StatusCode != 400 {
			if c != nil {
				c.CloseNow()
			}
			t.Fatalf("%s: upgraded or not 400: %v", q, err)
		}
	}
	// A plain GET (no upgrade) is 400 1001.
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: "/api/v1/events?since=0", Token: u.Token}), 400, 1001)
}

// A new match reaches both users (each sees the other's Card), an unmatch
// too; every socket of a user gets every event; seqs are per user.
func TestCTEventsMatchUnmatchLive(t *testing.T) {
	e := apptest.New(t)
	a, b := soNewUser(t, e), soNewUser(t, e)
	sa1, sa2, sb := evOpen(t, e, a.Token, 0), evOpen(t, e, a.Token, 0), evOpen(t, e, b.Token, 0)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	evMatch(t, e, a, b)
	for _, s := range []*evSock{sa1, sa2} {
		evExpect(t, s.next(), 1, "match", b.ID)
	}
	fm := sb.next()
	evExpect(t, fm, 1, "match", a.ID)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("match delivered after %s", d)
	}
	var m struct {
		MatchedAt time.Time `json:"matched_at"`
	}
	if err := json.Unmarshal(fm.Data, &m); err != nil || m.MatchedAt.IsZero() {
		t.Fatalf("match data %s", fm.Data)
	}
	soExpect(t, soDelete(e, b, "/api/v1/matches/"+strconv.FormatInt(a.ID, 10)), 200, 0)
	for _, s := range []*evSock{sa1, sa2} {
		evExpect(t, s.next(), 2, "unmatch", b.ID)
	}
	evExpect(t, sb.next(), 2, "unmatch", a.ID)
	// A second unmatch is 2007 and publishes nothing.
	soExpect(t, soDelete(e, b, "/api/v1/matches/"+strconv.FormatInt(a.ID, 10)), 404, 2007)
	sb.none(200 * time.Millisecond)
	sa1.none(0)
}

// since replays what is held after it, in order, then goes live; a since
// at or above the latest replays nothing.
func TestCTEventsSinceReplay(t *testing.T) {
	e := apptest.New(t)
	a, b, c := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	evMatch(t, e, a, b)                                                                 // a: 1
	evMatch(t, e, a, c)                                                                 // a: 2
	soExpect(t, soDelete(e, a, "/api/v1/matches/"+strconv.FormatInt(b.ID, 10)), 200, 0) // a: 3
	s0 := evOpen(t, e, a.Token, 0)
	evExpect(t, s0.next(), 1, "match", b.ID)
	evExpect(t, s0.next(), 2, "match", c.ID)
	evExpect(t, s0.next(), 3, "unmatch", b.ID)
	s2 := evOpen(t, e, a.Token, 2)
	evExpect(t, s2.next(), 3, "unmatch", b.ID)
	s3, s9 := evOpen(t, e, a.Token, 3), evOpen(t, e, a.Token, 9)
	s3.none(200 * time.Millisecond)
	s9.none(0)
	soExpect(t, soDelete(e, c, "/api/v1/matches/"+strconv.FormatInt(a.ID, 10)), 200, 0) // a: 4
	for _, s := range []*evSock{s0, s2, s3} {
		evExpect(t, s.next(), 4, "unmatch", c.ID)
	}
	evExpect(t, s9.next(), 4, "unmatch", c.ID)
	// Across a restart (embedded: the SQLite file; production: Redis) the
	// seqs and the replay survive.
	e2 := e.Restart()
	r := evOpen(t, e2, a.Token, 2)
	evExpect(t, r.next(), 3, "unmatch", b.ID)
	evExpect(t, r.next(), 4, "unmatch", c.ID)
}

// When events after since were dropped, the first frame is resync with
// the latest seq, and live events follow.
func TestCTEventsResyncAfterDrop(t *testing.T) {
	e := apptest.New(t, func(_ *config.Config, o *app.Options) { o.Events = events.Limits{Cap: 2} })
	a, b, c := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	evMatch(t, e, a, b)                                                                 // 1
	soExpect(t, soDelete(e, a, "/api/v1/matches/"+strconv.FormatInt(b.ID, 10)), 200, 0) // 2
	evMatch(t, e, a, c)                                                                 // 3
	soExpect(t, soDelete(e, a, "/api/v1/matches/"+strconv.FormatInt(c.ID, 10)), 200, 0) // 4: 1 and 2 dropped
	s := evOpen(t, e, a.Token, 1)
	if f := s.next(); f.Type != "resync" || f.Seq != 4 {
		t.Fatalf("first frame %+v; want resync with seq 4", f)
	}
	s.none(100 * time.Millisecond)
	s2 := evOpen(t, e, a.Token, 2) // nothing after 2 was dropped
	evExpect(t, s2.next(), 3, "match", c.ID)
	evExpect(t, s2.next(), 4, "unmatch", c.ID)
	d := soNewUser(t, e)
	evMatch(t, e, a, d)
	evExpect(t, s.next(), 5, "match", d.ID)
	evExpect(t, s2.next(), 5, "match", d.ID)
}

// Messages sent with POST reach both users' sockets (the sender's other
// devices too); a client_id retry publishes nothing more.
func TestCTEventsMessages(t *testing.T) {
	e := apptest.New(t)
	a, b := soNewUser(t, e), soNewUser(t, e)
	evMatch(t, e, a, b)
	sa, sb := evOpen(t, e, a.Token, 1), evOpen(t, e, b.Token, 1)
	send := func() *apptest.Response {
		return e.Do(apptest.Request{Method: "POST", Path: fmt.Sprintf("/api/v1/conversations/%d/messages", b.ID), Token: a.Token,
			JSON: map[string]any{"text": "你好", "client_id": "c-1"}})
	}
	soExpect(t, send(), 200, 0)
	for _, tc := range []struct {
		s     *evSock
		other int64
	}{{sa, b.ID}, {sb, a.ID}} {
		f := tc.s.next()
		evExpect(t, f, 2, "message", tc.other)
		var d struct {
			Message struct {
				Text string `json:"text"`
				From int64  `json:"from"`
			} `json:"message"`
		}
		if err := json.Unmarshal(f.Data, &d); err != nil || d.Message.Text != "你好" || d.Message.From != a.ID {
			t.Fatalf("message data %s", f.Data)
		}
	}
	soExpect(t, send(), 200, 0)
	sa.none(200 * time.Millisecond)
	sb.none(0)
}

// The server pings; a client that answers stays, one that stops is closed.
func TestCTEventsPing(t *testing.T) {
	e := apptest.New(t, func(_ *config.Config, o *app.Options) { o.EventsPing = 100 * time.Millisecond })
	u := soNewUser(t, e)
	live := evOpen(t, e, u.Token, 0) // reads: answers pings
	c, _, err := evDialRaw(e, "", bearer(u.Token))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow() // never read: pings go unanswered
	e.WaitFor("the silent socket closed", func() bool { return evOpenSockets(t, e) == 1 })
	time.Sleep(400 * time.Millisecond)
	select {
	case err := <-live.closed:
		t.Fatalf("the answering socket was closed: %v", err)
	default:
	}
	if n := evOpenSockets(t, e); n != 1 {
		t.Fatalf("open sockets = %d; want 1", n)
	}
}

func evOpenSockets(t testing.TB, e *apptest.Env) int {
	t.Helper()
	resp, err := http.Get(e.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "swiper_event_sockets_open "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	t.Fatalf("no swiper_event_sockets_open in /metrics")
	return 0
}

// On shutdown (SIGTERM: Serve's context ends) every socket is closed at
// once with 1012, during the lame duck, and Serve still returns.
func TestCTEventsShutdown1012(t *testing.T) {
	e := apptest.New(t)
	a, b := soNewUser(t, e), soNewUser(t, e)
	cfg := e.Cfg
	cfg.DrainDelay = 2 * time.Second
	srv, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{Clock: e.Clock})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan error, 1)
	workers := 1
	if testenv.Production() {
		workers = 0
	}
	go func() { served <- srv.Serve(ctx, ln, workers) }()
	other := &apptest.Env{T: t, URL: "http://" + ln.Addr().String()}
	var socks []*evSock
	for range 5 {
		for _, u := range []soUser{a, b} {
			socks = append(socks, evOpen(t, other, u.Token, 0))
		}
	}
	time.Sleep(100 * time.Millisecond)
	stop() // SIGTERM
	start := time.Now()
	for _, s := range socks {
		if code := s.closeStatus(5 * time.Second); code != websocket.StatusServiceRestart {
			t.Fatalf("close code %d; want 1012", code)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("sockets closed after %s; want at once (the lame duck lasts 2 s)", d)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, _, err := evDialRaw(other, "", bearer(a.Token)); err == nil {
		t.Fatal("a stopped replica accepted a socket")
	} else if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "refused") {
		t.Logf("dial after stop: %v", err)
	}
}

// Production path: a socket on one replica gets what a request on another
// caused.
func TestCTEventsAcrossReplicas(t *testing.T) {
	if !testenv.Production() {
		t.Skip("replicas need the production path")
	}
	e := apptest.New(t)
	r2 := e.Replica()
	a, b := soNewUser(t, e), soNewUser(t, e)
	sa, sb := evOpen(t, r2, a.Token, 0), evOpen(t, e, b.Token, 0)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	evMatch(t, e, a, b)
	evExpect(t, sa.next(), 1, "match", b.ID)
	evExpect(t, sb.next(), 1, "match", a.ID)
	// Latency is a figure (make bench-chat), not a test: next() only bounds
	// how long the event may take to arrive at all.
	t.Logf("cross-replica delivery took %s", time.Since(start))
	soExpect(t, soDelete(e, a, "/api/v1/matches/"+strconv.FormatInt(b.ID, 10)), 200, 0)
	evExpect(t, sa.next(), 2, "unmatch", b.ID)
}

// A client that stops reading is cut off once it falls a bounded number of
// events behind, rather than buffered without bound; its events stay in
// the log for its reconnection.
func TestCTEventsSlowConsumerCutOff(t *testing.T) {
	e := apptest.New(t)
	u := soNewUser(t, e)
	c, _, err := evDialRaw(e, "since=0", bearer(u.Token))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow() // never read
	e.WaitFor("the socket registered", func() bool { return evOpenSockets(t, e) == 1 })
	text := strings.Repeat("你", 1000) // 3 KB
	const total = 3000
	for i := 0; i < total; i += 100 {
		var evs []events.Outgoing
		for j := i; j < i+100; j++ {
			evs = append(evs, events.Outgoing{To: u.ID, Type: events.TypeMessage, Data: map[string]any{"user_id": 1,
				"message": map[string]any{"id": j + 1, "from": 1, "text": text, "client_id": fmt.Sprintf("c%d", j),
					"sent_at": "2026-01-02T03:04:05.000Z", "read": false}}})
		}
		if err := e.App.Events.Publish(context.Background(), evs...); err != nil {
			t.Fatal(err)
		}
	}
	// Cut off by the bound on its buffer, well before a write to it would
	// time out (10 s).
	for deadline := time.Now().Add(3 * time.Second); evOpenSockets(t, e) != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a socket that reads nothing was not cut off within 3 s of falling behind")
		}
	}
	// Reconnecting with since replays what it missed.
	s := evWatch(t, func() *websocket.Conn {
		c, _, err := evDialRaw(e, "since=2990", bearer(u.Token))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}())
	for seq := int64(2991); seq <= total; seq++ {
		if f := s.next(); f.Seq != seq {
			t.Fatalf("replayed seq %d; want %d", f.Seq, seq)
		}
	}
}
