package deck

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/cities"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// seedLike fills a fake database like `swiper seed` does (36 cities,
// Zipf-like, 80% with a location, 20% active in 24 h, 30% in 7 days).
func seedLike(n int) (*fakeSource, time.Time) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(42, 42))
	all := cities.All()
	f := newFake()
	for id := int64(1); id <= int64(n); id++ {
		gender, dg := "female", "male"
		if rng.IntN(100) < 52 {
			gender, dg = "male", "female"
		}
		if rng.IntN(100) < 5 {
			dg = "any"
		}
		age := 18 + int(math.Min(42, math.Abs(rng.NormFloat64()*9)+2))
		c := all[int(float64(len(all))*math.Pow(rng.Float64(), 2))]
		r := store.DeckRow{ID: id, Gender: gender, Birthday: now.AddDate(-age, 0, -rng.IntN(365)).Format("2006-01-02"),
			City: c.Name, DatingGender: dg, DatingCity: c.Name, MinDistance: 0, MaxDistance: 50,
			MinDatingAge: max(18, age-5-rng.IntN(5)), MaxDatingAge: min(100, age+5+rng.IntN(10))}
		switch x := rng.IntN(100); {
		case x < 20:
			r.ActiveAt = now.Add(-time.Duration(rng.IntN(24*60)) * time.Minute)
		case x < 50:
			r.ActiveAt = now.Add(-time.Duration(24*60+rng.IntN(6*24*60)) * time.Minute)
		default:
			r.ActiveAt = now.Add(-time.Duration(7*24+rng.IntN(60*24)) * time.Hour)
		}
		if rng.IntN(100) < 80 {
			la, ln := profile.SnapCell(c.Lat+rng.NormFloat64()*0.08, c.Lng+rng.NormFloat64()*0.08)
			r.CellLat, r.CellLng = &la, &ln
		}
		f.rows[id] = r
		f.stamp[id] = 1 // older than the load: the catch-up after it reads nothing
	}
	f.clock = 2
	return f, now
}

// BenchmarkDeck: one deck of 20 (walking 29 candidates, as internal/social
// does before its database check) for a random viewer.
func BenchmarkDeck(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			f, now := seedLike(n)
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			ix := New(f, func() time.Time { return now })
			start := time.Now()
			if err := ix.Load(context.Background()); err != nil {
				b.Fatal(err)
			}
			took := time.Since(start)
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			b.Logf("%d users: load %v (fake source), index heap %.1f MiB (%.0f B/user)", n, took.Round(time.Millisecond),
				float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), float64(after.HeapAlloc-before.HeapAlloc)/float64(n))
			qs := make([]Query, 1024)
			for i := range qs {
				qs[i] = queryFor(f.rows[int64(1+i*(n/1024))], now)
			}
			b.ReportAllocs()
			b.ResetTimer()
			short := 0
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				buf := make([]int64, 0, 64)
				for pb.Next() {
					i++
					buf = ix.Walk(qs[i%len(qs)]).Next(buf[:0], 29)
					if len(buf) < 20 {
						short++
					}
				}
			})
			_ = short
		})
	}
}
