package store_test

import (
	"context"
	"errors"
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

// WriteUser and WriteProfile write a change only while the rows still hold
// what was read: a write from a stale read is ErrConflict and writes
// nothing, of either row.
func TestConditionalWrites(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	u, _, err := st.Register(ctx, store.User{Phone: "+8613800000001", Nickname: "n", Gender: "male", Birthday: "1990-01-01",
		City: "北京", CreatedAt: now, ActiveAt: now},
		store.Profile{DatingGender: "female", DatingCity: "北京", MaxDistance: 50, MinDatingAge: 18, MaxDatingAge: 50})
	if err != nil {
		t.Fatal(err)
	}
	read := func() (store.User, store.Profile) {
		t.Helper()
		u, err := st.User(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := st.Profile(ctx, u.ID, store.Profile{})
		if err != nil {
			t.Fatal(err)
		}
		return u, p
	}
	u0, p0 := read()
	// A change of both rows from a current read: written.
	u1, p1 := u0, p0
	lat, lng := int32(3123), int32(12147)
	u1.Gender, u1.City, u1.CellLat, u1.CellLng = "female", "上海", &lat, &lng
	p1.DatingGender, p1.DatingCity = "male", "上海"
	if err := st.WriteUser(ctx, u0, u1, p0, p1); err != nil {
		t.Fatal(err)
	}
	if gu, gp := read(); gu.Gender != "female" || gu.City != "上海" || gu.CellLat == nil || *gu.CellLat != lat || gp != p1 {
		t.Fatalf("after a write: %+v %+v", gu, gp)
	}
	// From the stale read u0: nothing written, not even the profile.
	u2, p2 := u0, p1
	u2.Nickname = "stale"
	p2.Vibration = !p1.Vibration
	if err := st.WriteUser(ctx, u0, u2, p1, p2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale user: %v, want ErrConflict", err)
	}
	// From a current user but the stale profile p0: nothing written, not even the user.
	u3 := u1
	u3.Nickname = "stale"
	if err := st.WriteUser(ctx, u1, u3, p0, p2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale profile: %v, want ErrConflict", err)
	}
	if gu, gp := read(); gu.Nickname != "n" || gp != p1 {
		t.Fatalf("after stale writes: %+v %+v", gu, gp)
	}
	if err := st.WriteProfile(ctx, p0, p2); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale profile write: %v, want ErrConflict", err)
	}
	// A location cleared from a current read (NULL compares as NULL), then
	// a write from the read before it.
	u4 := u1
	u4.CellLat, u4.CellLng = nil, nil
	if err := st.WriteUser(ctx, u1, u4, p1, p1); err != nil {
		t.Fatal(err)
	}
	u5 := u4
	u5.Nickname = "m"
	if err := st.WriteUser(ctx, u4, u5, p1, p1); err != nil {
		t.Fatal(err)
	}
	if err := st.WriteUser(ctx, u4, u4, p1, p1); err != nil {
		t.Fatalf("nothing to change: %v", err)
	}
	if err := st.WriteUser(ctx, u1, u3, p1, p1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale location: %v, want ErrConflict", err)
	}
	p3 := p1
	p3.MinDistance, p3.Edited = 7, true
	if err := st.WriteProfile(ctx, p1, p3); err != nil {
		t.Fatal(err)
	}
	if gu, gp := read(); gu.Nickname != "m" || gu.CellLat != nil || gp != p3 {
		t.Fatalf("at the end: %+v %+v", gu, gp)
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
