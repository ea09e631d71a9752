package deck

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/profile"
	"github.com/swiper-social/swiper/internal/store"
)

// seedLike fills a fake database like `swiper seed` does (36 cities,
// Zipf-like, 80% with a location, 20% active in 24 h, 30% in 7 days).
func seedLike(n int) (*fakeSource, time.Time) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(42, 42))
	cities := benchCities
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
		c := cities[int(float64(len(cities))*math.Pow(rng.Float64(), 2))]
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

type benchCity struct {
	Name     string
	Lat, Lng float64
}

// benchCities are seed.Cities() (not imported: seed imports social, which imports deck).
var benchCities = []benchCity{
	{"北京", 39.9042, 116.4074}, {"上海", 31.2304, 121.4737}, {"广州", 23.1291, 113.2644},
	{"深圳", 22.5431, 114.0579}, {"成都", 30.5728, 104.0668}, {"杭州", 30.2741, 120.1551},
	{"重庆", 29.5630, 106.5516}, {"武汉", 30.5928, 114.3055}, {"西安", 34.3416, 108.9398},
	{"南京", 32.0603, 118.7969}, {"天津", 39.3434, 117.3616}, {"苏州", 31.2989, 120.5853},
	{"长沙", 28.2282, 112.9388}, {"郑州", 34.7466, 113.6254}, {"东莞", 23.0207, 113.7518},
	{"青岛", 36.0671, 120.3826}, {"沈阳", 41.8057, 123.4315}, {"宁波", 29.8683, 121.5440},
	{"昆明", 25.0389, 102.7183}, {"合肥", 31.8206, 117.2272}, {"佛山", 23.0215, 113.1214},
	{"福州", 26.0745, 119.2965}, {"厦门", 24.4798, 118.0894}, {"哈尔滨", 45.8038, 126.5350},
	{"济南", 36.6512, 117.1201}, {"大连", 38.9140, 121.6147}, {"长春", 43.8171, 125.3235},
	{"南宁", 22.8170, 108.3665}, {"贵阳", 26.6470, 106.6302}, {"石家庄", 38.0428, 114.5149},
	{"太原", 37.8706, 112.5489}, {"南昌", 28.6820, 115.8579}, {"乌鲁木齐", 43.8256, 87.6168},
	{"兰州", 36.0611, 103.8343}, {"海口", 20.0440, 110.1999}, {"拉萨", 29.6520, 91.1721},
}
