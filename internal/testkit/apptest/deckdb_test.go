package apptest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

// selects counts the SELECT statements the app sends to its database
// (store.Queries) since the last take.
type selects struct {
	e    *apptest.Env
	last int64
}

func (h *selects) take() (int, []string) {
	now := h.e.App.Store.Queries().Reads
	n := now - h.last
	h.last = now
	return int(n), nil
}

// TestDeckAsksNoDatabase: once a viewer's deck state is cached, a deck is
// built from the index and the deck state alone, also right after the
// viewer swiped or was superliked; the cost of a deck does not depend on
// the database (nor on the viewer's history).
func TestDeckAsksNoDatabase(t *testing.T) {
	e := apptest.New(t)
	me := soNewUser(t, e)
	var women []soUser
	for range 8 {
		u := soNewUser(t, e)
		soPatch(t, e, u, "/api/v1/users/me", map[string]any{"gender": "female", "birthday": "1996-01-02"})
		soPatch(t, e, u, "/api/v1/users/me/profile", map[string]any{"dating_gender": "male", "only_matched": false})
		women = append(women, u)
	}
	soExpect(t, e.Upload("POST", "/api/v1/users/me/photos", women[2].Token, "photo", "p.png", soPNG(t)), 200, 0)
	// Granted through the store before the first deck: a write that
	// bypasses the services is caught up by the next deck (embedded, the
	// caches' watch of outside writes tells the deck index).
	soVIP(t, e, women[1], 1)
	h := &selects{e: e}
	h.take()
	photos := func(deck []soCard) map[int64]int {
		out := map[int64]int{}
		for _, c := range deck {
			out[c.ID] = len(c.Photos)
		}
		return out
	}
	if deck := soDeck(t, e, me, 20); len(deck) != 8 || photos(deck)[women[2].ID] != 1 || photos(deck)[women[3].ID] != 0 {
		t.Fatalf("first deck: %d cards, photos %v", len(deck), photos(deck))
	}
	if n, _ := h.take(); n == 0 {
		t.Fatal("the first deck read nothing: the hook does not count")
	}
	if deck := soDeck(t, e, me, 20); len(deck) != 8 || photos(deck)[women[2].ID] != 1 {
		t.Fatalf("second deck: %d cards, photos %v", len(deck), photos(deck))
	}
	if n, qs := h.take(); n != 0 {
		t.Fatalf("a cached deck sent %d SELECTs: %q", n, qs)
	}
	soExpect(t, soSwipe(e, me, women[0].ID, "dislike"), 200, 0)
	soExpect(t, soSwipe(e, women[1], me.ID, "superlike"), 200, 0)
	h.take()
	deck := soDeck(t, e, me, 20)
	if len(deck) != 7 || deck[0].ID != women[1].ID || !deck[0].SuperlikedMe {
		t.Fatalf("deck after a swipe and a superlike: %+v", deck)
	}
	if n, qs := h.take(); n != 0 {
		t.Fatalf("the deck after swipes sent %d SELECTs: %q", n, qs)
	}
}

// A deck built from the database (the viewer's deck state not cached: a
// new replica, or expired) leaves out what a cached one does: a superliker
// either of the two blocked is not put first, nor anywhere in the deck.
func TestDeckFromDatabaseLeavesBlockedSuperlikersOut(t *testing.T) {
	e := apptest.New(t)
	ctx := context.Background()
	me := soNewUser(t, e)
	for _, blockedByMe := range []bool{true, false} {
		her := sfWoman(t, e)
		soVIP(t, e, her, 1)
		soExpect(t, soSwipe(e, her, me.ID, "superlike"), 200, 0)
		if d := soDeck(t, e, me, 50); len(d) == 0 || d[0].ID != her.ID {
			t.Fatalf("the superliker is not first: %v", soIDs(d))
		}
		if blockedByMe {
			soExpect(t, sfBlock(e, me, her.ID), 200, 0)
		} else {
			soExpect(t, sfBlock(e, her, me.ID), 200, 0)
		}
		if err := e.App.ResetDeckState(ctx); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(soIDs(soDeck(t, e, me, 50)), her.ID) {
			t.Fatalf("a superliker blocked (by me: %v) is in the deck read from the database", blockedByMe)
		}
	}
}
