package topology_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestBenchChat is the chat load test of issue 12 (`make bench-chat`, not
// part of `make test`), on the topology's MariaDB + Redis with two
// replicas behind nginx:
//
//  1. SWIPER_BENCH_CHAT_SOCKETS (10,000) idle event sockets of distinct
//     users, opened straight on replica 1 (the replica's own cost, without
//     nginx's two connections per proxied socket): its RSS growth per socket;
//  2. SWIPER_BENCH_CHAT_PAIRS (2,000) matched pairs: every receiver holds a
//     socket on replica 1, every sender POSTs on replica 2. A closed loop of
//     SWIPER_BENCH_CHAT_CONNS clients sends SWIPER_BENCH_CHAT_BURST messages
//     per sender as fast as the servers take them (the maximum rate, from
//     the first POST to the last frame received), then an open loop sends
//     SWIPER_BENCH_CHAT_RATE (1,000) messages/s for
//     SWIPER_BENCH_CHAT_PACED_SECONDS: the delivery latency, from the start
//     of the POST to the frame on the other replica, and again at 40 % of
//     the maximum (SWIPER_BENCH_CHAT_RATE_LOW), below saturation. Every
//     message is checked: lost (accepted, never received) and duplicated
//     (received twice) must be 0, and each socket's seq must grow by one.
//     The rate limit (20 messages per sender per 10 s) stays the default:
//     the senders are many enough never to reach it;
//  3. a conversation page (limit 50) through nginx at 4 connections, for a
//     conversation of 1 message and one of SWIPER_BENCH_CHAT_LONG (100,000)
//     messages inserted straight into MariaDB.
//
// CPU per message is the CPU time (from /proc) of both replicas, the
// worker, nginx, mariadbd and redis-server over a phase ÷ its messages;
// this test process (the clients) runs on the same cores and is reported
// apart, as are the machine's other processes and the SQL statements and
// Redis commands per message. The last line is the summary of issue 12.
func TestBenchChat(t *testing.T) {
	if os.Getenv("SWIPER_BENCH_CHAT") != "1" {
		t.Skip("chat load test: SWIPER_BENCH_CHAT=1 (make bench-chat)")
	}
	nSockets := envInt("SWIPER_BENCH_CHAT_SOCKETS", 10_000)
	nPairs := envInt("SWIPER_BENCH_CHAT_PAIRS", 2_000)
	burstPer := envInt("SWIPER_BENCH_CHAT_BURST", 10)
	conns := envInt("SWIPER_BENCH_CHAT_CONNS", 64)
	rate := envInt("SWIPER_BENCH_CHAT_RATE", 1_000)
	pacedSecs := envInt("SWIPER_BENCH_CHAT_PACED_SECONDS", 10)
	pageSecs := envInt("SWIPER_BENCH_CHAT_PAGE_SECONDS", 5)
	long := envInt("SWIPER_BENCH_CHAT_LONG", 100_000)
	const perWindow = 20 // the default send limit: 20 per sender per 10 s
	if burstPer > perWindow || rate*10/nPairs > perWindow {
		t.Fatalf("%d pairs are too few for %d messages each, then %d/s: raise SWIPER_BENCH_CHAT_PAIRS", nPairs, burstPer, rate)
	}

	var rep strings.Builder
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		fmt.Println(line)
		rep.WriteString(line + "\n")
	}
	load, _ := os.ReadFile("/proc/loadavg")
	say("machine: %s; load average at the start %s", bcMachine(), strings.Join(strings.Fields(string(load))[:3], " "))

	// One descriptor per socket in this process (the replicas are Go
	// programs: they raise their own soft limit to the hard one).
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if need := uint64(nSockets + 2*nPairs + 512); lim.Cur < need {
		t.Fatalf("RLIMIT_NOFILE hard limit %d < %d descriptors needed", lim.Max, need)
	}
	say("RLIMIT_NOFILE: %d (test process and replicas); the idle sockets go straight to replica 1 (%d CPUs), to measure the replica alone", lim.Cur, runtime.NumCPU())

	// Users: the idle socket holders, the pairs, and two pairs for pages.
	users := nSockets + 2*nPairs + 4
	start := time.Now()
	f := c.path("bench-chat-tokens.txt")
	first, _ := c.seedUsers(t, users, 12, "--tokens", strconv.Itoa(users), "--tokens-file", f)
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	tokens := strings.Fields(string(b))
	if len(tokens) != users {
		t.Fatalf("%d tokens for %d users", len(tokens), users)
	}
	say("seeded %d users with sessions in %s", users, time.Since(start).Round(time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// ---- 1. idle sockets on replica 1
	a, bRep := c.replicas[0], c.replicas[1]
	wsA := strings.Replace(c.replicaURL(0, "/api/v1/events?since=0"), "http://", "ws://", 1)
	beforeRSS := bcRSSKiB(a.pid())
	beforeHeap, beforeG := bcGauge(t, 0, "go_memstats_heap_inuse_bytes"), bcGauge(t, 0, "go_goroutines")
	beforeStack := bcGauge(t, 0, "go_memstats_stack_inuse_bytes")
	start = time.Now()
	idle := bcDialAll(ctx, t, wsA, tokens[:nSockets], 32)
	dialTook := time.Since(start)
	var openIdle int
	for _, s := range idle {
		if s != nil {
			_ = s.CloseRead(ctx) // answers the replica's pings
			openIdle++
		}
	}
	time.Sleep(5 * time.Second)
	gaugeIdle := int(bcGauge(t, 0, "swiper_event_sockets_open"))
	afterRSS := bcRSSKiB(a.pid())
	afterHeap, afterG := bcGauge(t, 0, "go_memstats_heap_inuse_bytes"), bcGauge(t, 0, "go_goroutines")
	afterStack := bcGauge(t, 0, "go_memstats_stack_inuse_bytes")
	sockets := min(openIdle, gaugeIdle)
	perSocket := 0.0
	if sockets > 0 {
		perSocket = float64(afterRSS-beforeRSS) / float64(sockets)
	}
	say("\n1. idle sockets on replica 1: %d dialled in %s (%d failed), %d open per the replica's swiper_event_sockets_open",
		openIdle, dialTook.Round(time.Millisecond), nSockets-openIdle, gaugeIdle)
	perSock := func(v float64) float64 { return v / 1024 / float64(max(sockets, 1)) }
	say("   replica 1 RSS %d → %d KiB: +%.1f MiB, %.1f KiB per socket; per socket: Go heap in use +%.1f KiB, goroutine stacks +%.1f KiB; goroutines %d → %d",
		beforeRSS, afterRSS, float64(afterRSS-beforeRSS)/1024, perSocket,
		perSock(afterHeap-beforeHeap), perSock(afterStack-beforeStack), int(beforeG), int(afterG))
	say("   this test process (the clients): RSS %d KiB", bcRSSKiB(os.Getpid()))
	bcProfile(t, a, "/debug/pprof/heap", "replica1-idle-sockets.heap")
	bcProfile(t, a, "/debug/pprof/goroutine", "replica1-idle-sockets.goroutine")
	for _, s := range idle {
		if s != nil {
			_ = s.CloseNow()
		}
	}
	if openIdle < nSockets {
		t.Errorf("%d of %d idle sockets failed to open", nSockets-openIdle, nSockets)
	}
	_ = waitFor(30*time.Second, func() error {
		if n := bcGauge(t, 0, "swiper_event_sockets_open"); n > 0 {
			return fmt.Errorf("%v sockets still open", n)
		}
		return nil
	})

	// ---- 2. pairs: matched through nginx (likes both ways)
	senders := make([]bcUser, nPairs)
	receivers := make([]bcUser, nPairs)
	for i := range nPairs {
		senders[i] = bcUser{first + int64(nSockets+2*i), tokens[nSockets+2*i]}
		receivers[i] = bcUser{first + int64(nSockets+2*i+1), tokens[nSockets+2*i+1]}
	}
	short := [2]bcUser{{first + int64(users-4), tokens[users-4]}, {first + int64(users-3), tokens[users-3]}}
	longPair := [2]bcUser{{first + int64(users-2), tokens[users-2]}, {first + int64(users-1), tokens[users-1]}}
	start = time.Now()
	bcMatchAll(t, append(append(slices.Clip(senders), short[0], longPair[0]), append(slices.Clip(receivers), short[1], longPair[1])...), nPairs+2)
	say("\n2. %d pairs matched through nginx in %s", nPairs+2, time.Since(start).Round(time.Millisecond))

	total := nPairs*burstPer + 2*rate*pacedSecs // the burst, then two paced runs of at most rate/s
	tr := newBCTrack(total)
	recv := bcDialAll(ctx, t, wsA, bcTokens(receivers), 32)
	var rwg sync.WaitGroup
	for i, s := range recv {
		if s == nil {
			t.Fatalf("receiver %d: no socket", i)
		}
		rwg.Add(1)
		go func() { defer rwg.Done(); tr.read(ctx, s, i, senders[i].id, nPairs) }()
	}
	time.Sleep(2 * time.Second) // the match events replayed
	say("   %d receivers connected to replica 1 (swiper_event_sockets_open %v); senders POST on replica 2", nPairs, bcGauge(t, 0, "swiper_event_sockets_open"))

	sendHTTP := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}}
	send := func(k int, sched int64) {
		p := k % nPairs
		tr.send(sendHTTP, c.replicaURL(1, fmt.Sprintf("/api/v1/conversations/%d/messages", receivers[p].id)), senders[p].token, k, sched)
	}

	// What the topology does when no one sends (the worker's and the
	// replicas' polling), to read the per-message counts against.
	idle0 := bcSnapshot(t)
	time.Sleep(3 * time.Second)
	say("   at rest (nothing sent for 3 s):\n%s", bcSnapshot(t).since(idle0, 3, "second"))

	// 2a. the maximum: a closed loop of conns clients
	burst := nPairs * burstPer
	snap0 := bcSnapshot(t)
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		bcProfile(t, bRep, "/debug/pprof/profile?seconds=10", "replica2-sending.cpu")
	}()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1) - 1); k < burst; k = int(next.Add(1) - 1) {
				send(k, int64(time.Since(tr.base)))
			}
		}()
	}
	wg.Wait()
	burstSent := time.Now()
	<-profiled
	tr.waitDelivered(0, burst, 15*time.Second)
	snap1 := bcSnapshot(t)
	bs := tr.summary(0, burst)
	maxRate := float64(bs.ok) / bs.span.Seconds()
	say("\n   2a. maximum: %d clients, %d messages (%d per sender) accepted %d, failed %d (retries %d), in %s to the last frame: %.0f msgs/s",
		conns, burst, burstPer, bs.ok, bs.failed, bs.retries, bs.span.Round(time.Millisecond), maxRate)
	say("       POST p50 %s p99 %s; delivery p50 %s p99 %s max %s; lost %d, duplicated %d",
		bcMS(bs.postP50), bcMS(bs.postP99), bcMS(bs.p50), bcMS(bs.p99), bcMS(bs.max), bs.lost, bs.dup)
	say("%s", snap1.since(snap0, bs.ok, "message"))

	// 2b. paced: an open loop at r messages/s for pacedSecs, once the
	// senders' windows of the previous phase have passed. At most 512 POSTs
	// are in flight: beyond that the servers are far behind the offered
	// rate, and the wait shows in the latency from the scheduled time.
	from, lastSent := burst, burstSent
	paced := func(name string, r int) bcSummary {
		time.Sleep(time.Until(lastSent.Add(10*time.Second + 500*time.Millisecond)))
		n := r * pacedSecs
		interval := time.Second / time.Duration(r)
		snap0 := bcSnapshot(t)
		sem := make(chan struct{}, 512)
		var inflight, peak atomic.Int64
		t0 := time.Now()
		var lag time.Duration
		for i := range n {
			at := t0.Add(time.Duration(i) * interval)
			if d := time.Until(at); d > 0 {
				time.Sleep(d)
			} else {
				lag = max(lag, -d)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				v := inflight.Add(1)
				for p := peak.Load(); v > p && !peak.CompareAndSwap(p, v); p = peak.Load() {
				}
				send(from+i, int64(at.Sub(tr.base)))
				inflight.Add(-1)
				<-sem
			}()
		}
		dispatched := time.Since(t0)
		wg.Wait()
		lastSent = time.Now()
		tr.waitDelivered(from, from+n, 15*time.Second)
		snap1 := bcSnapshot(t)
		ps := tr.summary(from, from+n)
		from += n
		say("\n   %s: %d messages at %d/s (dispatched over %s, lag at most %s; the last frame %s after the first send was due; at most %d POSTs in flight): accepted %d, failed %d (retries %d)",
			name, n, r, dispatched.Round(time.Millisecond), bcMS(lag), ps.span.Round(time.Millisecond), peak.Load(), ps.ok, ps.failed, ps.retries)
		say("       POST p50 %s p99 %s; delivery (POST start → frame) p50 %s p99 %s max %s; from the scheduled send time p99 %s; lost %d, duplicated %d",
			bcMS(ps.postP50), bcMS(ps.postP99), bcMS(ps.p50), bcMS(ps.p99), bcMS(ps.max), bcMS(ps.schedP99), ps.lost, ps.dup)
		say("%s", snap1.since(snap0, ps.ok, "message"))
		return ps
	}
	ps := paced("2b. paced", rate)
	// 2c. the same below saturation (40 % of the maximum measured, unless
	// SWIPER_BENCH_CHAT_RATE_LOW says): the latency without queueing.
	low := envInt("SWIPER_BENCH_CHAT_RATE_LOW", max(10, int(maxRate*0.4)/10*10))
	ls := paced("2c. paced below saturation", min(low, rate))
	say("\n   replica 1 after the messages, %d receiver sockets open: RSS %d KiB, Go heap in use %.1f MiB, goroutine stacks %.1f MiB, goroutines %d",
		nPairs, bcRSSKiB(a.pid()), bcGauge(t, 0, "go_memstats_heap_inuse_bytes")/(1<<20),
		bcGauge(t, 0, "go_memstats_stack_inuse_bytes")/(1<<20), int(bcGauge(t, 0, "go_goroutines")))
	bcProfile(t, a, "/debug/pprof/heap", "replica1-after-messages.heap")
	cancel()
	for _, s := range recv {
		_ = s.CloseNow()
	}
	rwg.Wait()
	problems := tr.problemList()
	for _, p := range problems {
		t.Errorf("socket: %s", p)
	}

	// ---- 3. conversation pages: 1 message vs long messages
	shortCl := &client{http: sendHTTP, token: short[0].token}
	if r := shortCl.json("POST", c.url(fmt.Sprintf("/api/v1/conversations/%d/messages", short[1].id)), map[string]string{"text": "hi", "client_id": "one"}); r.status != 200 {
		t.Fatalf("short conversation: %s", r)
	}
	start = time.Now()
	if err := bcInsertMessages(longPair[0].id, longPair[1].id, long); err != nil {
		t.Fatal(err)
	}
	say("\n3. pages of 50 through nginx at 4 connections, %d s each (%d messages inserted in %s)",
		pageSecs, long, time.Since(start).Round(time.Millisecond))
	var pageP99 [2]time.Duration
	for i, conv := range []struct {
		name     string
		me, peer int64
		token    string
		msgs     int
	}{{"1 message", short[0].id, short[1].id, short[0].token, 1}, {strconv.Itoa(long) + " messages", longPair[0].id, longPair[1].id, longPair[0].token, long}} {
		cl := c.newClient()
		cl.token = conv.token
		u := c.url(fmt.Sprintf("/api/v1/conversations/%d/messages?limit=50", conv.peer))
		page := decode[struct {
			Messages []json.RawMessage `json:"messages"`
			HasMore  bool              `json:"has_more"`
		}](t, cl.json("GET", u, nil))
		if want := min(conv.msgs, 50); len(page.Messages) != want || page.HasMore != (conv.msgs > 50) {
			t.Fatalf("%s: %d messages, has_more %v", conv.name, len(page.Messages), page.HasMore)
		}
		snap0 := bcSnapshot(t)
		profiled := make(chan struct{})
		go func() {
			defer close(profiled)
			bcProfile(t, bRep, fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(pageSecs-1, 1)), fmt.Sprintf("replica2-pages-%d.cpu", conv.msgs))
		}()
		lat, bad := bcPages(cl, u, 4, time.Duration(pageSecs)*time.Second)
		<-profiled
		snap1 := bcSnapshot(t)
		slices.Sort(lat)
		pageP99[i] = bcPct(lat, 99)
		say("   %s: %d pages (%.0f/s), p50 %s p99 %s max %s, non-200 %d", conv.name, len(lat),
			float64(len(lat))/float64(pageSecs), bcMS(bcPct(lat, 50)), bcMS(pageP99[i]), bcMS(lat[len(lat)-1]), bad)
		say("%s", snap1.since(snap0, len(lat), "page"))
		if bad > 0 {
			t.Errorf("%s: %d pages failed", conv.name, bad)
		}
	}

	lost, dup := bs.lost+ps.lost+ls.lost, bs.dup+ps.dup+ls.dup
	if failed := bs.failed + ps.failed + ls.failed; failed > 0 {
		t.Errorf("%d sends failed after retries (codes %v)", failed, tr.codeList())
	}
	if lost > 0 || dup > 0 {
		t.Errorf("lost %d, duplicated %d", lost, dup)
	}
	check := func(what string, ok bool) string {
		if ok {
			return what + ": met"
		}
		return what + ": MISSED"
	}
	say("\ntargets: %s; %s; %s; %s; %s; %s",
		check("RSS ≤ 30 KiB per socket", perSocket <= 30),
		check("RSS growth ≤ 300 MiB", float64(afterRSS-beforeRSS) <= 300*1024),
		check("≥ 3,000 msgs/s", maxRate >= 3000 && bs.lost == 0),
		check("delivery p99 ≤ 50 ms at "+strconv.Itoa(rate)+"/s", ps.p99 <= 50*time.Millisecond)+
			fmt.Sprintf(" (p99 %s at %d/s)", bcMS(ls.p99), min(low, rate)),
		check("lost = duplicated = 0", lost == 0 && dup == 0),
		check("page p99 ≤ 5 ms", max(pageP99[0], pageP99[1]) <= 5*time.Millisecond))
	last := fmt.Sprintf("bench-chat: %.0f msgs/s, delivery p99 %.1f ms, lost %d, duplicated %d, sockets %d, rss per socket %.1f KiB",
		maxRate, float64(ps.p99.Microseconds())/1000, lost, dup, sockets, perSocket)
	if p := os.Getenv("SWIPER_BENCH_OUT"); p != "" {
		_ = os.WriteFile(p, []byte(rep.String()+last+"\n"), 0o644)
	}
	fmt.Println(last)
}

