package store_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/rank"
	"github.com/swiper-social/swiper/internal/domain/social"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// BenchmarkSwipeCommitter measures the database side of POST /swipes:
// concurrent callers (SWIPER_BENCH_CALLERS, default 64) put likes through
// the social module's committer (200 users like distinct targets, as
// BenchmarkSwipe in apptest does over HTTP), without the rank, the deck
// state or the HTTP layer.
func BenchmarkSwipeCommitter(b *testing.B) {
	benchCallers := 64
	if n, err := strconv.Atoi(os.Getenv("SWIPER_BENCH_CALLERS")); err == nil && n > 0 {
		benchCallers = n
	}
	st := openStore(b)
	ctx := context.Background()
	const swipers = 200
	ids := newUsers(b, st, swipers+b.N/swipers+2)
	svc := social.New(social.Deps{Store: st, Rank: rank.NewTable(social.RankTop(st)), Clock: clock.NewFake(time.Now()),
		TZ: time.UTC, FreeDailyLikes: 1 << 30, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer svc.Close()
	var next, failed atomic.Int64
	b.SetParallelism(benchCallers / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := next.Add(1) - 1
			who, whom := int(k%swipers), swipers+int(k/swipers)
			if _, err := svc.Swipe(ctx, ids[who], ids[whom], social.Like); err != nil {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d swipes failed", f, b.N)
	}
	st2 := svc.SwipeBatches()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "swipes/s")
	b.ReportMetric(float64(st2.Requests)/float64(st2.Batches), "swipes/batch")
}
