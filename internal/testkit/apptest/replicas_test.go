package apptest_test

import (
	"slices"
	"testing"

	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// TestReplicaDecks: two replicas share MariaDB and Redis; whatever is
// committed through one shows at once in decks served by the other (their
// deck indexes and the deck state in Redis), with no poll running.
func TestReplicaDecks(t *testing.T) {
	if !testenv.Production() {
		t.Skip("replicas share Redis: production path only (the suite runs again with SWIPER_TEST_BACKEND=production)")
	}
	a := apptest.New(t)
	b := a.Replica()
	woman := func(e *apptest.Env) soUser {
		u := soNewUser(t, e)
		soPatch(t, e, u, "/api/v1/users/me", map[string]any{"gender": "female", "birthday": "1995-03-04"})
		soPatch(t, e, u, "/api/v1/users/me/profile", map[string]any{"dating_gender": "male"})
		return u
	}
	me := soNewUser(t, a)
	var women []soUser
	for range 6 {
		women = append(women, woman(a))
	}
	has := func(cs []soCard, id int64) bool { return slices.Contains(soIDs(cs), id) }
	deck := soDeck(t, b, me, 50)
	for _, w := range women {
		if !has(deck, w.ID) {
			t.Fatalf("replica b's deck misses %d, registered through a: %v", w.ID, soIDs(deck))
		}
	}

	// A swipe through a leaves b's decks at once.
	soExpect(t, soSwipe(a, me, women[0].ID, "dislike"), 200, 0)
	if deck := soDeck(t, b, me, 50); has(deck, women[0].ID) {
		t.Fatalf("b's deck still holds %d, swiped through a", women[0].ID)
	}
	// A profile change through a: she moves to 上海 and leaves b's decks.
	soPatch(t, a, women[1], "/api/v1/users/me", map[string]any{"city": "上海"})
	if deck := soDeck(t, b, me, 50); has(deck, women[1].ID) {
		t.Fatalf("b's deck still holds %d, who moved away through a", women[1].ID)
	}
	// A superlike through a puts her first in b's deck, flagged.
	soVIP(t, a, women[2], 1)
	soExpect(t, soSwipe(a, women[2], me.ID, "superlike"), 200, 0)
	deck = soDeck(t, b, me, 50)
	if len(deck) == 0 || deck[0].ID != women[2].ID || !deck[0].SuperlikedMe {
		t.Fatalf("b's deck does not start with the superliker %d: %+v", women[2].ID, deck)
	}
	// A rewind through a brings the swiped woman back in b's deck.
	soVIP(t, a, me, 3)
	soExpect(t, soSwipe(a, me, women[3].ID, "dislike"), 200, 0)
	if deck := soDeck(t, b, me, 50); has(deck, women[3].ID) {
		t.Fatalf("b's deck holds %d, swiped through a", women[3].ID)
	}
	soExpect(t, soDelete(a, me, "/api/v1/swipes/latest"), 200, 0)
	if deck := soDeck(t, b, me, 50); !has(deck, women[3].ID) {
		t.Fatalf("b's deck misses %d after the rewind through a", women[3].ID)
	}
	// A photo added through a shows in b's deck at once.
	soPatch(t, a, women[4], "/api/v1/users/me/profile", map[string]any{"only_matched": false})
	soExpect(t, a.Upload("POST", "/api/v1/users/me/photos", women[4].Token, "photo", "p.png", soPNG(t)), 200, 0)
	deck = soDeck(t, b, me, 50)
	if i := slices.Index(soIDs(deck), women[4].ID); i < 0 || len(deck[i].Photos) != 1 {
		t.Fatalf("b's deck does not show the photo %d added through a: %+v", women[4].ID, deck)
	}
	// The viewer's own change through a: dating city 上海 on b at once.
	soPatch(t, a, me, "/api/v1/users/me/profile", map[string]any{"dating_city": "上海"})
	deck = soDeck(t, b, me, 50)
	if !has(deck, women[1].ID) || has(deck, women[4].ID) {
		t.Fatalf("b's deck ignores the viewer's new dating city: %v", soIDs(deck))
	}
}