var bcPprofLine = regexp.MustCompile(`"msg":"pprof is served[^"]*","addr":"([^"]+)"`)

// bcProfile saves a pprof profile of p into SWIPER_BENCH_CHAT_PROFILES,
// when that is set and p serves pprof (run with SWIPER_PPROF_ADDR=127.0.0.1:0:
// each process logs the port it got).
func bcProfile(t *testing.T, p *proc, path, file string) {
	dir := os.Getenv("SWIPER_BENCH_CHAT_PROFILES")
	if dir == "" {
		return
	}
	m := bcPprofLine.FindStringSubmatch(p.logText())
	if m == nil {
		t.Logf("%s serves no pprof: run with SWIPER_PPROF_ADDR=127.0.0.1:0", p.name)
		return
	}
	resp, err := http.Get("http://" + m[1] + path)
	if err != nil {
		t.Logf("profile %s: %v", file, err)
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := os.WriteFile(filepath.Join(dir, file), b, 0o644); err != nil {
		t.Logf("profile %s: %v", file, err)
	}
}

type bcUser struct {
	id    int64
	token string
}

func bcTokens(us []bcUser) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.token
	}
	return out
}

// bcDialAll opens one events socket per token at u with par dials at a
// time, from loopback addresses 250 sockets apart; nil where it failed.
func bcDialAll(ctx context.Context, t *testing.T, u string, tokens []string, par int) []*websocket.Conn {
	out := make([]*websocket.Conn, len(tokens))
	clients := make([]*http.Client, (len(tokens)+249)/250)
	for i := range clients {
		clients[i] = c.newClient().http
	}
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(tokens); i = int(next.Add(1) - 1) {
				for try := 0; try < 3; try++ {
					dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					conn, _, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: clients[i/250],
						HTTPHeader: http.Header{"Authorization": {"Bearer " + tokens[i]}}})
					cancel()
					if err == nil {
						out[i] = conn
						break
					}
					if try == 2 && failed.Add(1) <= 5 {
						t.Logf("socket %d: %v", i, err)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	return out
}

// bcMatchAll makes us[i] and us[i+n] match (a like each way), through
// nginx, 16 at a time.
func bcMatchAll(t *testing.T, us []bcUser, n int) {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				x, y := us[i], us[i+n]
				for j, s := range [][2]bcUser{{x, y}, {y, x}} {
					cl := &client{http: hc, token: s[0].token}
					r := cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": s[1].id, "action": "like"})
					var ans swipeAnswer
					_ = json.Unmarshal(r.data, &ans)
					if r.status != 200 || (j == 1 && !ans.Matched) {
						mu.Lock()
						errs = append(errs, fmt.Sprintf("%d likes %d: %s", s[0].id, s[1].id, r))
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d pairs did not match, e.g. %s", len(errs), errs[0])
	}
}

// bcTrack follows every message of the run by its index k (client_id
// "bc-k"): when its POST started, whether it was accepted, and each frame
// that delivered it.
type bcTrack struct {
	base    time.Time
	sched   []atomic.Int64 // ns since base: when the send was due
	start   []atomic.Int64 // ns since base: when its POST started
	post    []atomic.Int64 // POST duration, ns
	recv    []atomic.Int64 // first frame, ns since base
	frames  []atomic.Int32
	ok      []atomic.Bool
	retries atomic.Int64

	mu       sync.Mutex
	codes    map[string]int
	problems []string
}

func newBCTrack(n int) *bcTrack {
	return &bcTrack{base: time.Now(), sched: make([]atomic.Int64, n), start: make([]atomic.Int64, n), post: make([]atomic.Int64, n),
		recv: make([]atomic.Int64, n), frames: make([]atomic.Int32, n), ok: make([]atomic.Bool, n), codes: map[string]int{}}
}

func (tr *bcTrack) problem(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.problems) < 20 {
		tr.problems = append(tr.problems, fmt.Sprintf(format, args...))
	}
}

func (tr *bcTrack) problemList() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.problems)
}

