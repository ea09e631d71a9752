package deckstate_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/clock"
	"github.com/swiper-social/swiper/internal/deckstate"
	"github.com/swiper-social/swiper/internal/deckstate/deckstatetest"
	"github.com/swiper-social/swiper/internal/testenv"
)

func TestMemoryContract(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	deckstatetest.Run(t, func(t *testing.T, ttl time.Duration) deckstate.Store {
		return deckstate.NewMemory(clk, ttl)
	}, func(ttl time.Duration) { clk.Advance(ttl + time.Millisecond) })
}

func TestRedisContract(t *testing.T) {
	url := testenv.RedisURL(t)
	deckstatetest.Run(t, func(t *testing.T, ttl time.Duration) deckstate.Store {
		opt, err := redis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		c := redis.NewClient(opt)
		prefix := "test:" + testenv.RandomPrefix() + ":"
		t.Cleanup(func() {
			ctx := context.Background()
			keys, _ := c.Keys(ctx, prefix+"*").Result()
			if len(keys) > 0 {
				c.Del(ctx, keys...)
			}
			_ = c.Close()
		})
		return deckstate.NewRedis(c, prefix, ttl)
	}, func(ttl time.Duration) { time.Sleep(ttl + 50*time.Millisecond) })
}
