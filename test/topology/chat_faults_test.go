package topology_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// ------------------------------------------------------------ chat under a Redis outage

// cfAttempt is one POST of a message.
type cfAttempt struct {
	sender   int64
	clientID string
	res      result
}

// cfMessages reads the whole conversation of cl's user with peer through
// base (every page, newest first) and returns its messages.
func cfMessages(cl *client, base string, peer int64) ([]wsMessageBody, error) {
	var out []wsMessageBody
	before := int64(0)
	for {
		u := base + fmt.Sprintf("/api/v1/conversations/%d/messages?limit=100", peer)
		if before > 0 {
			u += "&before=" + strconv.FormatInt(before, 10)
		}
		r := cl.json("GET", u, nil)
		if r.err != nil || r.status != 200 || r.code != 0 {
			return nil, fmt.Errorf("GET %s: %s", u, r)
		}
		var page struct {
			Messages []wsMessageBody `json:"messages"`
			HasMore  bool            `json:"has_more"`
		}
		if err := json.Unmarshal(r.data, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Messages...)
		if !page.HasMore || len(page.Messages) == 0 {
			return out, nil
		}
		before = page.Messages[len(page.Messages)-1].ID
	}
}

type wsMessageBody struct {
	ID       int64     `json:"id"`
	From     int64     `json:"from"`
	ClientID string    `json:"client_id"`
	SentAt   time.Time `json:"sent_at"`
}

