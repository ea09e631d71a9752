package social

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/deck"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// The index deck and the SQL deck take their age bounds and their
// per-viewer, per-day shuffle from one place (bornCutoff, deckSeed): for
// any day and age range they bound the same birthdays, and a viewer's
// shuffle changes with the same (viewer, day).
func TestBothDecksShareCutoffAndSeed(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.svc.d.Deck = deck.New(r.st, r.clock.Now)
	t.Cleanup(r.svc.d.Deck.Close)
	me := r.users(t, 1)[0]
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 200; i++ {
		minA := 18 + rng.IntN(60)
		maxA := minA + rng.IntN(100-minA+1)
		if _, err := r.st.UpdateProfile(ctx, me, model.Profile{}, func(p *model.Profile) error {
			p.MinDatingAge, p.MaxDatingAge = minA, maxA
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2020+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, 0, time.UTC)
		if i%7 == 0 {
			now = time.Date(2028, 2, 28, 16+rng.IntN(8), 0, 0, 0, time.UTC) // Feb 29 local
		}
		if err := r.svc.d.Deck.Fresh(ctx); err != nil {
			t.Fatal(err)
		}
		iq, err := r.svc.deckQueryOf(ctx, me, now)
		if err != nil {
			t.Fatal(err)
		}
		viewer, err := r.st.User(ctx, me)
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.st.Profile(ctx, me, model.Profile{})
		if err != nil {
			t.Fatal(err)
		}
		sq := DeckQuery(viewer, profile.Profile{DatingGender: p.DatingGender, DatingCity: p.DatingCity,
			MinDistance: p.MinDistance, MaxDistance: p.MaxDistance, MinDatingAge: p.MinDatingAge, MaxDatingAge: p.MaxDatingAge}, now, r.tz)
		code := func(v int32) string { return fmt.Sprintf("%04d-%02d-%02d", v/10000, v/100%100, v%100) }
		if code(iq.BornUpTo) != sq.BornUpTo || code(iq.BornAfter) != sq.BornAfter {
			t.Fatalf("%s, ages %d-%d: index bounds (%s, %s], SQL (%s, %s]", now, minA, maxA,
				code(iq.BornAfter), code(iq.BornUpTo), sq.BornAfter, sq.BornUpTo)
		}
		day := Day(now, r.tz)
		if iq.Mask != deckMask(me, day) || sq.Shuffle != shuffle(me, day) {
			t.Fatal("a deck's shuffle does not come from (viewer, day)")
		}
	}
}
