package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// lameDuck is how a replica leaves nginx's upstream without a client
// seeing an error (topology test TestFaultReplicaSIGTERM). nginx never
// sends a POST twice, so the replica must not drop a connection on which
// nginx may have written a request. Two kinds of connection are at risk:
//
//   - one still waiting in the listener's accept queue: closing the
//     listener resets it after nginx has written its request. So the
//     listener is closed first, while nginx is still reusing its keepalive
//     connections and rarely opens new ones; from then on a connect is
//     refused, which nginx retries on the other replica (nothing was sent)
//     and counts as the replica's failure, so it stops choosing it;
//   - an idle keepalive connection: for delay the replica answers every
//     request on its open connections with "Connection: close" (and
//     /readyz with 503), and nginx closes its idle ones itself after its
//     upstream keepalive_timeout (1 s, below the 2 s default delay). Only
//     then does Shutdown close what is idle and wait for what is running.
type lameDuck struct {
	h        http.Handler
	draining atomic.Bool
}

func (l *lameDuck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if l.draining.Load() {
		w.Header().Set("Connection", "close")
		if r.URL.Path == "/readyz" {
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
	}
	l.h.ServeHTTP(w, r)
}

// stop drains srv, which serves ln: it stops accepting, serves open
// connections with "Connection: close" for delay, then shuts srv down,
// waiting at most timeout for in-flight requests.
func (l *lameDuck) stop(srv *http.Server, ln net.Listener, delay, timeout time.Duration, log *slog.Logger) error {
	_ = ln.Close() // srv.Serve returns; its connections stay served
	l.draining.Store(true)
	log.Info("shutting down: not accepting; lame duck on open connections", "delay", delay.String())
	time.Sleep(delay)
	log.Info("shutting down: draining requests")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("app: requests still running after %s: %w", timeout, err)
	}
	return nil
}
