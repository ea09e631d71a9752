package kv_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/kv/kvtest"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
	"github.com/swiper-social/swiper/internal/testkit/testenv/rediscluster"
)

// Slot is Redis Cluster's: the reference values of the cluster
// specification, and hash tags.
func TestSlot(t *testing.T) {
	for key, want := range map[string]int{
		"123456789": 12739, // CRC-16/XMODEM check value 0x31C3
		"foo":       12182,
		"bar":       5061,
		"":          0,
	} {
		if got := kv.Slot(key); got != want {
			t.Errorf("Slot(%q) = %d, want %d", key, got, want)
		}
	}
	same := [][2]string{
		{"{user1000}.following", "{user1000}.followers"},
		{"foo{bar}{zap}", "bar"},
		{"foo{{bar}}zap", "{bar"},
		{"x{}{bar}", "x{}{bar}"}, // an empty tag is no tag: the whole key
		{"ns:c:users:{u:7}", "ns:cg:users:{u:7}"},
	}
	for _, p := range same {
		if a, b := kv.Slot(p[0]), kv.Slot(p[1]); a != b {
			t.Errorf("Slot(%q) = %d, Slot(%q) = %d; want equal", p[0], a, p[1], b)
		}
	}
	if kv.Slot("x{}{bar}") == kv.Slot("bar") {
		t.Error(`"x{}{bar}" hashed by its second braces`)
	}
}

func TestClusterHealthy(t *testing.T) {
	ok := "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_known_nodes:6\r\n"
	if err := kv.ClusterHealthy(ok); err != nil {
		t.Fatalf("healthy cluster: %v", err)
	}
	for _, bad := range []string{
		"cluster_state:fail\r\ncluster_slots_ok:16384\r\n",
		"cluster_state:ok\r\ncluster_slots_ok:16383\r\n",
		"cluster_state:ok\r\n",
		"",
	} {
		err := kv.ClusterHealthy(bad)
		if err == nil || !errors.Is(err, backend.ErrUnavailable) {
			t.Errorf("ClusterHealthy(%q) = %v, want an outage", bad, err)
		}
	}
}

// The options of cluster and Sentinel URLs: every host, the credentials,
// the URL's own options and the fail-fast timeouts otherwise.
func TestClientOptions(t *testing.T) {
	target, err := config.ParseRedisURL("redis+cluster://app:s%3Acret@h1:7000,h2:7001,h3?read_timeout=3s&pool_size=7")
	if err != nil {
		t.Fatal(err)
	}
	c, err := kv.ClusterOptions(target)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Addrs, ",") != "h1:7000,h2:7001,h3:6379" || c.Username != "app" || c.Password != "s:cret" ||
		c.ReadTimeout != 3*time.Second || c.PoolSize != 7 || c.DialTimeout != 2*time.Second || c.WriteTimeout != time.Second ||
		c.DialerRetries != 1 || !c.ContextTimeoutEnabled || c.TLSConfig != nil {
		t.Fatalf("cluster options %+v", c)
	}
	target, err = config.ParseRedisURL("rediss+sentinel://:pw@s1:26379,s2/2?master_name=main&dial_timeout=5s")
	if err != nil {
		t.Fatal(err)
	}
	f, err := kv.FailoverOptions(target)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.SentinelAddrs, ",") != "s1:26379,s2:26379" || f.MasterName != "main" || f.DB != 2 || f.Password != "pw" ||
		f.SentinelPassword != "" || f.DialTimeout != 5*time.Second || f.ReadTimeout != time.Second || f.TLSConfig == nil {
		t.Fatalf("failover options %+v", f)
	}
	target, _ = config.ParseRedisURL("redis+cluster://h1:7000?no_such_option=1")
	if _, err := kv.ClusterOptions(target); err == nil {
		t.Fatal("an unknown option was accepted")
	}
}

