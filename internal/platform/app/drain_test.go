package app

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// keepalive is one client connection that sends requests in turn, as
// nginx does on its upstream keepalive connections.
type keepalive struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialKeepalive(t *testing.T, addr string) *keepalive {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepalive{t: t, conn: c, r: bufio.NewReader(c)}
}

func (k *keepalive) get(path string) *http.Response {
	k.t.Helper()
	if _, err := io.WriteString(k.conn, "GET "+path+" HTTP/1.1\r\nHost: swiper\r\n\r\n"); err != nil {
		k.t.Fatalf("GET %s: write: %v", path, err)
	}
	_ = k.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		k.t.Fatalf("GET %s: %v", path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// A SIGTERMed replica refuses new connections at once (nginx retries
// those on another replica), answers on its open ones with
// "Connection: close" and /readyz 503 for the delay, then finishes the
// request in flight and stops.
func TestLameDuck(t *testing.T) {
	slowStarted, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pong") })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		close(slowStarted)
		<-release
		io.WriteString(w, "done")
	})
	duck := &lameDuck{h: mux}
	srv := &http.Server{Handler: duck}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()

	ping, ready, slow := dialKeepalive(t, addr), dialKeepalive(t, addr), dialKeepalive(t, addr)
	if resp := ping.get("/ping"); resp.StatusCode != 200 || resp.Close {
		t.Fatalf("before SIGTERM: %d, close=%v (want 200 on a kept-alive connection)", resp.StatusCode, resp.Close)
	}
	if resp := ready.get("/readyz"); resp.StatusCode != 200 {
		t.Fatalf("/readyz before SIGTERM: %d", resp.StatusCode)
	}
	slowDone := make(chan *http.Response, 1)
	go func() {
		_, _ = io.WriteString(slow.conn, "GET /slow HTTP/1.1\r\nHost: swiper\r\n\r\n")
		resp, err := http.ReadResponse(slow.r, nil)
		if err != nil {
			t.Errorf("the request in flight at SIGTERM: %v", err)
			resp = nil
		}
		slowDone <- resp
	}()
	<-slowStarted

	const delay = 400 * time.Millisecond
	stopped := make(chan error, 1)
	go func() { stopped <- duck.stop(srv, ln, delay, 5*time.Second, slog.New(slog.DiscardHandler)) }()
	for !duck.draining.Load() {
		time.Sleep(time.Millisecond)
	}

	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("a new connection was accepted during the lame duck (want it refused, so that nginx retries it elsewhere)")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("new connection during the lame duck: %v (want connection refused)", err)
	}
	if resp := ping.get("/ping"); resp.StatusCode != 200 || !resp.Close {
		t.Errorf("on an open connection during the lame duck: %d, close=%v (want 200 with Connection: close)", resp.StatusCode, resp.Close)
	}
	if resp := ready.get("/readyz"); resp.StatusCode != 503 || !resp.Close {
		t.Errorf("/readyz during the lame duck: %d, close=%v (want 503 with Connection: close)", resp.StatusCode, resp.Close)
	}
	select {
	case err := <-stopped:
		t.Fatalf("stop returned during the lame duck, with a request in flight: %v", err)
	case <-time.After(delay / 2):
	}
	close(release)
	if resp := <-slowDone; resp == nil || resp.StatusCode != 200 {
		t.Errorf("the request in flight at SIGTERM was not answered: %v", resp)
	} else if b, _ := io.ReadAll(resp.Body); !strings.Contains(string(b), "done") {
		t.Errorf("the request in flight at SIGTERM: body %q", b)
	}
	if err := <-stopped; err != nil {
		t.Errorf("stop: %v", err)
	}
}
