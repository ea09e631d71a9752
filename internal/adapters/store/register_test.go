package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/swiper-social/swiper/internal/adapters/store"
)

// Concurrent first logins of one phone create one user; every caller gets
// that user, as a fresh read shows it.
func TestRegisterConcurrent(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	now := time.Now().UTC()
	u := store.User{Phone: "+8613811112222", Nickname: "用户2222", Gender: "male", Birthday: "1990-01-01",
		City: "北京", CreatedAt: now, ActiveAt: now}
	p := store.Profile{DatingGender: "female", DatingCity: "北京", MaxDistance: 50, MinDatingAge: 18, MaxDatingAge: 50}
	const n = 8
	got := make([]store.User, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if got[i], created[i], err = st.Register(ctx, u, p); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	fresh, err := st.UserByPhone(ctx, u.Phone)
	if err != nil {
		t.Fatal(err)
	}
	creators := 0
	for i := range n {
		if created[i] {
			creators++
		}
		if d := cmp.Diff(fresh, got[i]); d != "" {
			t.Errorf("caller %d (created %v) got another row (-fresh +got):\n%s", i, created[i], d)
		}
	}
	if creators != 1 {
		t.Errorf("%d callers created the user, want 1", creators)
	}
	if _, err := st.Profile(ctx, fresh.ID, store.Profile{DatingGender: "male"}); err != nil {
		t.Fatal(err)
	}
	var profiles int
	if err := st.DB().NewRaw("SELECT COUNT(*) FROM profiles WHERE user_id = ?", fresh.ID).Scan(ctx, &profiles); err != nil || profiles != 1 {
		t.Errorf("%d profiles (%v), want 1", profiles, err)
	}
}
