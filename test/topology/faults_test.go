package topology_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ------------------------------------------------------------ load

type op struct {
	kind           string // swipe, me, code, login
	swiper, target int64
	action         string
	phone          string
	res            result
}

// load is a bounded mix of swipes, profile reads and logins through nginx
// by seeded users, recording every exchange.
type load struct {
	users   []int64
	tokens  map[int64]string
	mu      sync.Mutex
	ops     []op
	stop    chan struct{}
	wg      sync.WaitGroup
	targets map[int64][]int64 // per swiper, the targets not tried yet (read-only once the load runs)
}

var (
	loadUsersOnce sync.Once
	loadUsers     []int64
	loadTokens    map[int64]string
	attempted     = map[[2]int64]bool{} // pairs some phase already swiped (any outcome)
)

// seededLoadUsers seeds 200 users with session tokens, once per run.
func seededLoadUsers(t *testing.T) ([]int64, map[int64]string) {
	loadUsersOnce.Do(func() {
		f := c.path("tokens.txt")
		first, last := c.seedUsers(t, 200, 11, "--tokens", "200", "--tokens-file", f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		toks := strings.Fields(string(b))
		loadTokens = map[int64]string{}
		for i, tok := range toks {
			id := first + int64(i)
			loadUsers = append(loadUsers, id)
			loadTokens[id] = tok
		}
		if int64(len(toks)) != last-first+1 {
			t.Fatalf("%d tokens for users %d-%d", len(toks), first, last)
		}
	})
	if len(loadUsers) == 0 {
		t.Fatal("no load users")
	}
	return loadUsers, loadTokens
}

func startLoad(t *testing.T, swipers, logins int) *load {
	users, tokens := seededLoadUsers(t)
	l := &load{users: users, tokens: tokens, stop: make(chan struct{}), targets: map[int64][]int64{}}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for _, u := range users {
		var ts []int64
		for _, v := range users {
			if v != u && !attempted[[2]int64{u, v}] {
				ts = append(ts, v)
			}
		}
		r.Shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
		l.targets[u] = ts
	}
	for g := 0; g < swipers; g++ {
		l.wg.Add(1)
		go l.swiper(g, swipers)
	}
	for g := 0; g < logins; g++ {
		l.wg.Add(1)
		go l.loginer()
	}
	l.wg.Add(1)
	go l.reader()
	return l
}

func (l *load) record(o op) {
	l.mu.Lock()
	l.ops = append(l.ops, o)
	l.mu.Unlock()
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// swiper g swipes for the users g, g+n, g+2n, … in turn, 45 % likes (the
// like rate of a real app is 30-50 %), the rest dislikes.
func (l *load) swiper(g, n int) {
	defer l.wg.Done()
	cl := c.newClient()
	r := rand.New(rand.NewPCG(uint64(g), 2))
	var mine []int64
	next := map[int64]int{} // this goroutine's own cursor into each user's targets
	for i := g; i < len(l.users); i += n {
		mine = append(mine, l.users[i])
	}
	for i := 0; !l.stopped(); i++ {
		u := mine[i%len(mine)]
		ts := l.targets[u]
		if next[u] >= len(ts) {
			continue
		}
		target := ts[next[u]]
		next[u]++
		action := "dislike"
		if r.IntN(100) < 45 {
			action = "like"
		}
		cl.token = l.tokens[u]
		res := cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": target, "action": action})
		l.record(op{kind: "swipe", swiper: u, target: target, action: action, res: res})
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *load) reader() {
	defer l.wg.Done()
	cl := c.newClient()
	for i := 0; !l.stopped(); i++ {
		cl.token = l.tokens[l.users[i%len(l.users)]]
		l.record(op{kind: "me", res: cl.json("GET", c.url("/api/v1/users/me"), nil)})
		time.Sleep(10 * time.Millisecond)
	}
}

// loginer logs in new phones, each from its own address (the per-IP limit
// is 5 codes an hour).
func (l *load) loginer() {
	defer l.wg.Done()
	for !l.stopped() {
		cl := c.newClient()
		phone := c.nextPhone()
		res := cl.json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": phone})
		l.record(op{kind: "code", phone: phone, res: res})
		if res.status != 200 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var code string
		_ = waitFor(5*time.Second, func() error {
			if cs := smsCodes(c.worker)[maskOf(phone)]; len(cs) > 0 {
				code = cs[0]
				return nil
			}
			if l.stopped() {
				return nil
			}
			return fmt.Errorf("no code yet")
		})
		if code == "" {
			continue
		}
		l.record(op{kind: "login", phone: phone, res: cl.json("POST", c.url("/api/v1/sessions"), map[string]string{"phone": phone, "code": code})})
	}
}

func (l *load) finish() []op {
	close(l.stop)
	l.wg.Wait()
	for _, o := range l.ops {
		if o.kind == "swipe" {
			attempted[[2]int64{o.swiper, o.target}] = true
		}
	}
	return l.ops
}

// snapshot returns the ops recorded so far.
func (l *load) snapshot() []op {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ops)
}

func is503(r result) bool {
	return r.err == nil && r.status == 503 && r.code == 5001 && r.header.Get("Retry-After") != ""
}

// waitRecovered waits until the last 40 swipes that started after since
// all succeeded or failed definitively (no 5xx, no transport error).
func waitRecovered(t *testing.T, l *load, since time.Time, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	err := waitFor(d, func() error {
		var recent []op
		for _, o := range l.snapshot() {
			if o.kind == "swipe" && o.res.start.After(since) {
				recent = append(recent, o)
			}
		}
		if len(recent) < 40 {
			return fmt.Errorf("only %d swipes since", len(recent))
		}
		for _, o := range recent[len(recent)-40:] {
			if o.res.err != nil || o.res.status >= 500 {
				return fmt.Errorf("still failing: %s", o.res)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("no recovery within %s after the dependency returned: %v", d, err)
	}
	return time.Since(start)
}

type window struct{ from, to time.Time }

func (w window) contains(r result) bool { return r.start.After(w.from) && r.end.Before(w.to) }

// summary prints what happened and checks the rules every fault shares:
// no 5xx other than 503 5001 with Retry-After (so no 500, no 502 from
// nginx, no transport error), no exchange slower than maxLatency.
func summarize(t *testing.T, name string, ops []op, outage window, maxLatency time.Duration) {
	t.Helper()
	type stat struct {
		n, ok, unavailable, other int
		maxLat                    time.Duration
	}
	stats := map[string]*stat{}
	var inside []time.Duration
	for _, o := range ops {
		s := stats[o.kind]
		if s == nil {
			s = &stat{}
			stats[o.kind] = s
		}
		s.n++
		switch {
		case o.res.err == nil && o.res.status < 500:
			s.ok++
		case is503(o.res):
			s.unavailable++
		default:
			s.other++
			if s.other <= 3 {
				t.Errorf("%s: %s %s answered %s (want a definitive answer or 503 5001 with Retry-After)", name, o.kind, o.res.start.Format("15:04:05.000"), o.res)
			}
		}
		lat := o.res.latency()
		s.maxLat = max(s.maxLat, lat)
		if outage.contains(o.res) {
			inside = append(inside, lat)
		}
		if lat > maxLatency {
			t.Errorf("%s: %s took %s (bound %s): %s", name, o.kind, lat.Round(time.Millisecond), maxLatency, o.res)
		}
	}
	slices.Sort(inside)
	p50, pmax := time.Duration(0), time.Duration(0)
	if len(inside) > 0 {
		p50, pmax = inside[len(inside)/2], inside[len(inside)-1]
	}
	var b strings.Builder
	for _, k := range []string{"swipe", "me", "code", "login"} {
		if s := stats[k]; s != nil {
			fmt.Fprintf(&b, " %s: %d (%d ok/4xx, %d ×503, %d other, max %s);", k, s.n, s.ok, s.unavailable, s.other, s.maxLat.Round(time.Millisecond))
		}
	}
	t.Logf("%s:%s outage %s, latency inside it p50 %s max %s", name, b.String(), outage.to.Sub(outage.from).Round(time.Millisecond),
		p50.Round(time.Millisecond), pmax.Round(time.Millisecond))
}

// checkSwipes compares the answers with the database: every 200 swipe has
// its row with its action (none lost), no row exists for a pair whose
// only answer was a definitive refusal, and rows whose request failed in
// an ambiguous way (503 while the commit may have happened) are counted.
func checkSwipes(t *testing.T, name string, ops []op) {
	t.Helper()
	type key [2]int64
	got := map[key]int{}
	rows, err := c.db.Query("SELECT swiper_id, swiped_id, action FROM swipes")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k key
		var a int
		if err := rows.Scan(&k[0], &k[1], &a); err != nil {
			t.Fatal(err)
		}
		got[k] = a
	}
	rows.Close()
	actions := map[string]int{"like": 1, "superlike": 2, "dislike": 3}
	accepted, lost, refusedStored, ambiguous, ambiguousStored := 0, 0, 0, 0, 0
	for _, o := range ops {
		if o.kind != "swipe" {
			continue
		}
		k := key{o.swiper, o.target}
		a, stored := got[k]
		switch {
		case o.res.err == nil && o.res.status == 200:
			accepted++
			if !stored || a != actions[o.action] {
				lost++
				if lost <= 3 {
					t.Errorf("%s: swipe %d→%d %s answered 200 but the row is %v (stored %v)", name, o.swiper, o.target, o.action, a, stored)
				}
			}
		case o.res.err == nil && o.res.status < 500 && o.res.code != 2002:
			if stored {
				refusedStored++
				t.Errorf("%s: swipe %d→%d refused (%s) but stored", name, o.swiper, o.target, o.res)
			}
		case o.res.status >= 500 || o.res.err != nil:
			ambiguous++
			if stored {
				ambiguousStored++
			}
		}
	}
	t.Logf("%s: %d swipes accepted, %d lost, %d failed with 503/transport error (%d of those committed anyway before the failure), %d refused but stored",
		name, accepted, lost, ambiguous, ambiguousStored, refusedStored)
}

// checkSMS: every code request answered 200 produced exactly one SMS, every
// one answered 503 none (nothing enqueued).
func checkSMS(t *testing.T, name string, ops []op) {
	t.Helper()
	var sent, refused []string
	for _, o := range ops {
		if o.kind != "code" {
			continue
		}
		if o.res.status == 200 {
			sent = append(sent, o.phone)
		} else if is503(o.res) {
			refused = append(refused, o.phone)
		}
	}
	err := waitFor(30*time.Second, func() error {
		codes := smsCodes(c.worker)
		for _, p := range sent {
			if n := len(codes[maskOf(p)]); n != 1 {
				return fmt.Errorf("%s: %d SMS for an accepted code request, want exactly 1", maskOf(p), n)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("%s: %v", name, err)
	}
	codes := smsCodes(c.worker)
	for _, p := range refused {
		if n := len(codes[maskOf(p)]); n != 0 {
			t.Errorf("%s: %s got %d SMS although its code request answered 503", name, maskOf(p), n)
		}
	}
	t.Logf("%s: %d accepted code requests → 1 SMS each; %d refused with 503 → none", name, len(sent), len(refused))
}

// ------------------------------------------------------------ faults

// (a) Redis is SIGKILLed under load and restarted 4 s later from its AOF.
// During the outage every request — swipes, profile reads, code requests,
// logins, even with a valid code — fails fast with 503 5001: nothing is
// accepted without the session, OTP and limit state. Afterwards the old
// sessions work again (AOF), the service recovers without a restart, and
// the invariants hold.
func TestFaultRedisDown(t *testing.T) {
	users, tokens := seededLoadUsers(t)
	// A code requested before the outage, used during it.
	pre := c.newClient()
	prePhone := c.nextPhone()
	if r := pre.json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": prePhone}); r.status != 200 {
		t.Fatalf("code request: %s", r)
	}
	preCode := waitCode(t, prePhone, 1, 10*time.Second, c.worker)
	time.Sleep(1100 * time.Millisecond) // appendfsync everysec

	l := startLoad(t, 10, 2)
	time.Sleep(2 * time.Second)
	c.redis.signal(syscall.SIGKILL)
	c.redis.wait(5 * time.Second)
	down := time.Now()
	time.Sleep(500 * time.Millisecond)
	// No login is accepted while sessions and codes are unreachable.
	for _, code := range []string{preCode, "000000"} {
		r := pre.json("POST", c.url("/api/v1/sessions"), map[string]string{"phone": prePhone, "code": code})
		if !is503(r) {
			t.Errorf("login during the Redis outage: want 503 5001 with Retry-After, got %s", r)
		}
	}
	anon := c.newClient()
	anon.token = strings.Repeat("A", 43) // well-formed, unknown
	if r := anon.json("GET", c.url("/api/v1/users/me"), nil); !is503(r) {
		t.Errorf("unknown token during the Redis outage: want 503, got %s", r)
	}
	time.Sleep(3500 * time.Millisecond)
	restart := time.Now() // the outage window ends when the server is started again
	if err := c.restartRedis(); err != nil {
		t.Fatalf("redis restart: %v", err)
	}
	up := time.Now()
	rec := waitRecovered(t, l, up, 20*time.Second)
	time.Sleep(time.Second)
	ops := l.finish()
	t.Logf("recovered %s after Redis came back", rec.Round(time.Millisecond))

	outage := window{down.Add(300 * time.Millisecond), restart}
	for _, o := range ops {
		if outage.contains(o.res) && !is503(o.res) {
			t.Errorf("during the Redis outage %s answered %s: want 503 5001 (fail closed)", o.kind, o.res)
			break
		}
	}
	summarize(t, "redis down", ops, outage, 3500*time.Millisecond)
	checkSwipes(t, "redis down", ops)
	checkSMS(t, "redis down", ops)

	// AOF: sessions from before the crash are still valid, the code too.
	cl := c.newClient()
	cl.token = tokens[users[0]]
	if r := cl.json("GET", c.url("/api/v1/users/me"), nil); r.status != 200 {
		t.Errorf("a session from before the Redis crash: %s", r)
	}
	if r := pre.json("POST", c.url("/api/v1/sessions"), map[string]string{"phone": prePhone, "code": preCode}); r.status != 200 {
		t.Errorf("the code issued before the crash, after it: %s", r)
	}
	checkInvariants(t, "after the Redis outage")
}

// (b) MariaDB is SIGKILLed under load (crash, not a clean stop) and started
// again 4 s later. Swipes fail fast with 503 5001; no accepted swipe is
// lost; the pools reconnect by themselves.
func TestFaultMariaDBDown(t *testing.T) {
	l := startLoad(t, 10, 2)
	time.Sleep(2 * time.Second)
	c.mariadb.signal(syscall.SIGKILL)
	c.mariadb.wait(10 * time.Second)
	down := time.Now()
	time.Sleep(4 * time.Second)
	restart := time.Now()
	if err := c.restartMariaDB(); err != nil {
		t.Fatalf("mariadb restart: %v", err)
	}
	up := time.Now()
	rec := waitRecovered(t, l, up, 30*time.Second)
	time.Sleep(time.Second)
	ops := l.finish()
	t.Logf("MariaDB crash recovery took %s; service recovered %s after it was back", up.Sub(down).Round(time.Millisecond), rec.Round(time.Millisecond))

	outage := window{down.Add(300 * time.Millisecond), restart}
	for _, o := range ops {
		if o.kind == "swipe" && outage.contains(o.res) && !is503(o.res) {
			t.Errorf("swipe during the MariaDB outage answered %s: want 503 5001", o.res)
			break
		}
		if o.kind == "login" && outage.contains(o.res) && o.res.status == 200 {
			t.Errorf("login during the MariaDB outage answered %s", o.res)
			break
		}
	}
	summarize(t, "mariadb down", ops, outage, 5*time.Second)
	checkSwipes(t, "mariadb down", ops)
	checkSMS(t, "mariadb down", ops)
	checkInvariants(t, "after the MariaDB crash")
}

// (c) One replica gets SIGTERM under load while slow uploads run on it,
// and the worker gets SIGTERM while tasks flow. The replica finishes its
// in-flight requests and exits; nginx sends new requests to the other
// replica (the refused connection is retried there, the request having
// never been delivered): clients see no error at all. The worker hands
// unfinished tasks back; after its restart every SMS is sent exactly once.
func TestFaultReplicaSIGTERM(t *testing.T) {
	l := startLoad(t, 10, 2)
	time.Sleep(2 * time.Second)

	// Slow uploads straight to replica 1, halfway through their bodies
	// when it gets SIGTERM (it stops accepting at once, so they must be
	// in flight by then).
	users, tokens := seededLoadUsers(t)
	big := pngImage(1400, 1400, true)
	ups := make(chan result, 3)
	release := make(chan struct{})
	var halves []chan struct{}
	for i := 0; i < 3; i++ {
		half := make(chan struct{})
		halves = append(halves, half)
		go func() {
			cl := c.newClient()
			cl.token = tokens[users[i]]
			body, ct := multipartBody("avatar", big)
			data, _ := io.ReadAll(body)
			ups <- cl.do("PUT", c.replicaURL(0, "/api/v1/users/me/avatar"), &stalledBody{data: data, half: half, release: release}, ct)
		}()
	}
	for _, half := range halves {
		select {
		case <-half:
		case <-time.After(10 * time.Second):
			t.Fatal("an upload did not send half its body within 10 s")
		}
	}
	time.Sleep(300 * time.Millisecond) // margin for the replica to accept the connections on a loaded machine
	sig := time.Now()
	c.replicas[0].signal(syscall.SIGTERM)
	c.worker.signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	close(release)
	for i := 0; i < 3; i++ {
		r := <-ups
		if r.status != 200 || r.code != 0 {
			t.Errorf("in-flight upload on the SIGTERMed replica: %s (want 200: drained)", r)
		} else {
			t.Logf("in-flight upload finished %s after SIGTERM", r.end.Sub(sig).Round(time.Millisecond))
		}
	}
	if !c.replicas[0].wait(30 * time.Second) {
		t.Fatal("replica 1 did not exit within 30 s of SIGTERM")
	}
	exited := time.Since(sig)
	if !c.worker.wait(20 * time.Second) {
		t.Fatal("worker did not exit within 20 s of SIGTERM")
	}
	time.Sleep(2 * time.Second)
	if err := c.worker.start(); err != nil {
		t.Fatal(err)
	}
	if err := c.restartReplica(0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	ops := l.finish()
	t.Logf("replica 1 exited %s after SIGTERM; restarted", exited.Round(time.Millisecond))
	summarize(t, "replica SIGTERM", ops, window{sig, sig.Add(exited)}, 5*time.Second)
	for _, o := range ops {
		if o.res.err != nil || o.res.status >= 500 {
			t.Errorf("a request failed while a replica drained: %s %s", o.kind, o.res)
			break
		}
	}
	checkSwipes(t, "replica SIGTERM", ops)
	checkSMS(t, "replica SIGTERM", ops)
	checkInvariants(t, "after the replica SIGTERM")
}

// stalledBody is a request body that stops halfway (once half is closed)
// until release is closed, like a slow client's upload.
type stalledBody struct {
	data    []byte
	off     int
	half    chan struct{}
	release <-chan struct{}
	stopped bool
}

func (b *stalledBody) Read(p []byte) (int, error) {
	mid := len(b.data) / 2
	if b.off == mid && !b.stopped {
		b.stopped = true
		close(b.half)
		<-b.release
	}
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	end := len(b.data)
	if b.off < mid {
		end = mid
	}
	n := copy(p, b.data[b.off:end])
	b.off += n
	return n, nil
}
