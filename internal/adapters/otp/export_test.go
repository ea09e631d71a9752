package otp

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
)

// NewRedisApart is a Redis store that works as on a Redis Cluster (no
// script spans the phone's hash and another key), for tests on one server.
func NewRedisApart(client redis.UniversalClient, prefix string, p Policy) *Redis {
	r := NewRedis(kv.NewRedis(client, prefix), p)
	r.cluster = true
	return r
}

// VerifyThenApart is the Redis Cluster way of VerifyThen (the set, the
// script, the undo), for tests on a single Redis.
func VerifyThenApart(r *Redis, ctx context.Context, phone string, codeHash []byte, now time.Time, then Then) (Result, error) {
	return r.verifyThenApart(ctx, phone, codeHash, now, then)
}

// CheckReadApart is the Redis Cluster way of CheckRead (the script and the
// reads in one pipeline), for tests on a single Redis.
func CheckReadApart(r *Redis, ctx context.Context, phone string, codeHash []byte, now time.Time, keys []string) (Result, [][]byte, error) {
	return r.checkReadApart(ctx, phone, codeHash, now, keys)
}

// CheckReadSteps is CheckRead in two round trips (the script, then the
// reads), what the Redis Cluster way falls back to before a node has the
// script.
func CheckReadSteps(r *Redis, ctx context.Context, phone string, codeHash []byte, now time.Time, keys []string) (Result, [][]byte, error) {
	return r.checkReadSteps(ctx, phone, codeHash, now, keys)
}
