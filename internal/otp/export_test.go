package otp

import (
	"context"
	"time"
)

// VerifyThenApart is the Redis Cluster way of VerifyThen (the script, then
// a pipeline), for tests on a single Redis.
func VerifyThenApart(r *Redis, ctx context.Context, phone string, codeHash []byte, now time.Time, then Then) (Result, [][]byte, error) {
	return r.verifyThenApart(ctx, phone, codeHash, now, then)
}
