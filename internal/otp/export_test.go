package otp

import (
	"context"
	"time"
)

// VerifyThenApart is the Redis Cluster way of VerifyThen (the script, then
// the set), for tests on a single Redis.
func VerifyThenApart(r *Redis, ctx context.Context, phone string, codeHash []byte, now time.Time, then Then) (Result, error) {
	return r.verifyThenApart(ctx, phone, codeHash, now, then)
}

// CheckReadApart is the Redis Cluster way of CheckRead (the script, then a
// pipeline), for tests on a single Redis.
func CheckReadApart(r *Redis, ctx context.Context, phone string, codeHash []byte, now time.Time, keys []string) (Result, [][]byte, error) {
	return r.checkReadApart(ctx, phone, codeHash, now, keys)
}
