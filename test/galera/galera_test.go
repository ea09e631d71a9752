// Package galera_test runs Swiper's swipe path on a 3-node MariaDB Galera
// cluster on loopback with writes sent to different nodes (multi-writer):
// the invariants that InnoDB's locking gives on one server must hold on a
// distributed MySQL-compatible engine too. It starts its own cluster
// (internal/testenv/galera) and needs SWIPER_GALERA=1 (`make test-galera`,
// part of `make test`).
package galera_test

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/platform/seed"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
	"github.com/swiper-social/swiper/internal/testkit/testenv/galera"
)

// replicas starts one Swiper per Galera node, sharing one Redis namespace
// (sessions, caches) as replicas behind nginx would.
func replicas(t *testing.T, c *galera.Cluster, tune func(*config.Config)) []*apptest.Env {
	t.Helper()
	redisURL := testenv.RedisURL(t)
	ns := testenv.RedisNamespace(t)
	var envs []*apptest.Env
	shared := clock.NewFake(time.Now()) // one time for all, as real replicas share the wall clock
	for i, url := range c.URLs {
		envs = append(envs, apptest.New(t, func(cfg *config.Config, o *app.Options) {
			// Each app runs its own task queue, so that the SMS of a code it
			// asked for is sent by its own (test) SMS sender.
			o.QueueName = fmt.Sprintf("%s-swiper-%d", ns, i)
			o.Clock = shared
			cfg.DatabaseURL = url
			cfg.RedisURL = redisURL
			cfg.RedisNamespace = ns
			if tune != nil {
				tune(cfg)
			}
		}))
	}
	return envs
}

func need(t *testing.T) {
	if os.Getenv("SWIPER_GALERA") != "1" {
		t.Skip("set SWIPER_GALERA=1 (make test-galera) to run the Galera cluster tests")
	}
}

type user struct {
	token string
	id    int64
}

