package topology_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// eventSocket is an events client that behaves as the contract says a real
// one does: it reconnects with since whenever its socket closes (or the
// handshake is refused), and on a resync frame it reloads the conversation
// through REST (reload) and continues from the frame's seq. It records
// every message event it gets, and what it learnt from reloads. With a nil
// reload, a resync is a problem: the test expected none.
type eventSocket struct {
	name   string
	base   string
	token  string
	reload func() ([]string, error) // client_ids of the user's conversation, through REST

	mu        sync.Mutex
	last      int64
	got       map[string]int  // client_id of message events → times received on the socket
	reloaded  map[string]bool // client_ids learnt by a REST reload after a resync
	resyncs   int
	connects  int
	connected bool
	closes    map[int]int // close code → count
	refused   map[int]int // handshake answer status (0: transport error) → count
	problems  []string
}

func openEventSocket(t *testing.T, ctx context.Context, wg *sync.WaitGroup, name, base, token string, reload func() ([]string, error)) *eventSocket {
	t.Helper()
	s := &eventSocket{name: name, base: base, token: token, reload: reload, got: map[string]int{},
		reloaded: map[string]bool{}, closes: map[int]int{}, refused: map[int]int{}}
	connected := make(chan struct{}, 1)
	wg.Add(1)
	go func() { defer wg.Done(); s.run(ctx, connected) }()
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatalf("socket %s did not connect", name)
	}
	return s
}

func (s *eventSocket) run(ctx context.Context, connected chan struct{}) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		s.mu.Lock()
		since := s.last
		s.mu.Unlock()
		u := "ws" + strings.TrimPrefix(s.base, "http") + "/api/v1/events?since=" + strconv.FormatInt(since, 10)
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + s.token}}})
		cancel()
		if err != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			s.mu.Lock()
			s.refused[status]++
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 500*time.Millisecond)
			continue
		}
		backoff = 50 * time.Millisecond
		s.mu.Lock()
		s.connects++
		s.connected = true
		s.mu.Unlock()
		select {
		case connected <- struct{}{}:
		default:
		}
		stop := context.AfterFunc(ctx, func() { _ = conn.CloseNow() })
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				s.mu.Lock()
				s.connected = false
				if ctx.Err() == nil {
					s.closes[int(websocket.CloseStatus(err))]++
				}
				s.mu.Unlock()
				break
			}
			var f wsFrame
			if err := json.Unmarshal(b, &f); err != nil {
				s.problem("frame %s: %v", b, err)
				continue
			}
			if f.Type == "resync" && s.reload != nil {
				s.resync(ctx, f.Seq)
				continue
			}
			s.mu.Lock()
			if f.Type == "resync" {
				s.problems = append(s.problems, fmt.Sprintf("resync after %d", s.last))
			} else if f.Seq != s.last+1 {
				s.problems = append(s.problems, fmt.Sprintf("seq %d after %d", f.Seq, s.last))
			}
			if f.Seq > s.last {
				s.last = f.Seq
			}
			if f.Type == "message" {
				var m wsMessage
				if err := json.Unmarshal(f.Data, &m); err != nil || m.Message.ClientID == "" {
					s.problems = append(s.problems, fmt.Sprintf("bad message event %s", f.Data))
				}
				s.got[m.Message.ClientID]++
			}
			s.mu.Unlock()
		}
		stop()
		_ = conn.CloseNow()
	}
}

// resync follows the contract: reload through REST, then continue from
// the frame's seq (the reload happens before later frames are read).
func (s *eventSocket) resync(ctx context.Context, seq int64) {
	var ids []string
	err := waitFor(20*time.Second, func() error {
		if ctx.Err() != nil {
			return nil
		}
		var err error
		ids, err = s.reload()
		return err
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resyncs++
	if err != nil {
		s.problems = append(s.problems, fmt.Sprintf("reload after resync: %v", err))
	}
	for _, id := range ids {
		s.reloaded[id] = true
	}
	s.last = seq
}

func (s *eventSocket) problem(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

// check returns what is wrong with what the socket holds of want: an id
// received more than once, or neither received nor reloaded after a
// resync; and whether it is connected.
func (s *eventSocket) check(want []string) (bad []string, connected bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range want {
		n := s.got[id]
		if n > 1 || n == 0 && !s.reloaded[id] {
			bad = append(bad, fmt.Sprintf("%s×%d", id, n))
		}
	}
	return bad, s.connected
}

// missing returns the client_ids of want not received exactly once.
func (s *eventSocket) missing(want []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, id := range want {
		if s.got[id] != 1 {
			out = append(out, fmt.Sprintf("%s×%d", id, s.got[id]))
		}
	}
	return out
}