func (tr *bcTrack) codeList() map[string]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.codes
}

// send POSTs message k, retrying a 5xx or transport error up to 3 times
// with the same client_id (a retry never makes a second message).
func (tr *bcTrack) send(hc *http.Client, u, token string, k int, sched int64) {
	body := []byte(fmt.Sprintf(`{"text":"message %d of the chat bench","client_id":"bc-%d"}`, k, k))
	tr.sched[k].Store(sched)
	tr.start[k].Store(int64(time.Since(tr.base)))
	what := ""
	for try := 0; try < 4; try++ {
		if try > 0 {
			tr.retries.Add(1)
			time.Sleep(100 * time.Millisecond)
		}
		req, _ := http.NewRequest("POST", u, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			what = "transport"
			continue
		}
		rb, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var env struct {
			Code int `json:"code"`
		}
		_ = json.Unmarshal(rb, &env)
		if resp.StatusCode == 200 && env.Code == 0 {
			tr.post[k].Store(int64(time.Since(tr.base)) - tr.start[k].Load())
			tr.ok[k].Store(true)
			return
		}
		what = fmt.Sprintf("%d/%d", resp.StatusCode, env.Code)
		if resp.StatusCode < 500 {
			break
		}
	}
	tr.mu.Lock()
	tr.codes[what]++
	tr.mu.Unlock()
}