// users seeds n users through e (their rows replicate to every node) and
// opens a session for each (sessions live in the shared Redis).
func users(t *testing.T, e *apptest.Env, n int) []user {
	t.Helper()
	first, _, err := seed.Users(t.Context(), e.App.Store, time.Now().UTC(), seed.Options{Users: n, Seed: uint64(time.Now().UnixNano()), Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	us := make([]user, n)
	for i := range us {
		s, err := e.App.Auth.OpenSession(t.Context(), first+int64(i))
		if err != nil {
			t.Fatal(err)
		}
		us[i] = user{token: s.Token, id: first + int64(i)}
	}
	return us
}

type swipeAnswer struct {
	Matched bool `json:"matched"`
}

// TestGalera runs the three invariants on one cluster (it takes ~30 s to
// form): crossing likes, the like quota and the rewind quota.
func TestGalera(t *testing.T) {
	need(t)
	c := galera.Start(t, 3)
	envs := replicas(t, c, func(cfg *config.Config) { cfg.FreeDailyLikes = 5 })
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for i, e := range envs {
			for _, line := range strings.Split(e.Logs.String(), "\n") {
				if strings.Contains(line, "internal error") || strings.Contains(line, "level=ERROR") {
					t.Logf("replica %d: %s", i, line)
				}
			}
		}
	})

	t.Run("CrossingLikes", func(t *testing.T) {
		const pairs = 100
		us := users(t, envs[0], 2*pairs)
		a, b := us[:pairs], us[pairs:]
		var wg sync.WaitGroup
		matched := make([]int, pairs)
		var mu sync.Mutex
		for i := range pairs {
			// a likes b through one node, b likes a through another, at once.
			for side, sw := range []struct {
				e     *apptest.Env
				token string
				to    int64
			}{{envs[i%3], a[i].token, b[i].id}, {envs[(i+1)%3], b[i].token, a[i].id}} {
				wg.Go(func() {
					r := sw.e.Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: sw.token,
						JSON: map[string]any{"user_id": sw.to, "action": "like"}})
					if r.Status != 200 {
						t.Errorf("pair %d side %d: %d %s", i, side, r.Status, r.Body)
						return
					}
					var s swipeAnswer
					r.Decode(t, &s)
					if s.Matched {
						mu.Lock()
						matched[i]++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		var rows int
		if err := envs[2].DB().NewRaw("SELECT COUNT(*) FROM matches").Scan(t.Context(), &rows); err != nil {
			t.Fatal(err)
		}
		if rows != pairs {
			t.Errorf("%d match rows for %d crossing like pairs, want exactly %d", rows, pairs, pairs)
		}
		for i, n := range matched {
			if n != 1 {
				t.Errorf("pair %d: %d of the two likes answered matched=true, want exactly 1", i, n)
			}
		}
		// Both sides see the match on every node.
		for i := range pairs {
			for _, e := range envs {
				r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/matches", Token: a[i].token})
				var m struct {
					Total int `json:"total"`
				}
				r.Decode(t, &m)
				if m.Total != 1 {
					t.Errorf("pair %d: /matches total %d on a node, want 1", i, m.Total)
					break
				}
			}
		}
	})

	t.Run("LikeQuota", func(t *testing.T) {
		us := users(t, envs[0], 21)
		liker := us[0].token
		var targets []int64
		for _, u := range us[1:] {
			targets = append(targets, u.id)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i, to := range targets {
			wg.Go(func() {
				r := envs[i%3].Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: liker,
					JSON: map[string]any{"user_id": to, "action": "like"}})
				switch {
				case r.Status == 200:
					mu.Lock()
					ok++
					mu.Unlock()
				case r.Code == 2003, r.Code == 5001: // quota used up; or too many conflicts: retry later
				default:
					t.Errorf("like %d: %d %s", i, r.Status, r.Body)
				}
			})
		}
		wg.Wait()
		if ok > 5 {
			t.Fatalf("%d likes accepted with a quota of 5 spread over 3 nodes", ok)
		}
		// The likes refused with 503 consumed nothing: sent again one by
		// one, exactly the quota's rest is accepted.
		for i, to := range targets {
			r := envs[i%3].Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: liker,
				JSON: map[string]any{"user_id": to, "action": "like"}})
			if r.Status == 200 {
				ok++
			}
		}
		if ok != 5 {
			t.Errorf("%d likes accepted in all with a quota of 5, want exactly 5", ok)
		}
	})

	t.Run("RewindQuota", func(t *testing.T) {
		e0 := envs[0]
		us := users(t, e0, 9)
		tok, me := us[0].token, us[0].id
		if err := e0.App.Store.SetVIP(t.Context(), me, 2, ptr(time.Now().Add(24*time.Hour))); err != nil {
			t.Fatal(err)
		}
		for _, e := range envs {
			if err := e.App.InvalidateUserCache(t.Context(), me); err != nil {
				t.Fatal(err)
			}
		}
		var targets []int64
		for _, u := range us[1:] {
			targets = append(targets, u.id)
		}
		for _, to := range targets {
			r := e0.Do(apptest.Request{Method: "POST", Path: "/api/v1/swipes", Token: tok,
				JSON: map[string]any{"user_id": to, "action": "dislike"}})
			if r.Status != 200 {
				t.Fatalf("dislike: %d %s", r.Status, r.Body)
			}
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range 8 {
			wg.Go(func() {
				r := envs[i%3].Do(apptest.Request{Method: "DELETE", Path: "/api/v1/swipes/latest", Token: tok})
				switch {
				case r.Status == 200:
					mu.Lock()
					ok++
					mu.Unlock()
				case r.Code == 2006, r.Code == 5001: // daily limit; or too many conflicts: retry later
				default:
					t.Errorf("rewind %d: %d %s", i, r.Status, r.Body)
				}
			})
		}
		wg.Wait()
		if ok > 3 {
			t.Fatalf("%d rewinds succeeded at once over 3 nodes (the daily limit is 3)", ok)
		}
		for i := range 8 {
			if r := envs[i%3].Do(apptest.Request{Method: "DELETE", Path: "/api/v1/swipes/latest", Token: tok}); r.Status == 200 {
				ok++
			}
		}
		if ok != 3 {
			t.Errorf("%d rewinds in all, want exactly 3 (the daily limit)", ok)
		}
		var left int
		if err := envs[2].DB().NewRaw("SELECT COUNT(*) FROM swipes WHERE swiper_id = ?", me).Scan(t.Context(), &left); err != nil {
			t.Fatal(err)
		}
		if left != 8-3 {
			t.Errorf("%d of 8 swipes left after 3 rewinds, want 5", left)
		}
	})
}

func ptr[T any](v T) *T { return &v }
