package topology_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// chatter is a logged-in user of the events tests.
type chatter struct {
	id int64
	cl *client
}

func (c *cluster) chatter(t *testing.T) chatter {
	t.Helper()
	cl := c.newClient()
	id := c.login(t, cl, c.nextPhone())
	return chatter{id: id, cl: cl}
}

// matchPair makes a and b match, through nginx.
func (c *cluster) matchPair(t *testing.T, a, b chatter) {
	t.Helper()
	decode[swipeAnswer](t, a.cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": b.id, "action": "like"}))
	if s := decode[swipeAnswer](t, b.cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": a.id, "action": "like"})); !s.Matched {
		t.Fatalf("users %d and %d did not match", a.id, b.id)
	}
}

type wsFrame struct {
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

type wsMessage struct {
	UserID  int64 `json:"user_id"`
	Message struct {
		ID       int64  `json:"id"`
		From     int64  `json:"from"`
		ClientID string `json:"client_id"`
	} `json:"message"`
}

// sendMessage POSTs a message through base, retrying with the same
// client_id until it is accepted (a retry never makes a second message).
func sendMessage(t *testing.T, base string, from chatter, to int64, clientID string) {
	for i := 0; i < 50; i++ {
		r := from.cl.json("POST", base+fmt.Sprintf("/api/v1/conversations/%d/messages", to),
			map[string]any{"text": "hi " + clientID, "client_id": clientID})
		if r.err == nil && r.status == 200 && r.code == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("message %s from %d was never accepted", clientID, from.id)
}

// A socket on replica 1 gets what is POSTed through replica 2, within
// 100 ms; a socket through nginx too.
func TestEventsAcrossReplicas(t *testing.T) {
	a, b := c.chatter(t), c.chatter(t)
	c.matchPair(t, a, b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	onReplica := openEventSocket(t, ctx, &wg, "replica 1", c.replicaURL(0, ""), a.cl.token, nil)
	viaNginx := openEventSocket(t, ctx, &wg, "nginx", c.url(""), a.cl.token, nil)
	time.Sleep(200 * time.Millisecond)
	var want []string
	for i := 0; i < 5; i++ {
		id := fmt.Sprintf("x%d-%d", b.id, i)
		want = append(want, id)
		start := time.Now()
		sendMessage(t, c.replicaURL(1, ""), b, a.id, id)
		if err := waitFor(5*time.Second, func() error {
			if m := onReplica.missing([]string{id}); len(m) > 0 {
				return fmt.Errorf("missing %v", m)
			}
			return nil
		}); err != nil {
			t.Fatalf("socket on replica 1: %v", err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("POST on replica 2 → frame on replica 1: %s", d)
		}
	}
	if err := waitFor(5*time.Second, func() error {
		if m := viaNginx.missing(want); len(m) > 0 {
			return fmt.Errorf("missing %v", m)
		}
		return nil
	}); err != nil {
		t.Fatalf("socket through nginx: %v", err)
	}
	for _, s := range []*eventSocket{onReplica, viaNginx} {
		if len(s.problems) > 0 {
			t.Errorf("problems: %v", s.problems)
		}
	}
}

// SIGTERM a replica while 50 sockets are open through nginx and messages
// flow: its sockets close with 1012, every client reconnects with since
// (nginx sends it to the other replica), and each socket gets every
// message of its user exactly once, checked message by message.
func TestEventsReplicaSIGTERM(t *testing.T) {
	const pairs, socketsPerUser = 5, 5
	var users []chatter
	for i := 0; i < 2*pairs; i++ {
		users = append(users, c.chatter(t))
	}
	for i := 0; i < pairs; i++ {
		c.matchPair(t, users[2*i], users[2*i+1])
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	socks := map[int64][]*eventSocket{}
	for _, u := range users {
		for j := 0; j < socketsPerUser; j++ {
			socks[u.id] = append(socks[u.id], openEventSocket(t, ctx, &wg, fmt.Sprintf("user %d", u.id), c.url(""), u.cl.token, nil))
		}
	}
	time.Sleep(300 * time.Millisecond)

	// Every user sends a message every 400 ms for 6 s; replica 1 gets
	// SIGTERM after 2 s.
	var mu sync.Mutex
	sent := map[int64][]string{} // user → client_ids of the messages to or from them
	var swg sync.WaitGroup
	for i, u := range users {
		peer := users[i^1]
		swg.Add(1)
		go func() {
			defer swg.Done()
			for n := 0; n < 15; n++ {
				id := fmt.Sprintf("s%d-%d", u.id, n)
				sendMessage(t, c.url(""), u, peer.id, id)
				mu.Lock()
				sent[u.id] = append(sent[u.id], id)
				sent[peer.id] = append(sent[peer.id], id)
				mu.Unlock()
				time.Sleep(400 * time.Millisecond)
			}
		}()
	}
	time.Sleep(2 * time.Second)
	c.replicas[0].signal(syscall.SIGTERM)
	swg.Wait()
	if !c.replicas[0].wait(30 * time.Second) {
		t.Fatal("replica 1 did not exit within 30 s of SIGTERM")
	}
	defer func() {
		if err := c.restartReplica(0); err != nil {
			t.Fatal(err)
		}
	}()

	closed1012, reconnects := 0, 0
	for _, u := range users {
		for k, s := range socks[u.id] {
			if err := waitFor(10*time.Second, func() error {
				if m := s.missing(sent[u.id]); len(m) > 0 {
					return fmt.Errorf("%d of %d missing or repeated: %v", len(m), len(sent[u.id]), m)
				}
				return nil
			}); err != nil {
				t.Errorf("user %d socket %d: %v", u.id, k, err)
			}
			s.mu.Lock()
			if len(s.problems) > 0 {
				t.Errorf("user %d socket %d: %v", u.id, k, s.problems)
			}
			closed1012 += s.closes[int(websocket.StatusServiceRestart)]
			reconnects += s.connects - 1
			s.mu.Unlock()
		}
	}
	if closed1012 == 0 {
		t.Errorf("no socket was closed with 1012 (closes seen on replica 1's SIGTERM)")
	}
	t.Logf("%d sockets; %d closed with 1012, %d reconnects; %d messages each checked on every socket of both users",
		2*pairs*socketsPerUser, closed1012, reconnects, 15*2*pairs)
}
