package apptest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
	"github.com/swiper-social/swiper/internal/testkit/testenv/rediscluster"
)

// On a Redis Cluster (a private one: 3 masters, 3 replicas) a user logs in
// and reads a deck, and /readyz reports Redis down while one hash slot is
// not served, although every node still answers PING.
func TestRedisClusterReadyz(t *testing.T) {
	c := rediscluster.Start(t, rediscluster.Default())
	ns := testenv.RandomPrefix()
	e := apptest.New(t, func(cfg *config.Config, _ *app.Options) {
		cfg.RedisURL = c.URL()
		cfg.RedisNamespace = strings.TrimSuffix(ns, ":")
	})
	token := e.Login("+8613800000042")
	for _, path := range []string{"/api/v1/users/me", "/api/v1/recommendations"} {
		if r := e.Do(apptest.Request{Method: "GET", Path: path, Token: token}); r.Status != 200 {
			t.Fatalf("%s on the cluster: %d %s", path, r.Status, r.Body)
		}
	}
	if r := e.Do(apptest.Request{Method: "GET", Path: "/readyz"}); r.Status != 200 {
		t.Fatalf("/readyz on a healthy cluster: %d %s", r.Status, r.Body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var owner *redis.Client
	for _, a := range c.Addrs {
		n := c.Node(t, a)
		slots, err := n.ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range slots {
			if s.Start == 0 && s.Nodes[0].Addr == a {
				owner = n
			}
		}
	}
	if owner == nil {
		t.Fatal("no master serves slot 0")
	}
	if err := owner.ClusterDelSlots(ctx, 0).Err(); err != nil {
		t.Fatal(err)
	}
	e.WaitFor("/readyz 503 naming redis while slot 0 is not served", func() bool {
		r := e.Do(apptest.Request{Method: "GET", Path: "/readyz"})
		return r.Status == 503 && strings.Contains(string(r.Body), "redis")
	})
	if err := owner.ClusterAddSlots(ctx, 0).Err(); err != nil {
		t.Fatal(err)
	}
	e.WaitFor("/readyz 200 once slot 0 is served again", func() bool {
		return e.Do(apptest.Request{Method: "GET", Path: "/readyz"}).Status == 200
	})
}
