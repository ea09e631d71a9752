package otp_test

import (
	"testing"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/otp"
	"github.com/swiper-social/swiper/internal/adapters/otp/otptest"
)

// BenchmarkVerify measures one Issue plus one Verify on a distinct phone per
// iteration, for each store (Redis is skipped without SWIPER_TEST_REDIS_URL):
// serially, and from 16×GOMAXPROCS goroutines (Parallel) as an HTTP server
// would call it.
func BenchmarkVerify(b *testing.B) {
	b.Run("Memory", func(b *testing.B) {
		otptest.Bench(b, otp.NewMemory(otp.DefaultPolicy()))
	})
	b.Run("MemoryParallel", func(b *testing.B) {
		b.SetParallelism(16)
		otptest.BenchParallel(b, otp.NewMemory(otp.DefaultPolicy()))
	})
	b.Run("Redis", func(b *testing.B) {
		c, prefix := redisClient(b)
		otptest.Bench(b, otp.NewRedis(kv.NewRedis(c, prefix), otp.DefaultPolicy()))
	})
	b.Run("RedisParallel", func(b *testing.B) {
		c, prefix := redisClient(b)
		b.SetParallelism(16)
		otptest.BenchParallel(b, otp.NewRedis(kv.NewRedis(c, prefix), otp.DefaultPolicy()))
	})
}
