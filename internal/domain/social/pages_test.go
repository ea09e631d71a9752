package social

import (
	"context"
	"testing"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// maxPageStatements bounds the statements of one page of likes, matches
// or rank, whatever its size (it used to be about two per Card).
const maxPageStatements = 8

// pageRig is a VIP-3 viewer with n likers, n matches and 2n ranked users.
func pageRig(t testing.TB, n int) (*rig, int64) {
	t.Helper()
	r := newRig(t)
	ids := r.users(t, 1+2*n)
	me := ids[0]
	r.vip(t, me, 3)
	var reqs [][3]int64
	for i, id := range ids[1 : 1+n] { // likers, superlikes first
		act := int64(model.ActionLike)
		if i%3 == 0 {
			act = int64(model.ActionSuperlike)
			r.vip(t, id, 1) // superlikes need VIP
		}
		reqs = append(reqs, [3]int64{id, me, act})
	}
	for _, id := range ids[1+n:] { // matches
		reqs = append(reqs, [3]int64{id, me, int64(model.ActionLike)}, [3]int64{me, id, int64(model.ActionLike)})
	}
	r.swipes(t, reqs...)
	return r, me
}

// statements runs f and returns how many statements it sent.
func statements(t testing.TB, r *rig, f func() error) int64 {
	t.Helper()
	before := r.st.Queries()
	if err := f(); err != nil {
		t.Fatal(err)
	}
	return r.st.Queries().Sub(before).Total()
}

// A page costs a fixed, small number of statements whatever its size: the
// Cards are read in batches (users, albums, facts), not one by one.
func TestListPagesAreNotNPlusOne(t *testing.T) {
	const n = 100
	r, me := pageRig(t, n)
	ctx := context.Background()
	routes := map[string]func(limit int) (int, error){
		"likes": func(limit int) (int, error) {
			p, err := r.svc.LikesReceived(ctx, me, limit, 1)
			return len(p.Users), err
		},
		"matches": func(limit int) (int, error) {
			p, err := r.svc.Matches(ctx, me, limit, 1, false)
			return len(p.Matches), err
		},
		"rank": func(limit int) (int, error) {
			es, err := r.svc.Rank(ctx, me, limit)
			return len(es), err
		},
	}
	for name, page := range routes {
		var got int
		cost := func(limit int) int64 {
			return statements(t, r, func() error {
				var err error
				got, err = page(limit)
				return err
			})
		}
		small := cost(5)
		big := cost(n) // most of them not cached yet
		if got != n {
			t.Fatalf("%s: %d Cards on a page of %d", name, got, n)
		}
		if big > maxPageStatements || small > maxPageStatements {
			t.Errorf("%s: a page of %d sent %d statements, a page of 5 %d (at most %d, whatever the size)",
				name, n, big, small, maxPageStatements)
		}
	}
}

// BenchmarkLikesPage100 is one page of 100 who-liked-me Cards (users and
// albums cached after the first).
func BenchmarkLikesPage100(b *testing.B) {
	r, me := pageRig(b, 100)
	ctx := context.Background()
	before := r.st.Queries()
	b.ResetTimer()
	for range b.N {
		p, err := r.svc.LikesReceived(ctx, me, 100, 1)
		if err != nil || len(p.Users) != 100 {
			b.Fatalf("%d users, %v", len(p.Users), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(r.st.Queries().Sub(before).Total())/float64(b.N), "statements/op")
}

// BenchmarkMatchesPage100 is one page of 100 matches.
func BenchmarkMatchesPage100(b *testing.B) {
	r, me := pageRig(b, 100)
	ctx := context.Background()
	before := r.st.Queries()
	b.ResetTimer()
	for range b.N {
		p, err := r.svc.Matches(ctx, me, 100, 1, false)
		if err != nil || len(p.Matches) != 100 {
			b.Fatalf("%d matches, %v", len(p.Matches), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(r.st.Queries().Sub(before).Total())/float64(b.N), "statements/op")
}
