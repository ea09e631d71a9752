package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// UpdateUser's Follow: dating_gender follows only while the profile was
// never edited; dating_city follows whenever it is given.
func TestUpdateUserFollow(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	u, _, err := st.Register(ctx, store.User{Phone: "+8613800000001", Nickname: "n", Gender: "male", Birthday: "1990-01-01",
		City: "北京", CreatedAt: now, ActiveAt: now},
		store.Profile{DatingGender: "female", DatingCity: "北京", MaxDistance: 50, MinDatingAge: 18, MaxDatingAge: 50})
	if err != nil {
		t.Fatal(err)
	}
	change := func(gender string, f store.Follow) {
		t.Helper()
		if _, err := st.UpdateUser(ctx, u.ID, func(u *store.User) (store.Follow, error) {
			u.Gender = gender
			return f, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	profile := func() store.Profile {
		t.Helper()
		p, err := st.Profile(ctx, u.ID, store.Profile{})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	change("female", store.Follow{DatingGender: "male"})
	if p := profile(); p.DatingGender != "male" || p.Edited {
		t.Fatalf("unedited profile after gender female: %+v", p)
	}
	if _, err := st.UpdateProfile(ctx, u.ID, store.Profile{}, func(p *store.Profile) error {
		p.Vibration, p.Edited = false, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	change("male", store.Follow{DatingGender: "female", DatingCity: "上海"})
	if p := profile(); p.DatingGender != "male" || !p.Edited || p.DatingCity != "上海" {
		t.Fatalf("edited profile after gender male and a city: %+v (want dating_gender kept, dating_city followed)", p)
	}
}

// Migration 6 takes a profile that differs from what registration gives as
// edited, and one that does not as never edited.
func TestMigrationMarksEditedProfiles(t *testing.T) {
	ctx := context.Background()
	dialect, dsn := storetest.Location(t)
	gd := goose.DialectSQLite3
	if dialect == config.MySQL {
		gd = goose.DialectMySQL
	}
	db := storetest.DBAt(t, dialect, dsn)
	p, err := goose.NewProvider(gd, db.DB, os.DirFS(filepath.Join("migrations", dialect)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 5); err != nil {
		t.Fatal(err)
	}
	type row struct {
		gender, city, datingGender, datingCity string
		maxDistance                            int
		vibration                              bool
		edited                                 bool // expected after the migration
	}
	rows := []row{
		{"male", "北京", "female", "北京", 50, true, false},  // as registered
		{"female", "北京", "male", "北京", 50, true, false},  // as registered, then gender female (followed)
		{"female", "北京", "female", "北京", 50, true, true}, // chose dating_gender
		{"male", "北京", "any", "北京", 50, true, true},      // chose any
		{"male", "北京", "female", "北京", 30, true, true},   // chose a distance
		{"male", "北京", "female", "北京", 50, false, true},  // turned vibration off
		{"male", "上海", "female", "北京", 50, true, true},   // a VIP's other dating_city
	}
	for i, r := range rows {
		id := i + 1
		if _, err := db.ExecContext(ctx, "INSERT INTO users (id, phone, nickname, gender, birthday, city, created_at, active_at) "+
			"VALUES (?, ?, 'n', ?, '1990-01-01', ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
			id, fmt.Sprintf("+86138000000%02d", id), r.gender, r.city); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO profiles (user_id, dating_gender, dating_city, min_distance, max_distance, "+
			"min_dating_age, max_dating_age, vibration, only_matched, auto_play) VALUES (?, ?, ?, 0, ?, 18, 50, ?, TRUE, TRUE)",
			id, r.datingGender, r.datingCity, r.maxDistance, r.vibration); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.UpTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		var edited bool
		if err := db.QueryRowContext(ctx, "SELECT edited FROM profiles WHERE user_id = ?", i+1).Scan(&edited); err != nil {
			t.Fatal(err)
		}
		if edited != r.edited {
			t.Errorf("profile %+v: edited = %v, want %v", r, edited, r.edited)
		}
	}
}
