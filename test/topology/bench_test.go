package topology_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

type routeStat struct {
	lat               []time.Duration
	ok, client, fails int
}

// TestBench is the load test (`make bench-topology`, not part of `make
// test`): it seeds SWIPER_BENCH_USERS users (default 1,000,000) with
// SWIPER_BENCH_SWIPES swipes each, then runs a realistic mix through nginx
// and both replicas for SWIPER_BENCH_SECONDS with SWIPER_BENCH_CONNS
// clients: deck fetches, swipes on the deck's cards (45 % likes, 3 %
// superlikes by VIP users, the rest dislikes — Tantan-like rates), profile
// reads and logins (code + verify through the SMS sink). It prints
// throughput, p50/p99 per route, errors and each process's RSS.
func TestBench(t *testing.T) {
	if os.Getenv("SWIPER_BENCH") != "1" {
		t.Skip("load test: SWIPER_BENCH=1 (make bench-topology)")
	}
	users := envInt("SWIPER_BENCH_USERS", 1_000_000)
	perUser := envInt("SWIPER_BENCH_SWIPES", 10)
	secs := envInt("SWIPER_BENCH_SECONDS", 60)
	conns := envInt("SWIPER_BENCH_CONNS", 32)
	ntok := envInt("SWIPER_BENCH_TOKENS", 5000)

	f := c.path("bench-tokens.txt")
	start := time.Now()
	out, err := c.swiperCmd("seed", "--users", strconv.Itoa(users), "--swipes-per-user", strconv.Itoa(perUser),
		"--random-seed", "42", "--tokens", strconv.Itoa(ntok), "--tokens-file", f)
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	seedTook := time.Since(start)
	var seedLines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "seeded") || strings.HasPrefix(l, "wrote") {
			seedLines = append(seedLines, l)
		}
	}
	b, _ := os.ReadFile(f)
	tokens := strings.Fields(string(b))
	m := seededRange.FindStringSubmatch(out)
	first, _ := strconv.ParseInt(m[1], 10, 64)
	// A tenth of the token holders are VIP 3 (superlike, unlimited likes).
	if _, err := c.db.Exec("UPDATE users SET vip_level = 3, vip_expires_at = ? WHERE id BETWEEN ? AND ? AND MOD(id, 10) = 0",
		time.Now().UTC().Add(24*time.Hour), first, first+int64(ntok)-1); err != nil {
		t.Fatal(err)
	}
	// (no request has cached these users yet, so the SQL update is seen)

	var mu sync.Mutex
	stats := map[string]*routeStat{}
	rec := func(route string, r result) {
		mu.Lock()
		defer mu.Unlock()
		s := stats[route]
		if s == nil {
			s = &routeStat{}
			stats[route] = s
		}
		s.lat = append(s.lat, r.latency())
		switch {
		case r.err != nil || r.status >= 500:
			s.fails++
		case r.status >= 400:
			s.client++
		default:
			s.ok++
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < conns-1; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			cl := c.newClient()
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(len(tokens))
				cl.token = tokens[i]
				uid := first + int64(i)
				r := cl.json("GET", c.url("/api/v1/recommendations?limit=20"), nil)
				rec("GET /api/v1/recommendations", r)
				var deck []card
				if r.status == 200 {
					_ = json.Unmarshal(r.data, &deck)
				}
				// Swipe most of the deck, now and then open a card.
				for j, cd := range deck {
					if j >= 8 {
						break
					}
					if rng.IntN(10) == 0 {
						rec("GET /api/v1/users/{id}", cl.json("GET", c.url("/api/v1/users/"+strconv.FormatInt(cd.ID, 10)), nil))
					}
					action := "dislike"
					switch p := rng.IntN(100); {
					case p < 3 && uid%10 == 0:
						action = "superlike"
					case p < 45:
						action = "like"
					}
					rec("POST /api/v1/swipes", cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": cd.ID, "action": action}))
				}
				if rng.IntN(4) == 0 {
					rec("GET /api/v1/users/me", cl.json("GET", c.url("/api/v1/users/me"), nil))
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // logins: one client at a time, each from its own address
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			cl := c.newClient()
			phone := c.nextPhone()
			r := cl.json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": phone})
			rec("POST /api/v1/verification-codes", r)
			if r.status != 200 {
				continue
			}
			var code string
			_ = waitFor(5*time.Second, func() error {
				if cs := smsCodes(c.worker)[maskOf(phone)]; len(cs) > 0 {
					code = cs[0]
					return nil
				}
				return fmt.Errorf("waiting")
			})
			rec("POST /api/v1/sessions", cl.json("POST", c.url("/api/v1/sessions"), map[string]string{"phone": phone, "code": code}))
		}
	}()
	loadStart := time.Now()
	time.Sleep(time.Duration(secs) * time.Second)
	rssNow := c.rssAll()
	close(stop)
	wg.Wait()
	took := time.Since(loadStart)

	var rep strings.Builder
	host, _ := os.Hostname()
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
	fmt.Fprintf(&rep, "machine: %s, %d cores (%s), Go %s, %s", host, runtime.NumCPU(), cpu, runtime.Version(), strings.TrimSpace(string(nginxV)))
	fmt.Fprintf(&rep, "\nseed: %d users × %d swipes in %s: %s\n", users, perUser, seedTook.Round(time.Second), strings.Join(seedLines, "; "))
	fmt.Fprintf(&rep, "load: %d clients through nginx → 2 replicas, %s\n\n", conns, took.Round(time.Millisecond))
	fmt.Fprintf(&rep, "| route | requests | req/s | p50 | p99 | 2xx | 4xx | errors (5xx, transport) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	total, totalErr := 0, 0
	routes := make([]string, 0, len(stats))
	for r := range stats {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	for _, r := range routes {
		s := stats[r]
		slices.Sort(s.lat)
		n := len(s.lat)
		total += n
		totalErr += s.fails
		fmt.Fprintf(&rep, "| %s | %d | %.1f | %s | %s | %d | %d | %d |\n", r, n, float64(n)/took.Seconds(),
			s.lat[n/2].Round(100*time.Microsecond), s.lat[min(n-1, n*99/100)].Round(100*time.Microsecond), s.ok, s.client, s.fails)
	}
	fmt.Fprintf(&rep, "| **all** | %d | %.1f | | | | | %d |\n\nRSS at the end of the load:\n\n%s", total, float64(total)/took.Seconds(), totalErr, rssNow)
	fmt.Println(rep.String())
	if p := os.Getenv("SWIPER_BENCH_OUT"); p != "" {
		_ = os.WriteFile(p, []byte(rep.String()), 0o644)
	}
	if totalErr > total/1000 {
		t.Errorf("error rate %d/%d above 0.1 %%", totalErr, total)
	}
}

// rssAll lists the resident memory of every process of the topology.
func (c *cluster) rssAll() string {
	var b strings.Builder
	row := func(name string, pid int) {
		fmt.Fprintf(&b, "- %s (pid %d): %s\n", name, pid, rss(pid))
	}
	for i, r := range c.replicas {
		row(fmt.Sprintf("swiper serve replica %d", i+1), r.pid())
	}
	row("swiper worker", c.worker.pid())
	row("nginx master", c.nginx.pid())
	for _, pid := range childPids(c.nginx.pid()) {
		row("nginx worker", pid)
	}
	row("mariadbd", c.mariadb.pid())
	row("redis-server", c.redis.pid())
	return b.String()
}

func childPids(parent int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "PPid:") && strings.TrimSpace(strings.TrimPrefix(l, "PPid:")) == strconv.Itoa(parent) {
				out = append(out, pid)
			}
		}
	}
	return out
}
