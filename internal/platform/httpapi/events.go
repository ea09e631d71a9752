package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/domain/input"
)

// Timings of the events socket.
const (
	// DefaultPingInterval is how often the server pings an events socket;
	// one that has not answered by the next ping is closed.
	DefaultPingInterval = 30 * time.Second
	// frameWriteTimeout bounds the write of one frame: a client that reads
	// nothing for that long is cut off (its events stay in the log).
	frameWriteTimeout = 10 * time.Second
)

// Sockets is the registry of a replica's open event sockets. A replica
// shutting down closes them all with 1012 (Shutdown): http.Server.Shutdown
// neither sees nor closes hijacked connections.
type Sockets struct {
	mu      sync.Mutex
	conns   map[*websocket.Conn]context.CancelFunc
	closing bool
	running sync.WaitGroup // open sockets, until their stream ended
}

// NewSockets returns an empty registry.
func NewSockets() *Sockets { return &Sockets{conns: map[*websocket.Conn]context.CancelFunc{}} }

// add registers c, whose handler stops on cancel; false when shutting down.
func (s *Sockets) add(c *websocket.Conn, cancel context.CancelFunc) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = cancel
	s.running.Add(1)
	return true
}

func (s *Sockets) remove(c *websocket.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.conns[c]; ok {
		delete(s.conns, c)
		s.running.Done()
	}
}

func (s *Sockets) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Shutdown refuses new sockets and closes every open one with 1012
// (service restart: clients reconnect, with since, to another replica),
// then waits for their streams to end until ctx is done.
func (s *Sockets) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*websocket.Conn, 0, len(s.conns))
	for c, cancel := range s.conns {
		conns = append(conns, c)
		// The close handshake first (the close frame must go out before
		// the handler stops), then the handler.
		go func() { _ = c.Close(websocket.StatusServiceRestart, "server restarting"); cancel() }()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, c := range conns {
			_ = c.CloseNow()
		}
		return ctx.Err()
	}
}

// Len is the number of open sockets.
func (s *Sockets) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// getEvents is GET /api/v1/events: the user's event stream over a
// WebSocket (API.md §3 Conversations). Everything is checked before the
// upgrade, in the order of API.md §1: the session (401 1010), the Origin
// (403 4003: a page of another site must not open a socket with the
// user's cookie), the query (1001).
func (s *server) getEvents(w http.ResponseWriter, r *http.Request) error {
	token, _ := sessionToken(r)
	uid, err := s.Auth.Authenticate(r.Context(), token)
	if err != nil {
		return err
	}
	if !ownOrigin(r, s) {
		return errCrossOrigin
	}
	if err := checkQuery(r); err != nil {
		return err
	}
	since, err := parseSince(r)
	if err != nil {
		return err
	}
	if !isUpgrade(r) {
		return input.Invalid("Upgrade", "this route is a WebSocket: send the upgrade headers")
	}
	s.Activity.Touch(uid)
	// The server's read and write deadlines of a request must not outlive
	// the upgrade: the socket lives for hours.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	// The origin was checked above, with the scheme as seen through the
	// trusted proxies (the library compares the host only).
	c, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return nil // Accept answered the client
	}
	s.serveEvents(context.WithoutCancel(r.Context()), c, uid, since)
	return nil
}

// Buffers of an events socket: it reads only pongs and close frames, and
// writes event frames of a few hundred bytes (a larger one is written
// through the buffer).
const (
	socketReadBuffer  = 256
	socketWriteBuffer = 1024
)

// smallBuffers is the ResponseWriter given to websocket.Accept: its Hijack
// hands the socket small buffers of its own instead of net/http's 4 KiB
// reader and writer, which the socket would hold for its whole life.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Flush(); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	br := bufio.NewReaderSize(conn, socketReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		// The client wrote ahead of the handshake's answer: those bytes
		// go into the new buffer (Accept takes what is buffered, then
		// reads the connection).
		ahead, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(ahead), conn), max(n, socketReadBuffer))
		if _, err := br.Peek(n); err != nil {
			_ = conn.Close()
			return nil, nil, err
		}
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, socketWriteBuffer)), nil
}