// read records the message frames of receiver i (whose only peer is
// sender), checking that seq increases by one.
func (tr *bcTrack) read(ctx context.Context, conn *websocket.Conn, i int, sender int64, pairs int) {
	var last int64
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			if ctx.Err() == nil {
				tr.problem("receiver %d: socket ended: %v", i, err)
			}
			return
		}
		at := int64(time.Since(tr.base))
		var f struct {
			Seq  int64  `json:"seq"`
			Type string `json:"type"`
			Data struct {
				UserID  int64 `json:"user_id"`
				Message struct {
					From     int64  `json:"from"`
					ClientID string `json:"client_id"`
				} `json:"message"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			tr.problem("receiver %d: frame %s: %v", i, b, err)
			continue
		}
		if f.Seq != last+1 {
			tr.problem("receiver %d: %s seq %d after %d", i, f.Type, f.Seq, last)
		}
		last = max(last, f.Seq)
		if f.Type != "message" {
			continue
		}
		k, err := strconv.Atoi(strings.TrimPrefix(f.Data.Message.ClientID, "bc-"))
		if err != nil || k < 0 || k >= len(tr.frames) || k%pairs != i || f.Data.UserID != sender || f.Data.Message.From != sender {
			tr.problem("receiver %d: unexpected message %s", i, b)
			continue
		}
		if tr.frames[k].Add(1) == 1 {
			tr.recv[k].Store(at)
		}
	}
}

// waitDelivered waits until every accepted message of [from, to) has a
// frame, or d has passed.
func (tr *bcTrack) waitDelivered(from, to int, d time.Duration) {
	_ = waitFor(d, func() error {
		for k := from; k < to; k++ {
			if tr.ok[k].Load() && tr.frames[k].Load() == 0 {
				return fmt.Errorf("message %d not delivered", k)
			}
		}
		return nil
	})
}

type bcSummary struct {
	ok, failed, lost, dup int
	retries               int64
	span                  time.Duration // first POST start → last frame
	p50, p99, max         time.Duration // delivery: POST start → frame
	schedP99              time.Duration // delivery from the scheduled time
	postP50, postP99      time.Duration
}

func (tr *bcTrack) summary(from, to int) bcSummary {
	var s bcSummary
	var lat, post, fromSched []time.Duration
	first, last := int64(-1), int64(0)
	for k := from; k < to; k++ {
		st := tr.start[k].Load()
		if sc := tr.sched[k].Load(); first < 0 || sc < first {
			first = sc
		}
		fr := tr.frames[k].Load()
		if fr > 1 {
			s.dup += int(fr - 1)
		}
		if !tr.ok[k].Load() {
			s.failed++
			continue
		}
		s.ok++
		post = append(post, time.Duration(tr.post[k].Load()))
		if fr == 0 {
			s.lost++
			continue
		}
		r := tr.recv[k].Load()
		last = max(last, r)
		lat = append(lat, time.Duration(r-st))
		fromSched = append(fromSched, time.Duration(r-tr.sched[k].Load()))
	}
	s.retries = tr.retries.Swap(0)
	s.span = time.Duration(last - first)
	slices.Sort(lat)
	slices.Sort(post)
	slices.Sort(fromSched)
	s.schedP99 = bcPct(fromSched, 99)
	s.p50, s.p99 = bcPct(lat, 50), bcPct(lat, 99)
	if len(lat) > 0 {
		s.max = lat[len(lat)-1]
	}
	s.postP50, s.postP99 = bcPct(post, 50), bcPct(post, 99)
	return s
}

func bcPct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func bcMS(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// bcPages GETs u as cl from par connections of its own, each a closed
// loop, for d. A page counts as good when it is 200 with code 0 and a
// messages array, checked on its first and last bytes.
//
// The client is as light as wrk's: a request written as bytes, the answer
// read by its Content-Length on a kept-alive connection. Go's http.Client
// (SWIPER_BENCH_CHAT_PAGE_CLIENT=http) spends 0.10–0.15 ms of the two
// cores the servers share per page, and decoding the 50 messages as much
// again; on this box that is load the servers do not make.
func bcPages(cl *client, u string, par int, d time.Duration) ([]time.Duration, int) {
	get := func() func() (time.Duration, bool) { return func() (time.Duration, bool) { return bcGetPage(cl, u) } }
	if os.Getenv("SWIPER_BENCH_CHAT_PAGE_CLIENT") != "http" {
		get = func() func() (time.Duration, bool) { return bcRawPages(cl, u) }
	}
	var mu sync.Mutex
	var lat []time.Duration
	bad := 0
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			page := get()
			var mine []time.Duration
			nbad := 0
			for time.Now().Before(end) {
				lat, ok := page()
				if !ok {
					nbad++
				}
				mine = append(mine, lat)
			}
			mu.Lock()
			lat = append(lat, mine...)
			bad += nbad
			mu.Unlock()
		}()
	}
	wg.Wait()
	return lat, bad
}

// bcPageOK is whether an answer is a page of messages.
func bcPageOK(status int, body []byte) bool {
	return status == 200 && bytes.HasPrefix(body, []byte(`{"code":0,"data":{"messages":[`)) && bytes.HasSuffix(body, []byte("}}\n"))
}

// bcGetPage GETs one page as cl through Go's http.Client: its latency
// (request sent → body read) and whether it was a page.
func bcGetPage(cl *client, u string) (time.Duration, bool) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return 0, false
	}
	req.Header.Set("Authorization", "Bearer "+cl.token)
	start := time.Now()
	resp, err := cl.http.Do(req)
	if err != nil {
		return time.Since(start), false
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return time.Since(start), err == nil && bcPageOK(resp.StatusCode, body)
}

// bcRawPages returns a function that GETs one page as cl on a connection
// of its own from cl's address (dialled again after an error or when
// nginx closes it): its latency (request written → body read) and
// whether it was a page.
func bcRawPages(cl *client, u string) func() (time.Duration, bool) {
	pu, err := url.Parse(u)
	if err != nil {
		return func() (time.Duration, bool) { return 0, false }
	}
	req := []byte("GET " + pu.RequestURI() + " HTTP/1.1\r\nHost: " + pu.Host + "\r\nAuthorization: Bearer " + cl.token + "\r\n\r\n")
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(cl.ip)}, Timeout: 5 * time.Second}
	var conn net.Conn
	var br *bufio.Reader
	var body []byte
	return func() (time.Duration, bool) {
		start := time.Now()
		if conn == nil {
			c, err := d.Dial("tcp", pu.Host)
			if err != nil {
				return time.Since(start), false
			}
			conn, br = c, bufio.NewReaderSize(c, 64<<10)
		}
		status, n, keep, err := 0, -1, true, error(nil)
		if _, err = conn.Write(req); err == nil {
			status, n, keep, err = bcReadHead(br)
		}
		if err == nil {
			body = slices.Grow(body[:0], n)[:n]
			_, err = io.ReadFull(br, body)
		}
		lat := time.Since(start)
		if err != nil || !keep {
			conn.Close()
			conn = nil
		}
		return lat, err == nil && bcPageOK(status, body)
	}
}

// bcReadHead reads an HTTP/1.1 answer's status line and headers: its
// status, Content-Length (an answer without one is an error here) and
// whether the connection stays open.
func bcReadHead(br *bufio.Reader) (status, length int, keep bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	if f := bytes.Fields(line); len(f) < 2 || !bytes.HasPrefix(f[0], []byte("HTTP/1.1")) {
		return 0, 0, false, fmt.Errorf("status line %q", line)
	} else if status, err = strconv.Atoi(string(f[1])); err != nil {
		return 0, 0, false, fmt.Errorf("status line %q", line)
	}
	length, keep = -1, true
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, 0, false, fmt.Errorf("Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		}
	}
	if length < 0 {
		return 0, 0, false, errors.New("an answer without Content-Length")
	}
	return status, length, keep, nil
}

// bcInsertMessages stores n messages between x and y straight into
// MariaDB, as SendMessage would (the primary key and unique keys of
// 00012_conversations.sql, ids and sent_at increasing together), and sets
// the match row's conversation columns to match: the last message, no
// read marks, each side's unread count.
func bcInsertMessages(x, y int64, n int) error {
	if x > y {
		x, y = y, x
	}
	at := time.Now().UTC().Add(-time.Duration(n) * time.Second).Truncate(time.Millisecond)
	const batch = 1000
	var toA, toB int
	var lastAt time.Time
	for i := 0; i < n; i += batch {
		var q strings.Builder
		q.WriteString("INSERT INTO messages (user_a, user_b, sender_id, client_id, text, sent_at) VALUES ")
		args := make([]any, 0, 6*batch)
		for j := i; j < min(n, i+batch); j++ {
			if j > i {
				q.WriteString(",")
			}
			q.WriteString("(?,?,?,?,?,?)")
			from := x
			if j%2 == 1 {
				from = y
				toA++
			} else {
				toB++
			}
			lastAt = at.Add(time.Duration(j) * time.Second)
			args = append(args, x, y, from, "seed-"+strconv.Itoa(j), fmt.Sprintf("message %d of a long conversation, about as long as a chat line", j), lastAt)
		}
		if _, err := c.db.Exec(q.String(), args...); err != nil {
			return fmt.Errorf("insert messages: %w", err)
		}
	}
	_, err := c.db.Exec("UPDATE matches SET last_message_id = (SELECT MAX(id) FROM messages WHERE user_a = ? AND user_b = ?), "+
		"last_message_at = ?, read_a = 0, read_b = 0, unread_a = ?, unread_b = ? WHERE user_a = ? AND user_b = ?",
		x, y, lastAt, toA, toB, x, y)
	return err
}

// bcGauge reads a sample without labels from replica i's /metrics.
func bcGauge(t *testing.T, i int, name string) float64 {
	t.Helper()
	resp, err := http.Get(c.replicaURL(i, "/metrics"))
	if err != nil {
		t.Fatalf("metrics of replica%d: %v", i+1, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

func bcRSSKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// bcCPU is a process's user + system CPU time, in seconds (/proc/pid/stat,
// in clock ticks of 1/100 s: USER_HZ on Linux).
func bcCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	sy, _ := strconv.ParseFloat(f[12], 64)
	return (u + sy) / 100
}

// bcSnap is what a phase is measured by: the CPU time of each server
// process of the topology and of this process, the machine's busy time
// (/proc/stat: the other agents on this machine show there), MariaDB's
// statement count and Redis's command count.
type bcSnap struct {
	at                time.Time
	names             []string
	secs              []float64
	self              float64
	busy              float64
	questions, redisN float64
	redisCmds         map[string]float64 // calls per command (INFO commandstats)
}

func bcSnapshot(t *testing.T) bcSnap {
	s := bcSnap{at: time.Now(), self: bcCPU(os.Getpid()), busy: bcMachineBusy()}
	add := func(name string, pids ...int) {
		v := 0.0
		for _, pid := range pids {
			v += bcCPU(pid)
		}
		s.names = append(s.names, name)
		s.secs = append(s.secs, v)
	}
	add("replica 1", c.replicas[0].pid())
	add("replica 2", c.replicas[1].pid())
	add("worker", c.worker.pid())
	add("nginx", append(childPids(c.nginx.pid()), c.nginx.pid())...)
	add("mariadbd", c.mariadb.pid())
	add("redis-server", c.redis.pid())
	var name string
	if err := c.db.QueryRow("SHOW GLOBAL STATUS LIKE 'Questions'").Scan(&name, &s.questions); err != nil {
		t.Errorf("MariaDB status: %v", err)
	}
	if info, err := c.rdb.Info(context.Background(), "stats", "commandstats").Result(); err == nil {
		s.redisCmds = map[string]float64{}
		for _, l := range strings.Split(info, "\n") {
			l = strings.TrimSpace(l)
			if v, ok := strings.CutPrefix(l, "total_commands_processed:"); ok {
				s.redisN, _ = strconv.ParseFloat(v, 64)
			}
			if v, ok := strings.CutPrefix(l, "cmdstat_"); ok {
				name, rest, _ := strings.Cut(v, ":calls=")
				calls, _, _ := strings.Cut(rest, ",")
				s.redisCmds[name], _ = strconv.ParseFloat(calls, 64)
			}
		}
	} else {
		t.Errorf("Redis INFO: %v", err)
	}
	return s
}

// since describes the phase from before to s, of n operations (what).
func (s bcSnap) since(before bcSnap, n int, what string) string {
	per := func(v float64) float64 { return v / float64(max(n, 1)) }
	total := 0.0
	parts := make([]string, len(s.names))
	for i, name := range s.names {
		d := s.secs[i] - before.secs[i]
		total += d
		parts[i] = fmt.Sprintf("%s %.2f", name, 1000*per(d))
	}
	self := s.self - before.self
	wall := s.at.Sub(before.at).Seconds()
	type cmd struct {
		name  string
		calls float64
	}
	var cmds []cmd
	for name, v := range s.redisCmds {
		if d := v - before.redisCmds[name]; d > 0 {
			cmds = append(cmds, cmd{name, d})
		}
	}
	slices.SortFunc(cmds, func(a, b cmd) int { return int(b.calls - a.calls) })
	top := make([]string, 0, 8)
	for _, c := range cmds[:min(len(cmds), 8)] {
		top = append(top, fmt.Sprintf("%s %.1f", c.name, per(c.calls)))
	}
	others := s.busy - before.busy - total - self
	return fmt.Sprintf("       CPU per %s: servers %.2f ms (%s), the bench's clients %.2f ms;\n"+
		"       per %s: %.1f SQL statements, %.1f Redis commands (%s);\n"+
		"       the 2 cores over the %.1f s: servers %.0f %%, clients %.0f %%, other processes of the machine %.0f %%",
		what, 1000*per(total), strings.Join(parts, ", "), 1000*per(self),
		what, per(s.questions-before.questions), per(s.redisN-before.redisN), strings.Join(top, ", "),
		wall, 100*total/(wall*float64(runtime.NumCPU())), 100*self/(wall*float64(runtime.NumCPU())), 100*max(others, 0)/(wall*float64(runtime.NumCPU())))
}

// bcMachineBusy is the machine's non-idle CPU time, in seconds (/proc/stat).
func bcMachineBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	busy := 0.0
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / 100
}

func bcMachine() string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	nginxV, _ := exec.Command("nginx", "-v").CombinedOutput()
	mdbBin, _ := lookPath("mariadbd")
	mdb, _ := exec.Command(mdbBin, "--version").CombinedOutput()
	return fmt.Sprintf("%d cores (%s), Go %s, %s, %s", runtime.NumCPU(), cpu, runtime.Version(),
		strings.TrimSpace(string(nginxV)), strings.TrimSpace(string(mdb)))
}
