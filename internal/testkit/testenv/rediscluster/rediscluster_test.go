package rediscluster_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/testkit/testenv/rediscluster"
)

// The cluster comes up with every slot served, masters and replicas as
// asked, and its URL opens a cluster client that spreads keys over the
// masters; Redis agrees with kv.Slot on every key's slot.
func TestStart(t *testing.T) {
	c := rediscluster.Start(t, rediscluster.Default())
	if len(c.Addrs) != 6 {
		t.Fatalf("%d nodes, want 6", len(c.Addrs))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	rc, err := kv.OpenRedis(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	cc, ok := rc.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("OpenRedis(%s) = %T, want *redis.ClusterClient", c.URL(), rc)
	}
	var masters atomic.Int32 // ForEachMaster calls at once
	if err := cc.ForEachMaster(ctx, func(context.Context, *redis.Client) error { masters.Add(1); return nil }); err != nil || masters.Load() != 3 {
		t.Fatalf("masters %d, %v; want 3", masters.Load(), err)
	}
	node := c.Node(t, c.Addrs[0])
	for _, k := range []string{"a", "foo", "{u:1}:x", "t1:c:users:{u:42}", "x{}y", "{{a}}", "ns:dk:{u:9}:s"} {
		want, err := node.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := kv.Slot(k); int64(got) != want {
			t.Errorf("kv.Slot(%q) = %d, Redis says %d", k, got, want)
		}
	}
}
