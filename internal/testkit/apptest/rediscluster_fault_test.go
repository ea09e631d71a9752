package apptest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
	"github.com/swiper-social/swiper/internal/testkit/testenv/rediscluster"
)

// faultAnswer is one answer seen under load.
type faultAnswer struct {
	kind         string // "swipe" or "me"
	start, end   time.Time
	status, code int
	retryAfter   string
	body         string
	err          error
	swiper, whom int64 // the swipe's pair
}

// A master of the Redis Cluster crashes (SIGKILL) while users swipe and
// read their profile: until its replica is promoted the answers are 200 or
// 503 (5001) with Retry-After — never a 500, never a lost session (401) —
// every swipe answered 200 is in MariaDB, and once /readyz is 200 again
// every request succeeds, without restarting Swiper.
//
// Redis replicates asynchronously, so a write acknowledged just before the
// crash may be lost with its master. The sessions are therefore created
// before the load, and the load starts only once every replica has every
// write of its master (offsets equal): what must survive did reach the
// replica that is promoted. Writes made under load (quota counters, caches)
// may be lost; that is allowed, the swipes themselves are in MariaDB.
func TestRedisClusterMasterKill(t *testing.T) {
	if !testenv.Production() {
		t.Skip("production path only (SWIPER_TEST_BACKEND=production): the swipes must be in MariaDB")
	}
	c := rediscluster.Start(t, rediscluster.Default())
	ns := testenv.RandomPrefix()
	e := apptest.New(t, func(cfg *config.Config, _ *app.Options) {
		cfg.RedisURL = c.URL()
		cfg.RedisNamespace = strings.TrimSuffix(ns, ":")
		cfg.FreeDailyLikes = 1 << 30
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	const swipers, targets = 50, 200
	ids := make([]int64, swipers+targets)
	for i := range ids {
		id, _, err := e.App.Profile.Register(ctx, fmt.Sprintf("+861371%07d", i))
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	tokens := make([]string, swipers)
	for i := range tokens {
		s, err := e.App.Auth.OpenSession(ctx, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = s.Token
	}
	masters := waitReplicated(t, ctx, c)

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	do := func(kind, method, path, token string, body []byte) faultAnswer {
		a := faultAnswer{kind: kind, start: time.Now()}
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, e.URL+path, rd)
		if err != nil {
			a.err = err
			return a
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		a.end = time.Now()
		if err != nil {
			a.err = err
			return a
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		a.status, a.retryAfter, a.body, a.err, a.code = resp.StatusCode, resp.Header.Get("Retry-After"), string(b), err, -1
		var env struct {
			Code *int `json:"code"`
		}
		if json.Unmarshal(b, &env) == nil && env.Code != nil {
			a.code = *env.Code
		}
		return a
	}

	var (
		mu      sync.Mutex
		answers []faultAnswer
		next    atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var a faultAnswer
				if g%4 == 3 || i%2 == 1 {
					a = do("me", "GET", "/api/v1/users/me", tokens[(g*7+i)%swipers], nil)
				} else if k := next.Add(1) - 1; k < swipers*targets {
					who, whom := int(k%swipers), swipers+int(k/swipers)
					body, _ := json.Marshal(map[string]any{"user_id": ids[whom], "action": "like"})
					a = do("swipe", "POST", "/api/v1/swipes", tokens[who], body)
					a.swiper, a.whom = ids[who], ids[whom]
				} else {
					a = do("me", "GET", "/api/v1/users/me", tokens[i%swipers], nil)
				}
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
			}
		}()
	}
	stopLoad := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopLoad)

	// ~1 s of load on the healthy cluster, then a master crashes.
	loadStart := time.Now()
	waitUntil(t, "1 s of load", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return time.Since(loadStart) > time.Second && len(answers) > 20
	})
	killed := masters[0]
	killAt := time.Now()
	if err := c.Kill(killed); err != nil {
		t.Fatal(err)
	}
	readyz := func() int {
		a := do("readyz", "GET", "/readyz", "", nil)
		return a.status
	}
	waitUntil(t, "/readyz 503 after the crash", 30*time.Second, func() bool { return readyz() == 503 })
	waitUntil(t, "/readyz 200 after the failover", 90*time.Second, func() bool { return readyz() == 200 })
	readyAt := time.Now()
	failover := readyAt.Sub(killAt)
	// Load goes on 2 s more after the recovery.
	after := time.Now().Add(2 * time.Second)
	waitUntil(t, "2 s of load after the recovery", 30*time.Second, func() bool { return time.Now().After(after) })
	stopLoad()
	t.Logf("master %s killed; /readyz 200 again after %v", killed, failover.Round(10*time.Millisecond))

	// (1) only 200 or 503 5001 with Retry-After; (2) 503 only between the
	// crash and the promotion (plus a margin for the cluster clients to
	// reload the slot map); everything succeeds after.
	const margin = time.Second
	var n200, n503, okAfter, bad int
	var last503, slowest time.Duration
	accepted := map[[2]int64]bool{}
	for _, a := range answers {
		if a.err == nil {
			slowest = max(slowest, a.end.Sub(a.start))
		}
		switch {
		case a.err != nil:
			t.Errorf("%s at +%v: %v", a.kind, a.start.Sub(killAt), a.err)
		case a.status == 200:
			n200++
			if a.start.After(readyAt.Add(margin)) {
				okAfter++
			}
			if a.kind == "swipe" {
				accepted[[2]int64{a.swiper, a.whom}] = true
			}
		case a.status == 503 && a.code == 5001 && a.retryAfter != "":
			n503++
			last503 = max(last503, a.start.Sub(killAt))
			if a.end.Before(killAt) || a.start.After(readyAt.Add(margin)) {
				t.Errorf("%s 503 outside the failover: started %v, ended %v after the crash (ready after %v)",
					a.kind, a.start.Sub(killAt), a.end.Sub(killAt), failover)
			}
		default:
			bad++
			if bad <= 10 {
				t.Errorf("%s at +%v: %d (code %d, Retry-After %q) %s",
					a.kind, a.start.Sub(killAt), a.status, a.code, a.retryAfter, a.body)
			}
		}
	}
	if bad > 10 {
		t.Errorf("%d wrong answers in all", bad)
	}
	t.Logf("%d answers: %d × 200, %d × 503 (the last sent %v after the crash); %d × 200 after the recovery; slowest answer %v",
		len(answers), n200, n503, last503.Round(10*time.Millisecond), okAfter, slowest.Round(10*time.Millisecond))
	if okAfter < 10 {
		t.Errorf("only %d successful answers after the recovery", okAfter)
	}
	if t.Failed() {
		t.Logf("server log:\n%s", tail(e.Logs.String(), 8000))
	}

	// (3) every swipe answered 200 is in MariaDB.
	var rows []struct {
		SwiperID int64 `bun:"swiper_id"`
		SwipedID int64 `bun:"swiped_id"`
	}
	if err := e.DB().NewSelect().Table("swipes").Column("swiper_id", "swiped_id").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	stored := map[[2]int64]bool{}
	for _, r := range rows {
		stored[[2]int64{r.SwiperID, r.SwipedID}] = true
	}
	lost := 0
	for p := range accepted {
		if !stored[p] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d accepted swipes are not in the swipes table", lost, len(accepted))
	}
}

// waitReplicated waits until every replica has every write of its master
// and returns the masters' addresses.
func waitReplicated(t *testing.T, ctx context.Context, c *rediscluster.Cluster) []string {
	t.Helper()
	var masters []string
	waitUntil(t, "every replica has every write of its master", time.Minute, func() bool {
		masters = masters[:0]
		for _, addr := range c.Addrs {
			info, err := c.Node(t, addr).Info(ctx, "replication").Result()
			if err != nil {
				return false
			}
			var role, offset string
			var replicas []string
			for _, line := range strings.Split(info, "\n") {
				line = strings.TrimSpace(line)
				k, v, _ := strings.Cut(line, ":")
				switch {
				case k == "role":
					role = v
				case k == "master_repl_offset":
					offset = v
				case strings.HasPrefix(k, "slave") && strings.Contains(v, "offset="):
					for _, f := range strings.Split(v, ",") {
						if o, ok := strings.CutPrefix(f, "offset="); ok {
							replicas = append(replicas, o)
						}
					}
				}
			}
			if role != "master" {
				continue
			}
			masters = append(masters, addr)
			if len(replicas) == 0 {
				return false
			}
			for _, o := range replicas {
				if o != offset {
					return false
				}
			}
		}
		return len(masters) > 0
	})
	return masters
}

// waitUntil polls cond every 50 ms until it holds, failing t after limit.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
