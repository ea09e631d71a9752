package seed_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/platform/seed"
)

func TestSeedSwipesAreConsistent(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Now().UTC()
	first, last, err := seed.Users(ctx, st, now, seed.Options{Users: 3000, Seed: 9, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := seed.Swipes(ctx, st, first, last, now, seed.SwipeOptions{PerUser: 12, Seed: 9, RowsPerStmt: 700, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Swipes < 3000*10 || stats.Matches == 0 {
		t.Fatalf("stats %+v", stats)
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := storetest.DB(t, st).NewRaw(q).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count("SELECT COUNT(*) FROM swipes"); n != stats.Swipes {
		t.Fatalf("%d swipes stored, %d reported", n, stats.Swipes)
	}
	mutual := count("SELECT COUNT(*) FROM swipes a JOIN swipes b ON a.swiper_id = b.swiped_id AND a.swiped_id = b.swiper_id " +
		"WHERE a.swiper_id < a.swiped_id AND a.action IN (1, 2) AND b.action IN (1, 2)")
	if n := count("SELECT COUNT(*) FROM matches"); n != mutual || n != stats.Matches {
		t.Fatalf("%d matches, %d mutual likes, %d reported", n, mutual, stats.Matches)
	}
	if n := count("SELECT COUNT(*) FROM matches m WHERE NOT EXISTS (SELECT 1 FROM swipes s WHERE s.swiper_id = m.user_a AND s.swiped_id = m.user_b AND s.action IN (1, 2))"); n != 0 {
		t.Fatalf("%d matches without a like", n)
	}
	if n := count("SELECT COUNT(*) FROM scores c WHERE c.score <> (SELECT COALESCE(SUM(CASE s.action WHEN 1 THEN 5 WHEN 2 THEN 7 ELSE -5 END), 0) FROM swipes s WHERE s.swiped_id = c.user_id) " +
		"OR c.swipes <> (SELECT COUNT(*) FROM swipes s WHERE s.swiped_id = c.user_id)"); n != 0 {
		t.Fatalf("%d scores disagree with the swipes", n)
	}
	likes := count("SELECT COUNT(*) FROM swipes WHERE action = 1")
	supers := count("SELECT COUNT(*) FROM swipes WHERE action = 2")
	if r := float64(likes) / float64(stats.Swipes); r < 0.40 || r > 0.60 {
		t.Fatalf("like rate %.2f", r)
	}
	if r := float64(supers) / float64(stats.Swipes); r < 0.01 || r > 0.05 {
		t.Fatalf("superlike rate %.2f", r)
	}
	if n := count("SELECT COUNT(*) FROM swipes s JOIN users a ON a.id = s.swiper_id JOIN users b ON b.id = s.swiped_id WHERE a.city <> b.city"); n != 0 {
		t.Fatalf("%d swipes across cities", n)
	}
}
