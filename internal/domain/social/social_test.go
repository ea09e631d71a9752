package social

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/profile"
)

// The birthday bounds of a deck query (bornRange, compared with birthCode
// as the index does) are exactly the age range.
func TestDeckAgeBoundsMatchAgeOn(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	rng := rand.New(rand.NewPCG(3, 4))
	days := []time.Time{
		time.Date(2028, 2, 29, 12, 0, 0, 0, tz), time.Date(2027, 2, 28, 23, 59, 0, 0, tz),
		time.Date(2027, 3, 1, 0, 0, 0, 0, tz), time.Date(2026, 12, 31, 23, 30, 0, 0, tz),
		time.Date(2026, 1, 1, 0, 10, 0, 0, tz),
	}
	for i := 0; i < 50; i++ {
		days = append(days, time.Date(2020+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, tz))
	}
	for _, now := range days {
		for k := 0; k < 200; k++ {
			minA := 18 + rng.IntN(60)
			maxA := minA + rng.IntN(100-minA+1)
			after, upTo := bornRange(now.UTC(), tz, minA, maxA)
			var b string
			if rng.IntN(5) == 0 {
				b = fmt.Sprintf("%04d-02-29", 1904+4*rng.IntN(25))
			} else {
				b = fmt.Sprintf("%04d-%02d-%02d", 1900+rng.IntN(120), 1+rng.IntN(12), 1+rng.IntN(28))
			}
			age := profile.AgeOn(b, now.UTC(), tz)
			want := age >= minA && age <= maxA
			got := birthCode(b) > after && birthCode(b) <= upTo
			if got != want {
				t.Fatalf("now %s, born %s (age %d), range %d-%d: query says %v (%d < b <= %d)", now, b, age, minA, maxA, got, after, upTo)
			}
		}
	}
}

// The walk's shuffle is one per viewer and local day.
func TestDeckMaskPerViewerAndDay(t *testing.T) {
	a := deckMask(1, "2026-01-01")
	if a != deckMask(1, "2026-01-01") {
		t.Fatal("not deterministic")
	}
	if a == deckMask(2, "2026-01-01") || a == deckMask(1, "2026-01-02") {
		t.Fatal("the same shuffle for another viewer or day")
	}
}

func TestUntilMidnight(t *testing.T) {
	tz, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Date(2026, 5, 1, 23, 59, 30, 0, tz)
	if d := untilMidnight(now.UTC(), tz); d != 30*time.Second {
		t.Fatalf("%s", d)
	}
	if got := Day(time.Date(2026, 5, 1, 16, 30, 0, 0, time.UTC), tz); got != "2026-05-02" {
		t.Fatalf("local day %s", got)
	}
}
