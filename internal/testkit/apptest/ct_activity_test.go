package apptest_test

// Activity and the deck index: an activity stamp does not stamp the user's
// row (updated_at), so that no replica's index re-reads the row of a user
// who is merely active, yet the deck still orders by activity band; and a
// replica is not ready, nor answers decks, before its index is loaded.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/deck"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

var actPhoneSeq atomic.Int64

type actUser struct {
	ID    int64
	Token string
}

// actNewUser registers a user of gender who wants wants, with a session.
func actNewUser(t testing.TB, e *apptest.Env, gender, wants string) actUser {
	t.Helper()
	ctx := context.Background()
	id, _, err := e.App.Profile.Register(ctx, fmt.Sprintf("+86137%08d", actPhoneSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.App.Auth.OpenSession(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	u := actUser{ID: id, Token: s.Token}
	ctExpect(t, ctPatch(e, "/api/v1/users/me", u.Token, map[string]any{"gender": gender}), 200, 0)
	ctExpect(t, ctPatch(e, "/api/v1/users/me/profile", u.Token, map[string]any{"dating_gender": wants}), 200, 0)
	return u
}

func actDeck(t testing.TB, e *apptest.Env, u actUser) []int64 {
	t.Helper()
	r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/recommendations?limit=50", Token: u.Token})
	ctExpect(t, r, 200, 0)
	var cards []struct {
		ID int64 `json:"id"`
	}
	r.Decode(t, &cards)
	ids := make([]int64, len(cards))
	for i, c := range cards {
		ids[i] = c.ID
	}
	return ids
}

// An activity stamp leaves users.updated_at (the change stamp every
// replica's deck index and the embedded caches follow) alone: the index
// finds no row to re-read. It learns the activity from its once-a-minute
// read of the users active since (RefreshActivity), and the deck orders by
// activity band as before.
func TestContractActivityDoesNotStampUsers(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctx := context.Background()
	me := actNewUser(t, e, "male", "female")
	var women []int64
	for range 8 {
		women = append(women, actNewUser(t, e, "female", "male").ID)
	}
	if err := e.App.Activity.Flush(ctx); err != nil { // the touches of the requests above
		t.Fatal(err)
	}
	// Everyone inactive for a month (by hand: that stamps the rows).
	month := e.Clock.Now().Add(-30 * 24 * time.Hour)
	if _, err := e.DB().NewUpdate().Table("users").Set("active_at = ?", month).Where("id IN (?)", bun.In(women)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Deck.Fresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := actDeck(t, e, me); len(got) != len(women) {
		t.Fatalf("deck %v, want the %d women", got, len(women))
	}
	updatedAt := func(id int64) string {
		t.Helper()
		var v string
		if err := e.DB().NewRaw("SELECT CAST(updated_at AS CHAR) FROM users WHERE id = ?", id).Scan(ctx, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before, err := e.App.Store.DeckStampsNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stamp := updatedAt(women[0])

	// Three women are active again (the tracker writes at most once a minute).
	e.Clock.Advance(2 * time.Minute)
	active := women[:3]
	for _, id := range active {
		e.App.Activity.Touch(id)
	}
	if err := e.App.Activity.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := e.App.Store.User(ctx, active[0])
	if err != nil {
		t.Fatal(err)
	}
	if !u.ActiveAt.After(month) {
		t.Fatalf("active_at not written: %v", u.ActiveAt)
	}
	if got := updatedAt(active[0]); got != stamp {
		t.Fatalf("an activity stamp changed users.updated_at: %s → %s", stamp, got)
	}
	after, err := e.App.Store.DeckStampsNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Fatalf("the deck stamps moved on activity (every replica's index would re-read): %+v → %+v", before, after)
	}
	if ids, _, err := e.App.Store.DeckChanged(ctx, before, 0); err != nil || len(ids) != 0 {
		t.Fatalf("rows the index would re-read after activity: %v (%v)", ids, err)
	}

	if err := e.App.Deck.RefreshActivity(ctx); err != nil {
		t.Fatal(err)
	}
	deckIDs := actDeck(t, e, me)
	if len(deckIDs) != len(women) {
		t.Fatalf("deck %v, want the %d women", deckIDs, len(women))
	}
	first := slices.Clone(deckIDs[:len(active)])
	slices.Sort(first)
	if want := slices.Sorted(slices.Values(active)); !slices.Equal(first, want) {
		t.Fatalf("deck %v: the users active today %v do not come first", deckIDs, active)
	}
}

// actHeldSource holds the deck index's load until open is closed.
type actHeldSource struct {
	deck.Source
	open chan struct{}
}

func (h *actHeldSource) DeckRowsAfter(ctx context.Context, after int64, n int) ([]store.DeckRow, int64, error) {
	select {
	case <-h.open:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	return h.Source.DeckRowsAfter(ctx, after, n)
}

// A replica is not ready (/readyz 503, naming the deck index) until its
// deck index is loaded, and answers decks 503 5001 with Retry-After rather
// than a deck from no index; both answer 200 once the load finished.
func TestContractReadyzWaitsForDeckIndex(t *testing.T) {
	t.Parallel()
	open := make(chan struct{})
	e := apptest.New(t, func(_ *config.Config, o *app.Options) {
		o.DeckSource = func(s deck.Source) deck.Source { return &actHeldSource{Source: s, open: open} }
	})
	me := actNewUser(t, e, "male", "female")
	her := actNewUser(t, e, "female", "male")

	r := e.Do(apptest.Request{Method: "GET", Path: "/readyz"})
	if r.Status != 503 || !strings.Contains(string(r.Body), "deck index") || r.Header.Get("Retry-After") == "" {
		t.Fatalf("/readyz while the index loads: %d %q (Retry-After %q)", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	r = e.Do(apptest.Request{Method: "GET", Path: "/api/v1/recommendations", Token: me.Token})
	ctExpect(t, r, 503, 5001)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("a deck while the index loads: no Retry-After")
	}

	close(open)
	e.WaitFor("/readyz 200 after the load", func() bool {
		return e.Do(apptest.Request{Method: "GET", Path: "/readyz"}).Status == 200
	})
	if got := actDeck(t, e, me); !slices.Equal(got, []int64{her.ID}) {
		t.Fatalf("deck once loaded: %v, want [%d]", got, her.ID)
	}
}
