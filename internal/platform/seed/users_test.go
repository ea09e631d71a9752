package seed

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/profile"
)

// TestFakeUsersLookReal: the gender mix, ages 18-60, a given name of the
// user's gender, a real city, and preferences that contain the user's age.
func TestFakeUsersLookReal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	cities := Cities()
	surnames, given := names()
	const n = 20000
	males := 0
	for i := range n {
		u, p := fake(rng, int64(i+1), cities, surnames, given, now)
		names := given.female
		if u.Gender == "male" {
			males++
			names = given.male
		}
		if !slices.ContainsFunc(names, func(g string) bool { return strings.HasSuffix(u.Nickname, g) }) {
			t.Fatalf("%s user named %q", u.Gender, u.Nickname)
		}
		age := profile.AgeOn(u.Birthday, now, time.UTC)
		if age < 18 || age > 60 {
			t.Fatalf("age %d (born %s)", age, u.Birthday)
		}
		if p.MinDatingAge > age || p.MaxDatingAge < age || p.DatingCity != u.City {
			t.Fatalf("user %+v with preferences %+v", u, p)
		}
		if !slices.ContainsFunc(cities, func(c City) bool { return c.Name == u.City }) {
			t.Fatalf("city %q", u.City)
		}
	}
	if r := float64(males) / n; r < 0.49 || r > 0.55 {
		t.Fatalf("male share %.3f, want about 0.52", r)
	}
}