// serveEvents streams to c until the client leaves, stops answering pings,
// falls behind, or the replica shuts down. It returns once the socket is
// set up and the log replayed: an idle socket holds one goroutine (the
// reader of pongs), a writer runs only while events are pending, and pings
// run from a timer.
func (s *server) serveEvents(ctx context.Context, c *websocket.Conn, uid, since int64) {
	ctx, cancel := context.WithCancel(ctx)
	if !s.Sockets.add(c, cancel) {
		_ = c.Close(websocket.StatusServiceRestart, "server restarting")
		_ = c.CloseNow()
		cancel()
		return
	}
	m := s.Events.Metrics()
	if m != nil {
		m.Sockets.Inc()
	}
	// Clients send nothing: CloseRead answers pings and reads pongs and
	// the close frame; a data frame closes the socket (1008). Its context
	// ends with the connection (and only then: cancelling the context of a
	// read would drop the connection without a close frame).
	read := c.CloseRead(context.Background())
	stopOnClose := context.AfterFunc(read, cancel)
	stopPings := s.startPings(ctx, c)
	s.Events.Attach(ctx, uid, since, func(ctx context.Context, ev events.Event) error {
		b, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		wctx, wcancel := context.WithTimeout(ctx, frameWriteTimeout)
		defer wcancel()
		return c.Write(wctx, websocket.MessageText, b)
	}, func(err error) {
		// The close frame first: a ping in progress ends with the
		// connection.
		switch {
		case s.Sockets.shuttingDown():
			_ = c.Close(websocket.StatusServiceRestart, "server restarting")
		case errors.Is(err, events.ErrSlowConsumer):
			_ = c.Close(websocket.StatusTryAgainLater, "too slow: reconnect with since")
		case err != nil && ctx.Err() == nil:
			s.Log.Warn("events socket ended", "user", uid, "err", err)
			_ = c.Close(websocket.StatusInternalError, "stream failed: reconnect with since")
		}
		_ = c.CloseNow()
		cancel()
		stopOnClose()
		stopPings()
		if m != nil {
			m.Sockets.Dec()
		}
		s.Sockets.remove(c)
	})
}

// startPings pings c every interval from a timer (no goroutine waits
// between pings: an idle socket costs little) and closes c when a ping is
// not answered within the interval. stop waits for a ping in progress.
func (s *server) startPings(ctx context.Context, c *websocket.Conn) (stop func()) {
	every := s.PingInterval
	if every <= 0 {
		every = DefaultPingInterval
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	stopped := false
	var t *time.Timer
	var ping func()
	ping = func() {
		defer wg.Done()
		pctx, cancel := context.WithTimeout(ctx, every)
		err := c.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				_ = c.CloseNow() // not answering: the stream ends with the connection
			}
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			wg.Add(1)
			t.Reset(every)
		}
	}
	mu.Lock()
	wg.Add(1)
	t = time.AfterFunc(every, ping)
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		if t.Stop() {
			wg.Done() // the pending ping will not run
		}
		mu.Unlock()
		wg.Wait()
	}
}

// parseSince reads the since parameter: an integer ≥ 0, default 0.
func parseSince(r *http.Request) (int64, error) {
	vs, ok := r.URL.Query()["since"]
	if !ok {
		return 0, nil
	}
	if len(vs) != 1 {
		return 0, input.Invalid("since", "give it once")
	}
	n, err := strconv.ParseInt(vs[0], 10, 64)
	if err != nil || n < 0 {
		return 0, input.Invalid("since", "must be an integer ≥ 0 (an event seq)")
	}
	return n, nil
}

// ownOrigin reports whether the request's Origin, when present, is the
// server's own origin: the scheme (TLS, directly or per a trusted proxy)
// and the Host the request arrived for. A request without Origin is not
// from a browser page (browsers always send it on a WebSocket).
func ownOrigin(r *http.Request, s *server) bool {
	origin := r.Header.Values("Origin")
	if len(origin) == 0 {
		return true
	}
	scheme := "http"
	if fromTLS(r, s.TrustedProxies) {
		scheme = "https"
	}
	own := normalOrigin(scheme + "://" + r.Host)
	return len(origin) == 1 && own != "" && normalOrigin(origin[0]) == own
}

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	return headerHas(r.Header, "Connection", "upgrade") && headerHas(r.Header, "Upgrade", "websocket")
}

func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
