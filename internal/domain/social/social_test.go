package social

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// Every cell within maxKM (as CellDistanceKM rounds it) is inside the box.
func TestBoxAroundHoldsEveryCellInRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		lat := int32(rng.IntN(18001) - 9000)
		lng := int32(rng.IntN(36001) - 18000)
		if i%4 == 0 { // near the poles and the antimeridian too
			lat = int32(8500 + rng.IntN(501))
			lng = int32(17800 + rng.IntN(201))
		}
		maxKM := rng.IntN(501)
		b := boxAround(lat, lng, maxKM)
		// candidates around the box's edges
		dLat := int32(float64(maxKM)/111*100) + 3
		for j := 0; j < 20; j++ {
			cl := lat + int32(rng.IntN(int(2*dLat+1))) - dLat
			cg := lng + int32(rng.IntN(int(8*dLat+1))) - 4*dLat
			if cl < -9000 || cl > 9000 || cg < -18000 || cg > 18000 {
				continue
			}
			if profile.CellDistanceKM(lat, lng, cl, cg) > maxKM {
				continue
			}
			in := cl >= b.MinLat && cl <= b.MaxLat && (b.AllLng || (cg >= b.MinLng && cg <= b.MaxLng))
			if !in {
				t.Fatalf("cell (%d,%d) at %d km of (%d,%d) outside the %d km box %+v", cl, cg,
					profile.CellDistanceKM(lat, lng, cl, cg), lat, lng, maxKM, b)
			}
		}
	}
}

// The birthday bounds of the deck query are exactly the age range.
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
	viewer := model.User{ID: 1, Gender: "male", Birthday: "1990-01-01"}
	for _, now := range days {
		for k := 0; k < 200; k++ {
			minA := 18 + rng.IntN(60)
			maxA := minA + rng.IntN(100-minA+1)
			q := DeckQuery(viewer, profile.Profile{DatingGender: "any", MinDatingAge: minA, MaxDatingAge: maxA}, now.UTC(), tz)
			var b string
			if rng.IntN(5) == 0 {
				b = fmt.Sprintf("%04d-02-29", 1904+4*rng.IntN(25))
			} else {
				b = fmt.Sprintf("%04d-%02d-%02d", 1900+rng.IntN(120), 1+rng.IntN(12), 1+rng.IntN(28))
			}
			age := profile.AgeOn(b, now.UTC(), tz)
			want := age >= minA && age <= maxA
			got := b > q.BornAfter && b <= q.BornUpTo
			if got != want {
				t.Fatalf("now %s, born %s (age %d), range %d-%d: query says %v (%s < b <= %s)", now, b, age, minA, maxA, got, q.BornAfter, q.BornUpTo)
			}
		}
	}
}

func TestShufflePerViewerAndDay(t *testing.T) {
	a, b := shuffle(1, "2026-01-01"), shuffle(1, "2026-01-01")
	if a != b {
		t.Fatal("not deterministic")
	}
	if a == shuffle(2, "2026-01-01") || a == shuffle(1, "2026-01-02") {
		t.Fatal("same parameters for another viewer or day")
	}
	for _, v := range a {
		if v < 0 || v >= 1000000007 {
			t.Fatalf("parameter %d out of range", v)
		}
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