// Redis is SIGKILLed for 4 s while matched pairs chat, each user with a
// socket through nginx and one on each replica, each sender retrying every
// failed send with the same client_id until it is accepted. During the
// outage sends answer 503 5001 with Retry-After, fast, never 500 nor a
// hang, and none is accepted; afterwards every accepted message is in the
// conversation exactly once for both users, every socket has got every
// message of its user exactly once (reconnecting with since when it was
// closed; a resync counts only when followed by the REST reload the
// contract prescribes, and is reported), a new device replaying from
// since=0 finds the whole stream (AOF), and live delivery works again on
// every replica with no server process restarted. Sockets opened and
// conversations read during the outage get a fast 503 too.
func TestFaultChatRedisDown(t *testing.T) {
	const (
		pairs        = 4
		sendEvery    = 550 * time.Millisecond // under the 20 messages per 10 s limit
		retryEvery   = 200 * time.Millisecond // faster than Retry-After, to probe the outage densely
		fastBound    = time.Second            // a 503 slower than this is not "fast"
		anyBound     = 3 * time.Second        // no exchange at all slower than this
		outageLength = 4 * time.Second
		burstPerUser = 4
		killAfter    = 12 * time.Millisecond // into the burst
	)
	// pairs chatting pairs, and one quiet pair (the last) that sends one
	// message each as soon as Redis is back and nothing after: no later
	// event of theirs reveals a gap, so their sockets get those only from a
	// fan-out that is subscribed again (or its catch-up on resubscribing).
	var users []chatter
	for i := 0; i < 2*(pairs+1); i++ {
		users = append(users, c.chatter(t))
	}
	for i := 0; i < pairs+1; i++ {
		c.matchPair(t, users[2*i], users[2*i+1])
	}
	quiet := func(i int) bool { return i >= 2*pairs }
	peerOf := func(i int) chatter { return users[i^1] }
	bases := []string{c.url(""), c.replicaURL(0, ""), c.replicaURL(1, "")}
	baseNames := []string{"nginx", "replica1", "replica2"}

	pidsBefore := []int{c.nginx.pid(), c.replicas[0].pid(), c.replicas[1].pid(), c.worker.pid()}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	socks := make([][]*eventSocket, len(users))
	for i, u := range users {
		peer := peerOf(i)
		reload := func() ([]string, error) {
			ms, err := cfMessages(u.cl, c.url(""), peer.id)
			if err != nil {
				return nil, err
			}
			ids := make([]string, len(ms))
			for k, m := range ms {
				ids[k] = m.ClientID
			}
			return ids, nil
		}
		for b, base := range bases {
			socks[i] = append(socks[i], openEventSocket(t, ctx, &wg, fmt.Sprintf("user %d via %s", u.id, baseNames[b]), base, u.cl.token, reload))
		}
	}
	time.Sleep(300 * time.Millisecond)

	// Senders: each user sends a new message every sendEvery, in turn
	// through nginx and each replica, and retries a failed one (same
	// client_id) until it is accepted.
	var (
		mu       sync.Mutex
		attempts []cfAttempt
		accepted = map[int64][]string{} // sender → client_ids answered code 0, in order
	)
	// send posts message id from u to peer through base, retrying with the
	// same client_id until it is accepted.
	send := func(u, peer chatter, base, id string) bool {
		deadline := time.Now().Add(60 * time.Second)
		for {
			r := u.cl.json("POST", base+fmt.Sprintf("/api/v1/conversations/%d/messages", peer.id),
				map[string]any{"text": "hello " + id, "client_id": id})
			mu.Lock()
			attempts = append(attempts, cfAttempt{sender: u.id, clientID: id, res: r})
			if r.err == nil && r.status == 200 && r.code == 0 {
				accepted[u.id] = append(accepted[u.id], id)
				mu.Unlock()
				return true
			}
			mu.Unlock()
			if time.Now().After(deadline) {
				t.Errorf("message %s was never accepted in 60 s; last answer %s", id, r)
				return false
			}
			time.Sleep(retryEvery)
		}
	}
	stopSending := make(chan struct{})
	var swg sync.WaitGroup
	for i, u := range users {
		if quiet(i) {
			continue
		}
		peer := peerOf(i)
		swg.Add(1)
		go func() {
			defer swg.Done()
			for n := 0; ; n++ {
				select {
				case <-stopSending:
					return
				default:
				}
				if !send(u, peer, bases[n%len(bases)], fmt.Sprintf("cf%d-%d", u.id, n)) {
					return
				}
				time.Sleep(sendEvery)
			}
		}()
	}

	// The kill lands in a burst of sends, so that some are between their
	// commit in MariaDB and the publishing of their events when Redis
	// dies: they answer 503 with the message stored, and their retry must
	// publish it exactly once.
	time.Sleep(2 * time.Second)
	burst := make(chan struct{})
	for i, u := range users {
		if quiet(i) {
			continue
		}
		peer := peerOf(i)
		for k := 0; k < burstPerUser; k++ {
			swg.Add(1)
			go func() {
				defer swg.Done()
				<-burst
				time.Sleep(time.Duration(k) * 4 * time.Millisecond)
				send(u, peer, bases[(i+k)%len(bases)], fmt.Sprintf("cf%d-b%d", u.id, k))
			}()
		}
	}
	close(burst)
	time.Sleep(killAfter)
	c.redis.signal(syscall.SIGKILL)
	if !c.redis.wait(5 * time.Second) {
		t.Fatal("redis-server did not die of SIGKILL")
	}
	down := time.Now()
	// A socket opened during the outage (through nginx and on each
	// replica) and a conversation read are refused fast with 503 5001.
	time.Sleep(time.Second)
	var probes []string
	for b, base := range bases {
		start := time.Now()
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		conn, resp, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+"/api/v1/events?since=0",
			&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + users[0].cl.token}}})
		dcancel()
		took := time.Since(start)
		switch {
		case err == nil:
			_ = conn.CloseNow()
			t.Errorf("a socket through %s opened while Redis was down (no session check)", baseNames[b])
		case resp == nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || took > fastBound:
			t.Errorf("socket handshake through %s during the outage: %v after %s (want a fast 503 with Retry-After)", baseNames[b], err, took)
		default:
			probes = append(probes, fmt.Sprintf("socket via %s 503 in %s", baseNames[b], took.Round(time.Millisecond)))
		}
		r := users[0].cl.json("GET", base+fmt.Sprintf("/api/v1/conversations/%d/messages", users[1].id), nil)
		if !is503(r) || r.latency() > fastBound {
			t.Errorf("GET messages through %s during the outage: %s after %s (want a fast 503 5001 with Retry-After)", baseNames[b], r, r.latency())
		}
	}
	time.Sleep(outageLength - time.Since(down))
	restart := time.Now()
	if err := c.restartRedis(); err != nil {
		t.Fatalf("redis restart: %v", err)
	}
	up := time.Now()
	for i, u := range users {
		if quiet(i) {
			swg.Add(1)
			go func() {
				defer swg.Done()
				send(u, peerOf(i), bases[1+i%2], fmt.Sprintf("cfq%d", u.id))
			}()
		}
	}
	time.Sleep(4 * time.Second)
	close(stopSending)
	swg.Wait()
	sendersDone := time.Now()

	// 1. The answers: 503 5001 with Retry-After or success, nothing else;
	// fast; none accepted while Redis was down.
	outage := window{down.Add(300 * time.Millisecond), restart}
	var lat503 []time.Duration
	var inOutage, acceptedInOutage, other, slow, slowAny int
	firstOK := time.Time{}
	for _, a := range attempts {
		r := a.res
		switch {
		case r.err == nil && r.status == 200 && r.code == 0:
		case is503(r):
			lat503 = append(lat503, r.latency())
			if r.latency() > fastBound {
				slow++
				if slow <= 3 {
					t.Errorf("a 503 took %s (bound %s): %s %s", r.latency().Round(time.Millisecond), fastBound, a.clientID, r)
				}
			}
		default:
			other++
			if other <= 5 {
				t.Errorf("send %s at %s answered %s: want code 0 or 503 5001 with Retry-After", a.clientID, r.start.Format("15:04:05.000"), r)
			}
		}
		if r.latency() > anyBound {
			slowAny++
		}
		if r.latency() > anyBound && slowAny <= 3 {
			t.Errorf("send %s took %s (bound %s): %s", a.clientID, r.latency().Round(time.Millisecond), anyBound, r)
		}
		if outage.contains(r) {
			inOutage++
			if !is503(r) {
				acceptedInOutage++
				if acceptedInOutage <= 3 {
					t.Errorf("send %s during the Redis outage answered %s: want 503 5001", a.clientID, r)
				}
			}
		}
		if r.status == 200 && r.code == 0 && r.start.After(up) && (firstOK.IsZero() || r.end.Before(firstOK)) {
			firstOK = r.end
		}
	}
	if inOutage == 0 || len(lat503) == 0 {
		t.Fatalf("no send fell inside the outage (%d inside, %d ×503): the test proved nothing", inOutage, len(lat503))
	}
	slices.Sort(lat503)
	// Each sender's first acceptance after Redis was back.
	var senderRecovery time.Duration
	for _, u := range users {
		var first time.Time
		for _, a := range attempts {
			if a.sender == u.id && a.res.status == 200 && a.res.code == 0 && a.res.start.After(up) {
				first = a.res.end
				break
			}
		}
		if first.IsZero() {
			t.Errorf("user %d had no send accepted in the 4 s after Redis came back", u.id)
			continue
		}
		senderRecovery = max(senderRecovery, first.Sub(up))
	}

	// 2. The conversations: every accepted message exactly once, for both
	// users, nothing else.
	want := map[int64][]string{} // user → client_ids of their conversation
	for i, u := range users {
		peer := peerOf(i)
		want[u.id] = append(append([]string{}, accepted[u.id]...), accepted[peer.id]...)
	}
	senderOf := map[string]int64{}
	for u, ids := range accepted {
		for _, id := range ids {
			senderOf[id] = u
		}
	}
	total := 0
	for i, u := range users {
		peer := peerOf(i)
		total += len(accepted[u.id])
		ms, err := cfMessages(u.cl, c.url(""), peer.id)
		if err != nil {
			t.Fatalf("user %d's conversation: %v", u.id, err)
		}
		seen := map[string]int{}
		for _, m := range ms {
			seen[m.ClientID]++
			if from := senderOf[m.ClientID]; m.From != from {
				t.Errorf("message %s is from %d, want %d", m.ClientID, m.From, from)
			}
		}
		for _, id := range want[u.id] {
			if seen[id] != 1 {
				t.Errorf("user %d's conversation holds accepted message %s %d times, want 1", u.id, id, seen[id])
			}
			delete(seen, id)
		}
		for id, n := range seen {
			t.Errorf("user %d's conversation holds %s (%d times), never answered code 0", u.id, id, n)
		}
	}

	// Messages stored by an attempt that answered 503 (their commit came
	// before their sender's accepted attempt began): the retry published them.
	storedBy503 := 0
	okStart := map[string]time.Time{}
	for _, a := range attempts {
		if a.res.status == 200 && a.res.code == 0 {
			okStart[a.clientID] = a.res.start
		}
	}
	for i, u := range users {
		ms, err := cfMessages(u.cl, c.url(""), peerOf(i).id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.From == u.id && m.SentAt.Add(time.Millisecond).Before(okStart[m.ClientID]) {
				storedBy503++
			}
		}
	}

	// 3. The sockets: every message of the user's conversation exactly
	// once (or reloaded after a resync), with no seq gap.
	until := time.Now().Add(15 * time.Second) // one deadline for all of them
	for i, u := range users {
		for _, s := range socks[i] {
			var bad []string
			if err := waitFor(time.Until(until), func() error {
				bad, _ = s.check(want[u.id])
				if len(bad) > 0 {
					return fmt.Errorf("%d of %d missing or repeated: %v", len(bad), len(want[u.id]), bad)
				}
				return nil
			}); err != nil {
				t.Errorf("socket %s: %v", s.name, err)
			}
		}
	}
	caughtUp := time.Now()

	// A new device of each user (since=0, through nginx) replays the whole
	// stream: the log survived the crash (AOF) whole, numbered 1, 2, … with
	// no hole or repeat, every message in it once.
	for i, u := range users {
		fresh := openEventSocket(t, ctx, &wg, fmt.Sprintf("user %d new device", u.id), c.url(""), u.cl.token, func() ([]string, error) {
			return nil, fmt.Errorf("resync on since=0")
		})
		if err := waitFor(5*time.Second, func() error {
			if bad, _ := fresh.check(want[u.id]); len(bad) > 0 {
				return fmt.Errorf("%d of %d missing or repeated: %v", len(bad), len(want[u.id]), bad)
			}
			return nil
		}); err != nil {
			t.Errorf("replay from since=0 for user %d: %v", u.id, err)
		}
		socks[i] = append(socks[i], fresh)
	}

	// 4. Live delivery works again on every replica, with the same server
	// processes: one more message per pair through each replica reaches
	// every socket of both users within 2 s.
	for r := 0; r < 2; r++ {
		var fresh []string
		for i := 0; i < pairs+1; i++ {
			a, b := users[2*i], users[2*i+1]
			id := fmt.Sprintf("cfpost%d-%d", a.id, r)
			sendMessage(t, c.replicaURL(r, ""), a, b.id, id)
			fresh = append(fresh, id)
			want[a.id] = append(want[a.id], id)
			want[b.id] = append(want[b.id], id)
		}
		sent := time.Now()
		until := sent.Add(2 * time.Second)
		for i := range users {
			for _, s := range socks[i] {
				mine := []string{fresh[i/2]}
				if err := waitFor(time.Until(until), func() error {
					if bad, conn := s.check(mine); len(bad) > 0 || !conn {
						return fmt.Errorf("%v (connected %v)", bad, conn)
					}
					return nil
				}); err != nil {
					t.Errorf("after recovery, socket %s did not get a message sent through replica%d within 2 s of %s: %v",
						s.name, r+1, sent.Format("15:04:05.000"), err)
				}
			}
		}
	}
	pidsAfter := []int{c.nginx.pid(), c.replicas[0].pid(), c.replicas[1].pid(), c.worker.pid()}
	for k, p := range []*proc{c.nginx, c.replicas[0], c.replicas[1], c.worker} {
		if pidsAfter[k] != pidsBefore[k] || !p.running() {
			t.Errorf("%s was restarted or stopped (pid %d → %d, running %v): recovery must need no restart",
				p.name, pidsBefore[k], pidsAfter[k], p.running())
		}
	}

	// Report.
	closes, refused := map[int]int{}, map[int]int{}
	reconnects, resyncs := 0, 0
	for i := range users {
		for _, s := range socks[i] {
			s.mu.Lock()
			if len(s.problems) > 0 {
				t.Errorf("socket %s: %v", s.name, s.problems)
			}
			for k, v := range s.closes {
				closes[k] += v
			}
			for k, v := range s.refused {
				refused[k] += v
			}
			reconnects += s.connects - 1
			resyncs += s.resyncs
			s.mu.Unlock()
		}
	}
	if resyncs > 0 {
		t.Logf("NOTE: %d resync frames: those sockets reloaded the conversation through REST (the contract's flow) instead of replaying", resyncs)
	}
	t.Logf("Redis down %s (SIGKILL → restart), back %s after the restart began; %d send attempts (%d accepted messages, %d inside the outage), %d ×503 (p50 %s, max %s), %d other answers",
		restart.Sub(down).Round(time.Millisecond), up.Sub(restart).Round(time.Millisecond), len(attempts), total, inOutage,
		len(lat503), lat503[len(lat503)/2].Round(time.Millisecond), lat503[len(lat503)-1].Round(time.Millisecond), other)
	t.Logf("recovery: first send accepted %s after Redis was back, every sender %s after; sockets caught up %s after the senders stopped (%s after Redis was back)",
		firstOK.Sub(up).Round(time.Millisecond), senderRecovery.Round(time.Millisecond),
		caughtUp.Sub(sendersDone).Round(time.Millisecond), caughtUp.Sub(up).Round(time.Millisecond))
	t.Logf("during the outage: %s; GET messages 503 too", strings.Join(probes, ", "))
	t.Logf("%d messages were stored by an attempt that answered 503 (Redis died between the commit and the events) and published by their retry", storedBy503)
	t.Logf("%d sockets (%d users × nginx, replica1, replica2, and a new device replaying from since=0 after recovery): closes by code %v, handshakes refused by status %v, %d reconnects, %d resyncs; no server process restarted",
		len(users)*(len(bases)+1), len(users), closes, refused, reconnects, resyncs)
}
