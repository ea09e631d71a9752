package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/swiper-social/swiper/internal/adapters/store"
)

// UserAndPhotos (prepared statements) returns exactly what User and Photos
// (bun queries) return, and ErrNotFound for an unknown id.
func TestUserAndPhotos(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 2)
	exp := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Microsecond)
	if err := st.SetVIP(ctx, ids[0], 2, &exp); err != nil {
		t.Fatal(err)
	}
	was, err := st.User(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	next := was
	lat, lng := int32(3990), int32(11640)
	next.CellLat, next.CellLng = &lat, &lng
	if err := st.WriteUser(ctx, was, next, store.Profile{}, store.Profile{}); err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"/media/a.jpg", "/media/b.jpg", "/media/c.jpg"} {
		if _, err := st.AddPhoto(ctx, store.Photo{UserID: ids[0], URL: url, StorageKey: url[7:],
			CreatedAt: time.Now().UTC()}, 6); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ { // concurrent first uses prepare once
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, id := range ids {
				u, ps, err := st.UserAndPhotos(ctx, id)
				if err != nil {
					t.Error(err)
					return
				}
				wantU, err := st.User(ctx, id)
				if err != nil {
					t.Error(err)
					return
				}
				wantPs, err := st.Photos(ctx, id)
				if err != nil {
					t.Error(err)
					return
				}
				if d := cmp.Diff(wantU, u); d != "" {
					t.Errorf("user %d (-User +UserAndPhotos):\n%s", id, d)
				}
				if d := cmp.Diff(wantPs, ps); d != "" {
					t.Errorf("photos %d (-Photos +UserAndPhotos):\n%s", id, d)
				}
			}
		}()
	}
	wg.Wait()
	if _, ps, _ := st.UserAndPhotos(ctx, ids[0]); len(ps) != 3 || ps[0].Position != 1 || ps[2].URL != "/media/c.jpg" {
		t.Errorf("album %+v", ps)
	}
	if _, _, err := st.UserAndPhotos(ctx, ids[1]+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: err = %v, want ErrNotFound", err)
	}
}

// UsedTodayMany reads any number of users (statements of padded sizes,
// chunks of 64), only of the day asked for.
func TestUsedTodayMany(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	var rows []store.DailyQuota
	for id := int64(1); id <= 150; id++ {
		if id%3 != 0 { // every third user used nothing
			rows = append(rows, store.DailyQuota{UserID: id, Day: "2026-12-07", Likes: int(id), Rewinds: int(id % 4)})
		}
		rows = append(rows, store.DailyQuota{UserID: id, Day: "2026-12-06", Likes: 1000})
	}
	if _, err := st.DB().NewInsert().Model(&rows).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 2, 3, 5, 64, 65, 150} {
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = int64(150 - i)
		}
		got, err := st.UsedTodayMany(ctx, "2026-12-07", ids)
		if err != nil {
			t.Fatalf("%d users: %v", n, err)
		}
		want := map[int64]store.QuotaUse{}
		for _, id := range ids {
			if id%3 != 0 {
				want[id] = store.QuotaUse{Likes: int(id), Rewinds: int(id % 4)}
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%d users (-want +got):\n%s", n, d)
		}
	}
}
