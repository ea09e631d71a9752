package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// socketServer serves events sockets of user 1 (past the checks of
// getEvents, which need the auth service) as getEvents does.
func socketServer(t *testing.T) (*server, *httptest.Server) {
	t.Helper()
	s := &server{Deps: Deps{Log: slog.New(slog.DiscardHandler), Sockets: NewSockets(),
		Events: events.New(events.Deps{Log: events.NewMemory(clock.Real{}, events.Limits{})})}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		s.serveEvents(context.WithoutCancel(r.Context()), c, 1, 0)
	}))
	t.Cleanup(func() {
		_ = s.Sockets.Shutdown(context.Background())
		ts.Close()
	})
	return s, ts
}

// rawSocket opens an events socket with a bare TCP connection (no
// goroutine on the client side), writing extra right after the handshake.
func rawSocket(t *testing.T, ts *httptest.Server, extra []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := c.Write(append([]byte(req), extra...)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		t.Fatalf("handshake answered %q, %v", status, err)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			return c, br
		}
	}
}

// readFrame reads one unmasked server frame (payload < 126 bytes).
func readFrame(t *testing.T, br *bufio.Reader) (opcode byte, payload []byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatal(err)
	}
	payload = make([]byte, h[1]&0x7f)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	return h[0] & 0x0f, payload
}

// An idle events socket holds one goroutine (the reader of pongs and the
// close frame); a writer runs only while an event is sent, to every socket
// of the user.
func TestIdleSocketHoldsOneGoroutine(t *testing.T) {
	s, ts := socketServer(t)
	const n = 50
	before := runtime.NumGoroutine()
	readers := make([]*bufio.Reader, n)
	for i := range readers {
		_, readers[i] = rawSocket(t, ts, nil)
	}
	for s.Sockets.Len() < n {
		time.Sleep(time.Millisecond)
	}
	settle := func() int {
		got := 0
		for range 200 {
			if got = runtime.NumGoroutine() - before; got <= n {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		return got
	}
	if got := settle(); got > n {
		t.Fatalf("%d idle sockets hold %d goroutines; want %d", n, got, n)
	}
	if err := s.Events.Publish(context.Background(), events.Outgoing{To: 1, Type: events.TypeMatch, Data: 1}); err != nil {
		t.Fatal(err)
	}
	for _, br := range readers {
		op, p := readFrame(t, br)
		var ev events.Event
		if err := json.Unmarshal(p, &ev); op != 1 || err != nil || ev.Seq != 1 || ev.Type != events.TypeMatch {
			t.Fatalf("frame %d %q; want the match event, seq 1", op, p)
		}
	}
	if got := settle(); got > n {
		t.Fatalf("after an event, %d idle sockets hold %d goroutines; want %d", n, got, n)
	}
}

// What a client writes right behind the handshake is not lost with
// net/http's buffers: a ping sent with it is answered.
func TestSocketKeepsBytesWrittenAhead(t *testing.T) {
	_, ts := socketServer(t)
	// A masked ping "hi" (mask key 0: the payload as is).
	_, br := rawSocket(t, ts, []byte{0x89, 0x82, 0, 0, 0, 0, 'h', 'i'})
	if op, p := readFrame(t, br); op != 0xA || string(p) != "hi" {
		t.Fatalf("frame %d %q; want the pong hi", op, p)
	}
}