// On a private Redis Cluster (3 masters, 3 replicas): the store passes its
// contract — MGet and Del over keys of many slots included — and Ping, the
// /readyz check of Redis, fails while a slot is not served although every
// node answers PING.
func TestRedisCluster(t *testing.T) {
	c := rediscluster.Start(t, rediscluster.Default())
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	client, err := kv.OpenRedis(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	if _, ok := client.(*redis.ClusterClient); !ok {
		t.Fatalf("OpenRedis(%s) = %T, want a cluster client", c.URL(), client)
	}

	t.Run("Contract", func(t *testing.T) {
		kvtest.Run(t, func(t *testing.T) (kv.Store, *clock.Fake) {
			return kv.NewRedis(client, testenv.RandomPrefix()), nil
		})
	})

	t.Run("ManySlots", func(t *testing.T) {
		s := kv.NewRedis(client, testenv.RandomPrefix())
		var keys []string
		slots := map[int]bool{}
		for i := range 200 {
			k := "k" + strconv.Itoa(i)
			keys = append(keys, k)
			slots[kv.Slot(k)] = true
			if i%2 == 0 {
				if err := s.Set(ctx, k, []byte(k), time.Minute); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(slots) < 100 {
			t.Fatalf("only %d slots", len(slots))
		}
		got, err := s.MGet(ctx, keys...)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if want := keys[i]; i%2 == 0 && string(v) != want || i%2 == 1 && v != nil {
				t.Fatalf("MGet[%d] = %q", i, v)
			}
		}
		if err := s.Del(ctx, keys...); err != nil {
			t.Fatal(err)
		}
		if got, err := s.MGet(ctx, keys...); err != nil || got[0] != nil || got[198] != nil {
			t.Fatalf("after Del: %q %q, %v", got[0], got[198], err)
		}
	})

	t.Run("ReadyNeedsEverySlot", func(t *testing.T) {
		s := kv.NewRedis(client, "")
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("Ping on a healthy cluster: %v", err)
		}
		// The master serving slot 0 forgets it: every node still answers
		// PING, but a key of slot 0 can no longer be served.
		var owner *redis.Client
		for _, a := range c.Addrs {
			n := c.Node(t, a)
			ranges, err := n.ClusterSlots(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range ranges {
				if r.Start == 0 && r.Nodes[0].Addr == a {
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
		waitFor(t, "Ping fails while slot 0 is not served", func() bool {
			err := s.Ping(ctx)
			return err != nil && errors.Is(err, backend.ErrUnavailable)
		})
		for _, a := range c.Addrs {
			if err := c.Node(t, a).Ping(ctx).Err(); err != nil {
				t.Fatalf("node %s does not answer PING: %v", a, err)
			}
		}
		// A key of slot 0 meanwhile: an outage (503), not a failure (500).
		key := ""
		for i := 0; key == ""; i++ {
			if k := "k" + strconv.Itoa(i); kv.Slot(k) == 0 {
				key = k
			}
		}
		if _, err := s.Get(ctx, key); !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("Get of a key in the unserved slot: %v; want backend.ErrUnavailable", err)
		}
		if _, err := s.Incr(ctx, key, time.Minute); !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("Incr of a key in the unserved slot: %v; want backend.ErrUnavailable", err)
		}
		if err := owner.ClusterAddSlots(ctx, 0).Err(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "Ping passes once slot 0 is served again", func() bool { return s.Ping(ctx) == nil })
	})

	t.Run("Failover", func(t *testing.T) {
		// A master crashes: Ping fails, its replica takes over, Ping passes
		// again and the keys written before are still served.
		s := kv.NewRedis(client, testenv.RandomPrefix())
		keys := make([]string, 50)
		for i := range keys {
			keys[i] = "f" + strconv.Itoa(i)
			if err := s.Set(ctx, keys[i], []byte(keys[i]), time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		var master string
		for _, a := range c.Addrs {
			if role, err := c.Node(t, a).Do(ctx, "ROLE").Slice(); err == nil && len(role) > 0 && role[0] == "master" {
				master = a
				break
			}
		}
		if master == "" {
			t.Fatal("no master")
		}
		mn := c.Node(t, master)
		waitFor(t, "the replica has every write of its master", func() bool {
			info, err := mn.Info(ctx, "replication").Result()
			if err != nil {
				return false
			}
			var offset, replica string
			for _, line := range strings.Split(info, "\n") {
				line = strings.TrimSpace(line)
				if v, ok := strings.CutPrefix(line, "master_repl_offset:"); ok {
					offset = v
				}
				if strings.HasPrefix(line, "slave0:") {
					for _, f := range strings.Split(line, ",") {
						if v, ok := strings.CutPrefix(f, "offset="); ok {
							replica = v
						}
					}
				}
			}
			return offset != "" && offset == replica
		})
		start := time.Now()
		if err := c.Kill(master); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "Ping fails with a master down", func() bool { return s.Ping(ctx) != nil })
		deadline := time.Now().Add(60 * time.Second)
		for s.Ping(ctx) != nil {
			if time.Now().After(deadline) {
				t.Fatal("Ping still fails 60 s after the master crashed")
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("ready again %v after the crash", time.Since(start).Round(100*time.Millisecond))
		got, err := s.MGet(ctx, keys...)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if string(v) != keys[i] {
				t.Fatalf("after the failover %s = %q", keys[i], v)
			}
		}
	})
}

// waitFor polls cond until it holds, failing the test after 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A redis+sentinel:// URL reaches the master a Sentinel names, in the
// database of the URL.
func TestRedisSentinel(t *testing.T) {
	url := rediscluster.StartSentinel(t, "swipermain", 3)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var client redis.UniversalClient
	waitFor(t, "the sentinel names its master", func() bool {
		c, err := kv.OpenRedis(ctx, url)
		if err != nil {
			return false
		}
		client = c
		return true
	})
	defer client.Close()
	s := kv.NewRedis(client, "p:")
	if err := s.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := client.Info(ctx, "keyspace").Result()
	if err != nil || !strings.Contains(info, "db3:keys=1") {
		t.Fatalf("keyspace %q, %v; want the key in db 3", info, err)
	}
}
