package store_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/platform/batch"
)

// BenchmarkSwipeCommitter measures the database side of POST /swipes:
// concurrent callers (SWIPER_BENCH_CALLERS, default 64) put likes through a
// committer over SwipeBatch (200 users like distinct targets, as
// BenchmarkSwipe in apptest does over HTTP).
func BenchmarkSwipeCommitter(b *testing.B) {
	benchCallers := 64
	if n, err := strconv.Atoi(os.Getenv("SWIPER_BENCH_CALLERS")); err == nil && n > 0 {
		benchCallers = n
	}
	st := openStore(b)
	ctx := context.Background()
	const swipers = 200
	ids := newUsers(b, st, swipers+b.N/swipers+2)
	c := batch.New(st.SwipeBatch, 256)
	defer c.Close()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var next, failed atomic.Int64
	b.SetParallelism(benchCallers / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := next.Add(1) - 1
			who, whom := int(k%swipers), swipers+int(k/swipers)
			out, err := c.Do(ctx, req(ids[who], ids[whom], store.ActionLike, 1<<30, now))
			if err != nil || out.Err != nil {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d swipes failed", f, b.N)
	}
	st2 := c.Stats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "swipes/s")
	b.ReportMetric(float64(st2.Requests)/float64(st2.Batches), "swipes/batch")
}
