package apptest_test

// Black-box test of the hot rank held in Redis as a bounded list (issue
// "Beyond one machine: Redis Cluster"): GET /rank is exactly the scores
// table's order (API.md GET /rank) while scores rise and fall, from two
// processes at once, and after Redis lost the list; Redis never holds more
// than K members. Helpers are social_test.go's (so*).

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/rank"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// ctRankSize makes the Redis list hold k members (production path).
func ctRankSize(k int) apptest.Option {
	return func(_ *config.Config, o *app.Options) { o.Rank = rank.Options{Size: k} }
}

// ctRankTruth is the scores table's rank: positive scores, highest first,
// ties by lower id.
func ctRankTruth(t *testing.T, e *apptest.Env, limit int) []rank.Entry {
	t.Helper()
	rows, err := e.DB().QueryContext(context.Background(), "SELECT user_id, score FROM scores WHERE swipes > 0 AND score > 0")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var es []rank.Entry
	for rows.Next() {
		var en rank.Entry
		if err := rows.Scan(&en.UserID, &en.Score); err != nil {
			t.Fatal(err)
		}
		es = append(es, en)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rank.Sort(es)
	return es[:min(limit, len(es))]
}

// ctRankCheck compares GET /rank?limit=n on every env with the table.
func ctRankCheck(t *testing.T, envs []*apptest.Env, viewer soUser, what string, limits ...int) {
	t.Helper()
	for _, n := range limits {
		want := ctRankTruth(t, envs[0], n)
		for i, e := range envs {
			got := soRank(t, e, viewer, fmt.Sprintf("?limit=%d", n))
			ok := len(got) == len(want)
			for j := 0; ok && j < len(got); j++ {
				ok = got[j].Rank == j+1 && got[j].User.ID == want[j].UserID && got[j].Score == want[j].Score
			}
			if !ok {
				var ids []string
				for _, g := range got {
					ids = append(ids, fmt.Sprintf("%d:%d", g.User.ID, g.Score))
				}
				t.Fatalf("%s: process %d, limit %d: /rank %v, the table %v", what, i, n, ids, want)
			}
		}
	}
}

// Many users' scores rise and fall — likes, superlikes, dislikes, from two
// processes at once, then the top falls under dislikes, a rewind takes a
// superlike back, Redis loses the list — and /rank is exactly the table's
// rank after each step, at every limit (K = 6 in Redis: limits above K
// read the table). Redis holds at most K members.
func TestCTRankIsTheTablesOrder(t *testing.T) {
	const k = 6
	e := apptest.New(t, ctRankSize(k))
	soMorning(e)
	ctx := context.Background()
	targets := make([]soUser, 24)
	for i := range targets {
		targets[i] = soNewUser(t, e)
	}
	swipers := make([]soUser, 10)
	for i := range swipers {
		swipers[i] = soNewUser(t, e)
		soVIP(t, e, swipers[i], 3) // superlikes, no like quota, rewinds
	}
	viewer := swipers[0]
	envs := []*apptest.Env{e}
	if testenv.Production() {
		envs = append(envs, e.Replica())
	}
	limits := []int{1, 3, k, k + 4, 100}
	bounded := func(what string) {
		t.Helper()
		if !testenv.Production() {
			return
		}
		rc, err := kv.OpenRedis(ctx, e.Cfg.RedisURL)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if n, err := rc.ZCard(ctx, e.Cfg.RedisNamespace+":{rank}:top").Result(); err != nil || n == 0 || n > k {
			t.Fatalf("%s: %d members in Redis (%v), K = %d", what, n, err, k)
		}
	}

	// Every swiper swipes every target, all swipers at once, half of them
	// through the other process.
	rng := rand.New(rand.NewPCG(7, 11))
	actions := make([][]string, len(swipers))
	for i := range actions {
		for range targets {
			a := "like"
			switch r := rng.IntN(20); {
			case r < 7:
				a = "dislike"
			case r < 10:
				a = "superlike"
			}
			actions[i] = append(actions[i], a)
		}
	}
	var wg sync.WaitGroup
	for i, s := range swipers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, tg := range targets {
				if r := soSwipe(envs[i%len(envs)], s, tg.ID, actions[i][j]); r.Status != 200 {
					t.Errorf("swipe: HTTP %d %s", r.Status, r.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ctRankCheck(t, envs, viewer, "after the swipes", limits...)
	bounded("after the swipes")
	all := ctRankTruth(t, e, 100)
	tie := false
	for i := 1; i < len(all); i++ {
		tie = tie || all[i].Score == all[i-1].Score
	}
	if len(all) < 2*k || !tie {
		t.Fatalf("the swipes gave %v: want more than 2K ranked users and a tie", all)
	}

	// The top three fall below the rest under dislikes of new users, at
	// once through both processes.
	fallers := ctRankTruth(t, e, 3)
	var dislikers []soUser
	for range 16 {
		dislikers = append(dislikers, soNewUser(t, e))
	}
	for i, d := range dislikers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, f := range fallers {
				if r := soSwipe(envs[i%len(envs)], d, f.UserID, "dislike"); r.Status != 200 {
					t.Errorf("dislike: HTTP %d %s", r.Status, r.Body)
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ctRankCheck(t, envs, viewer, "after the falls", limits...)
	bounded("after the falls")
	for _, en := range ctRankTruth(t, e, k) {
		for _, f := range fallers {
			if en.UserID == f.UserID {
				t.Fatalf("%d did not fall out of the top %d: %v", f.UserID, k, ctRankTruth(t, e, k))
			}
		}
	}

	// A superlike lifts the first user below the top K into it; rewound, it
	// falls back.
	lifter := soNewUser(t, e)
	soVIP(t, e, lifter, 3)
	below := ctRankTruth(t, e, k+1)[k]
	soExpect(t, soSwipe(envs[len(envs)-1], lifter, below.UserID, "superlike"), 200, 0)
	ctRankCheck(t, envs, viewer, "after the superlike", limits...)
	soExpect(t, soDelete(e, lifter, "/api/v1/swipes/latest"), 200, 0)
	ctRankCheck(t, envs, viewer, "after the rewind", limits...)

	// Redis lost its data: the list is refilled from the table.
	if testenv.Production() {
		rc, err := kv.OpenRedis(ctx, e.Cfg.RedisURL)
		if err != nil {
			t.Fatal(err)
		}
		p := e.Cfg.RedisNamespace + ":{rank}:"
		for _, key := range []string{p + "top", p + "meta", p + "marks"} {
			if err := rc.Del(ctx, key).Err(); err != nil {
				t.Fatal(err)
			}
		}
		rc.Close()
		soExpect(t, soSwipe(e, lifter, fallers[0].UserID, "like"), 200, 0) // while lost
		ctRankCheck(t, envs, viewer, "after Redis lost the list", limits...)
		bounded("after the refill")
	}
}

// TestCTRankEmptyIsAList checks that a rank without any positive score is
// an empty list, not null (the schema's array).
func TestCTRankEmptyIsAList(t *testing.T) {
	e := apptest.New(t)
	tok := e.Login("13700009999")
	r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/rank", Token: tok})
	if r.Status != 200 || string(r.Data) != "[]" {
		t.Fatalf("empty rank: %d %s, want 200 with data []", r.Status, r.Body)
	}
}
