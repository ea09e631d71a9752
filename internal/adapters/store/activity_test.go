package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
)

// An activity stamp does not stamp the row (updated_at): no deck index
// re-reads the row of a user who is merely active, and no cache drops it;
// the index reads activity from DeckActiveSince instead. Every other write
// of the row still stamps it, also a hand-made one that moves active_at
// back (which DeckActiveSince cannot show).
func TestActivityDoesNotStampTheRow(t *testing.T) {
	st := openStore(t)
	db := storetest.DB(t, st)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	p := store.Profile{DatingGender: "female", DatingCity: "北京", MaxDistance: 50, MinDatingAge: 18, MaxDatingAge: 50}
	var ids []int64
	for _, phone := range []string{"+8613811110001", "+8613811110002"} {
		u, _, err := st.Register(ctx, store.User{Phone: phone, Nickname: "n", Gender: "male", Birthday: "1990-01-01",
			City: "北京", CreatedAt: now.Add(-time.Hour), ActiveAt: now.Add(-time.Hour)}, p)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	if _, err := st.UsersChanged(ctx); err != nil { // starts following (SQLite)
		t.Fatal(err)
	}
	updatedAt := func(id int64) string {
		t.Helper()
		var v string
		if err := db.NewRaw("SELECT CAST(updated_at AS CHAR) FROM users WHERE id = ?", id).Scan(ctx, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	before, err := st.DeckStampsNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stamp0 := updatedAt(ids[0])

	at := now.Add(time.Minute)
	if err := st.TouchActiveMany(ctx, ids, at); err != nil {
		t.Fatal(err)
	}
	if err := st.TouchActive(ctx, ids[1], at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	u, err := st.User(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if !u.ActiveAt.Equal(at) {
		t.Fatalf("active_at %v, want %v", u.ActiveAt, at)
	}
	if got := updatedAt(ids[0]); got != stamp0 {
		t.Fatalf("an activity stamp changed updated_at: %s → %s", stamp0, got)
	}
	if after, err := st.DeckStampsNow(ctx); err != nil || after != before {
		t.Fatalf("deck stamps moved on activity: %+v → %+v (%v)", before, after, err)
	}
	if changed, _, err := st.DeckChanged(ctx, before, 0); err != nil || len(changed) != 0 {
		t.Fatalf("rows to re-read after activity: %v (%v)", changed, err)
	}
	if changed, err := st.UsersChanged(ctx); err != nil || len(changed) != 0 {
		t.Fatalf("users changed by activity: %v (%v)", changed, err)
	}
	acts, err := st.DeckActiveSince(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(acts, func(a, b store.DeckActive) int { return int(a.ID - b.ID) })
	if len(acts) != 2 || acts[0].ID != ids[0] || !acts[0].ActiveAt.Equal(at) ||
		acts[1].ID != ids[1] || !acts[1].ActiveAt.Equal(at.Add(2*time.Minute)) {
		t.Fatalf("active since %v: %+v", now, acts)
	}
	if acts, err := st.DeckActiveSince(ctx, at.Add(2*time.Minute)); err != nil || len(acts) != 0 {
		t.Fatalf("active after the newest stamp: %+v (%v)", acts, err)
	}

	// Moved back by hand: the row is stamped (the index re-reads it).
	if _, err := db.NewUpdate().Table("users").Set("active_at = ?", now.Add(-30*24*time.Hour)).
		Where("id = ?", ids[0]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if changed, _, err := st.DeckChanged(ctx, before, 0); err != nil || !slices.Equal(changed, ids[:1]) {
		t.Fatalf("rows to re-read after a hand-made write: %v (%v), want %v", changed, err, ids[:1])
	}
	// Any other change stamps the row, also together with activity.
	mid, err := st.DeckStampsNow(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.NewUpdate().Table("users").Set("active_at = ?", at.Add(time.Hour)).Set("nickname = ?", "m").
		Where("id = ?", ids[1]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if changed, _, err := st.DeckChanged(ctx, mid, 0); err != nil || !slices.Equal(changed, ids[1:]) {
		t.Fatalf("rows to re-read after a rename: %v (%v), want %v", changed, err, ids[1:])
	}
}
