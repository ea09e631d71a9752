package kv_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/kv/kvtest"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

func TestMemoryContract(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) (kv.Store, *clock.Fake) {
		clk := clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
		return kv.NewMemory(clk), clk
	})
}

func TestRedisContract(t *testing.T) {
	url := testenv.RedisURL(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	client, err := kv.OpenRedis(ctx, url)
	if err != nil {
		t.Fatalf("OpenRedis: %v", err)
	}
	// Registered before the subtests' cleanups, so it runs after them.
	t.Cleanup(func() { _ = client.Close() })
	kvtest.Run(t, func(t *testing.T) (kv.Store, *clock.Fake) {
		prefix := "swiper-test:kv:" + rand.Text() + ":"
		t.Cleanup(func() { testenv.DeleteRedisKeys(t, url, prefix+"*") })
		return kv.NewRedis(client, prefix), nil
	})
}

func TestRedisPrefixesKeys(t *testing.T) {
	url := testenv.RedisURL(t)
	client, err := kv.OpenRedis(t.Context(), url)
	if err != nil {
		t.Fatalf("OpenRedis: %v", err)
	}
	defer client.Close()
	prefix := "swiper-test:kv:" + rand.Text() + ":"
	defer testenv.DeleteRedisKeys(t, url, prefix+"*")
	s := kv.NewRedis(client, prefix)
	if err := s.Set(t.Context(), "k", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := client.Get(t.Context(), prefix+"k").Result()
	if err != nil || got != "v" {
		t.Fatalf("raw GET %sk = %q, %v; want v", prefix, got, err)
	}
	if _, err := s.Incr(t.Context(), "n", 90*time.Second); err != nil {
		t.Fatal(err)
	}
	ttl, err := client.PTTL(t.Context(), prefix+"n").Result()
	if err != nil || ttl <= 80*time.Second || ttl > 90*time.Second {
		t.Fatalf("PTTL after Incr = %v, %v; want about 90s", ttl, err)
	}
}

// closedAddr returns a loopback address on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestRedisUnavailable(t *testing.T) {
	addr := closedAddr(t)

	t.Run("OpenRedis", func(t *testing.T) {
		start := time.Now()
		client, err := kv.OpenRedis(t.Context(), "redis://"+addr+"/0")
		if err == nil {
			client.Close()
			t.Fatal("OpenRedis on a closed port succeeded")
		}
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("OpenRedis error %v does not satisfy backend.ErrUnavailable", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("OpenRedis took %v to fail, want < 2s", d)
		}
	})

	t.Run("OpenRedisCluster", func(t *testing.T) {
		start := time.Now()
		client, err := kv.OpenRedis(t.Context(), "redis+cluster://"+addr+","+closedAddr(t))
		if err == nil {
			client.Close()
			t.Fatal("OpenRedis on closed ports succeeded")
		}
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("OpenRedis error %v does not satisfy backend.ErrUnavailable", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("OpenRedis took %v to fail, want < 3s", d)
		}
	})

	t.Run("Store", func(t *testing.T) {
		client := redis.NewClient(&redis.Options{
			Addr:          addr,
			DialTimeout:   2 * time.Second,
			ReadTimeout:   time.Second,
			WriteTimeout:  time.Second,
			PoolTimeout:   2 * time.Second,
			DialerRetries: 1,
		})
		defer client.Close()
		s := kv.NewRedis(client, "p:")
		ctx := t.Context()
		ops := map[string]func() error{
			"Get":  func() error { _, err := s.Get(ctx, "k"); return err },
			"MGet": func() error { _, err := s.MGet(ctx, "a", "b"); return err },
			"Set":  func() error { return s.Set(ctx, "k", []byte("v"), time.Minute) },
			"Del":  func() error { return s.Del(ctx, "k") },
			"Incr": func() error { _, err := s.Incr(ctx, "k", time.Minute); return err },
			"Ping": func() error { return s.Ping(ctx) },
		}
		for name, op := range ops {
			start := time.Now()
			err := op()
			if !errors.Is(err, backend.ErrUnavailable) {
				t.Errorf("%s on a closed port: %v; want backend.ErrUnavailable", name, err)
			}
			if errors.Is(err, kv.ErrNotFound) {
				t.Errorf("%s on a closed port looks like not found: %v", name, err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s took %v to fail, want < 2s", name, d)
			}
		}
	})
}
