package rank_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/rank"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// source is a fake scores table. afterTop and afterScores, when set, run
// once after a read took its snapshot and before it returns: a commit that
// lands between the two (the races of the package doc).
type source struct {
	mu          sync.Mutex
	scores      map[int64]int64
	afterTop    func()
	afterScores func()
	jitter      bool // a third of the reads of scores return after 1-4 ms
	tops        int  // table reads of the top
}

func newSource() *source { return &source{scores: map[int64]int64{}} }

func (s *source) set(id, score int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scores[id] = score
}

func (s *source) add(id, delta int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scores[id] += delta
}

func (s *source) del(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.scores, id)
}

func (s *source) topReads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tops
}

// truth is the table's rank: positive scores, highest first, lower id.
func (s *source) truth(n int) []rank.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var es []rank.Entry
	for id, sc := range s.scores {
		if sc > 0 {
			es = append(es, rank.Entry{UserID: id, Score: sc})
		}
	}
	rank.Sort(es)
	return es[:min(n, len(es))]
}

func (s *source) top(_ context.Context, n int) ([]rank.Entry, error) {
	es := s.truth(n)
	s.mu.Lock()
	s.tops++
	hook := s.afterTop
	s.afterTop = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return es, nil
}

func (s *source) scoresOf(_ context.Context, ids []int64) ([]rank.Entry, error) {
	s.mu.Lock()
	var es []rank.Entry
	for _, id := range ids {
		if sc, ok := s.scores[id]; ok && sc > 0 {
			es = append(es, rank.Entry{UserID: id, Score: sc})
		}
	}
	hook := s.afterScores
	s.afterScores = nil
	jitter := s.jitter
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	if jitter && rand.IntN(3) == 0 {
		time.Sleep(time.Duration(1000+rand.IntN(3000)) * time.Microsecond)
	}
	return es, nil
}

// rig is one board under test; replica is a second process's board on the
// same state, lose drops the board's own state (Redis lost its data), size
// counts the members Redis holds (-1 for boards without one).
type rig struct {
	b       rank.Board
	replica func() rank.Board
	lose    func()
	size    func() int64
	memory  func(key string) int64 // MEMORY USAGE of "top", "meta" or "marks"
	members func() map[int64]int64 // what Redis holds (nil for boards without)
}

type factory func(t *testing.T, src *source, o rank.Options) rig

func tableRig(_ *testing.T, src *source, _ rank.Options) rig {
	b := rank.NewTable(src.top)
	return rig{b: b, replica: func() rank.Board { return rank.NewTable(src.top) }, lose: func() {}, size: func() int64 { return -1 },
		members: func() map[int64]int64 { return nil }}
}

func redisRig(t *testing.T, src *source, o rank.Options) rig {
	url := testenv.RedisURL(t)
	open := func() redis.UniversalClient {
		rc, err := kv.OpenRedis(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Close() })
		return rc
	}
	rc := open()
	prefix := testenv.RandomPrefix()
	keys := []string{prefix + "{rank}:top", prefix + "{rank}:meta", prefix + "{rank}:marks"}
	t.Cleanup(func() { rc.Del(context.Background(), keys...) })
	return rig{
		b: rank.NewRedis(rc, prefix, src.top, src.scoresOf, o),
		replica: func() rank.Board {
			return rank.NewRedis(open(), prefix, src.top, src.scoresOf, o)
		},
		lose: func() { rc.Del(context.Background(), keys...) },
		size: func() int64 { return rc.ZCard(context.Background(), keys[0]).Val() },
		members: func() map[int64]int64 {
			zs, err := rc.ZRangeWithScores(context.Background(), keys[0], 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			m := map[int64]int64{}
			for _, z := range zs {
				id, _ := strconv.ParseInt(z.Member.(string), 10, 64)
				m[id] = -int64(z.Score)
			}
			return m
		},
		memory: func(key string) int64 {
			n, _ := rc.MemoryUsage(context.Background(), prefix+"{rank}:"+key, 0).Result()
			return n
		},
	}
}

func TestTableContract(t *testing.T) { contract(t, tableRig) }

func TestRedisContract(t *testing.T) { contract(t, redisRig) }

// contract is what every Board must do.
func contract(t *testing.T, newRig factory) {
	t.Run("basics", func(t *testing.T) { basics(t, newRig) })
	t.Run("bounded", func(t *testing.T) { bounded(t, newRig) })
	t.Run("falls", func(t *testing.T) { falls(t, newRig) })
	t.Run("ties", func(t *testing.T) { ties(t, newRig) })
	t.Run("lost", func(t *testing.T) { lost(t, newRig) })
	t.Run("remove", func(t *testing.T) { remove(t, newRig) })
	t.Run("refillRace", func(t *testing.T) { refillRace(t, newRig) })
	t.Run("readRace", func(t *testing.T) { readRace(t, newRig) })
	t.Run("busy", func(t *testing.T) { busy(t, newRig) })
	t.Run("concurrent", func(t *testing.T) { concurrent(t, newRig) })
	t.Run("heals", func(t *testing.T) { heals(t, newRig) })
}

func expectTop(t *testing.T, b rank.Board, src *source, n int) {
	t.Helper()
	got, err := b.Top(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if want := src.truth(n); !slices.Equal(got, want) {
		t.Fatalf("Top(%d) =\n%v\nwant\n%v", n, got, want)
	}
}

// commit changes the table, then tells the board.
func commit(t *testing.T, b rank.Board, src *source, id, delta int64) {
	t.Helper()
	src.add(id, delta)
	if err := b.Changed(context.Background(), []int64{id}); err != nil {
		t.Fatal(err)
	}
}

func basics(t *testing.T, newRig factory) {
	ctx := context.Background()
	src := newSource()
	for id, sc := range map[int64]int64{1: 10, 2: 10, 3: 5, 4: -5, 5: 0} {
		src.set(id, sc)
	}
	r := newRig(t, src, rank.Options{})
	b := r.b
	want := func(n int, es ...rank.Entry) {
		t.Helper()
		got, err := b.Top(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, es) {
			t.Fatalf("Top(%d) = %v, want %v", n, got, es)
		}
	}
	want(0)
	want(2, rank.Entry{UserID: 1, Score: 10}, rank.Entry{UserID: 2, Score: 10})
	// Only positive scores are ranked (API.md GET /rank), ties by lower id.
	want(10, rank.Entry{UserID: 1, Score: 10}, rank.Entry{UserID: 2, Score: 10}, rank.Entry{UserID: 3, Score: 5})
	commit(t, b, src, 6, 12)
	commit(t, b, src, 3, 5)
	want(4, rank.Entry{UserID: 6, Score: 12}, rank.Entry{UserID: 1, Score: 10}, rank.Entry{UserID: 2, Score: 10}, rank.Entry{UserID: 3, Score: 10})
	// Climbing above 0 ranks; falling to 0 or below leaves the rank.
	commit(t, b, src, 4, 6)
	commit(t, b, src, 1, -10)
	want(10, rank.Entry{UserID: 6, Score: 12}, rank.Entry{UserID: 2, Score: 10}, rank.Entry{UserID: 3, Score: 10}, rank.Entry{UserID: 4, Score: 1})
	// A user with no score row any more (its only swipe rewound).
	src.del(4)
	if err := b.Changed(ctx, []int64{4, 4}); err != nil {
		t.Fatal(err)
	}
	// Many changes at once (a batch of swipes), one user twice.
	src.add(6, 5)
	src.add(8, 9)
	src.add(5, -5)
	if err := b.Changed(ctx, []int64{6, 8, 5, 6}); err != nil {
		t.Fatal(err)
	}
	if err := b.Changed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want(10, rank.Entry{UserID: 6, Score: 17}, rank.Entry{UserID: 2, Score: 10}, rank.Entry{UserID: 3, Score: 10}, rank.Entry{UserID: 8, Score: 9})
	// Fewer ranked users than K: the list is complete, Redis answers every
	// read after the first build without the table.
	if r.size() >= 0 && src.topReads() != 1 {
		t.Fatalf("%d table reads, want 1", src.topReads())
	}
}

// Redis never holds more than K members, however many users rank; the top
// stays the table's as users are added in any order.
func bounded(t *testing.T, newRig factory) {
	src := newSource()
	const k = 25
	r := newRig(t, src, rank.Options{Size: k})
	rng := rand.New(rand.NewPCG(1, 2))
	expectTop(t, r.b, src, 10) // empty: complete list
	for i := range 600 {
		id := int64(rng.IntN(400) + 1)
		commit(t, r.b, src, id, int64(rng.IntN(40)-8))
		if i%20 == 0 {
			expectTop(t, r.b, src, 1+rng.IntN(k))
		}
		if n := r.size(); n > k {
			t.Fatalf("%d members in Redis after %d changes, K = %d", n, i+1, k)
		}
	}
	expectTop(t, r.b, src, k)
	expectTop(t, r.b, src, 3*k) // more than K: the table answers
	if n := r.size(); n > k || (n != -1 && n < k) {
		t.Fatalf("%d members in Redis, want %d", n, k)
	}
}

// A top user disliked many times falls out; the next from the table comes
// in, also once every member the list held has fallen.
func falls(t *testing.T, newRig factory) {
	src := newSource()
	const k = 8
	for id := int64(1); id <= 50; id++ {
		src.set(id, 10000-id) // 1 is first, 50 last
	}
	r := newRig(t, src, rank.Options{Size: k})
	expectTop(t, r.b, src, 5)
	before := src.topReads()
	// Falls inside the list: answered without the table.
	commit(t, r.b, src, 1, -3) // 9996 < 9998 (user 2)
	expectTop(t, r.b, src, 5)
	if r.size() >= 0 && src.topReads() != before {
		t.Fatalf("a fall inside the list read the table")
	}
	// Two fall below users the list does not hold (still ranked), then one
	// climbs in from outside: the list is trimmed, the users it does not
	// hold still come before the fallen.
	commit(t, r.b, src, 1, -1000)
	commit(t, r.b, src, 2, -1000)
	commit(t, r.b, src, 45, 20000)
	expectTop(t, r.b, src, k)
	// The top five fall far below everyone, one dislike at a time.
	for id := int64(3); id <= 7; id++ {
		for range 200 {
			commit(t, r.b, src, id, -5)
		}
		expectTop(t, r.b, src, 5)
	}
	// Everyone the list could hold falls below the rest, then one
	// climbs back.
	for id := int64(6); id <= 30; id++ {
		commit(t, r.b, src, id, -2000)
		expectTop(t, r.b, src, k)
	}
	commit(t, r.b, src, 7, 3000)
	expectTop(t, r.b, src, k)
	if n := r.size(); n > k {
		t.Fatalf("%d members, K = %d", n, k)
	}
}

// Ties at the boundary: the lowest ids win, whatever the list held.
func ties(t *testing.T, newRig factory) {
	src := newSource()
	const k = 10
	for id := int64(100); id < 160; id++ {
		src.set(id, 3)
	}
	r := newRig(t, src, rank.Options{Size: k})
	expectTop(t, r.b, src, k)
	// A lower id ties in: it comes first among the 3s.
	commit(t, r.b, src, 50, 3)
	expectTop(t, r.b, src, k)
	// A member falls and comes back to the tie: back at its place.
	commit(t, r.b, src, 101, -1)
	expectTop(t, r.b, src, k)
	commit(t, r.b, src, 101, 1)
	expectTop(t, r.b, src, k)
	// Members at the boundary fall out of the tie: the next ids (not in
	// Redis) take their place.
	for id := int64(100); id < 106; id++ {
		commit(t, r.b, src, id, -1)
	}
	expectTop(t, r.b, src, k)
	// One above the tie.
	commit(t, r.b, src, 159, 1)
	expectTop(t, r.b, src, k)
}

// Redis lost its data: the board refills from the table; changes while it
// was lost count.
func lost(t *testing.T, newRig factory) {
	src := newSource()
	for id := int64(1); id <= 30; id++ {
		src.set(id, id%7+1)
	}
	r := newRig(t, src, rank.Options{Size: 10})
	expectTop(t, r.b, src, 10)
	r.lose()
	commit(t, r.b, src, 30, 50)  // not in the list before
	commit(t, r.b, src, 6, -100) // was first
	expectTop(t, r.b, src, 10)
	r.lose()
	expectTop(t, r.b, src, 1)
	commit(t, r.b, src, 13, 20)
	expectTop(t, r.b, src, 10)
}

// Remove drops a user whom the table no longer ranks (deleted, banned).
func remove(t *testing.T, newRig factory) {
	src := newSource()
	for id := int64(1); id <= 20; id++ {
		src.set(id, 100-id)
	}
	r := newRig(t, src, rank.Options{Size: 5})
	expectTop(t, r.b, src, 5)
	for _, id := range []int64{1, 3, 18} {
		src.del(id)
		if err := r.b.Remove(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		expectTop(t, r.b, src, 5)
	}
}

// A refill races a change: its table read is taken before a commit whose
// change reaches Redis before the refill swaps. The newer score stays.
func refillRace(t *testing.T, newRig factory) {
	src := newSource()
	for id := int64(1); id <= 20; id++ {
		src.set(id, 100+id)
	}
	r := newRig(t, src, rank.Options{Size: 6})
	other := r.replica()
	expectTop(t, r.b, src, 6)
	// Members fall until the next read must refill.
	for id := int64(20); id >= 16; id-- {
		commit(t, r.b, src, id, -150)
	}
	src.mu.Lock()
	src.afterTop = func() {
		commit(t, other, src, 3, 500)   // climbs from outside the list
		commit(t, other, src, 15, -200) // falls
	}
	src.mu.Unlock()
	// This read may answer either side of the commits; the next must not.
	if _, err := r.b.Top(context.Background(), 6); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	refilled := src.afterTop == nil
	src.mu.Unlock()
	if !refilled {
		t.Fatal("no refill")
	}
	expectTop(t, r.b, src, 6)
	expectTop(t, other, src, 6)
}

// A change's read races a newer commit of the same user whose change is
// placed first: the older read must not overwrite it.
func readRace(t *testing.T, newRig factory) {
	src := newSource()
	for id := int64(1); id <= 10; id++ {
		src.set(id, 10*id)
	}
	r := newRig(t, src, rank.Options{Size: 4})
	other := r.replica()
	expectTop(t, r.b, src, 4)
	src.add(2, 200) // 220: first
	src.mu.Lock()
	src.afterScores = func() { commit(t, other, src, 2, -215) } // 5: out
	src.mu.Unlock()
	if err := r.b.Changed(context.Background(), []int64{2}); err != nil {
		t.Fatal(err)
	}
	expectTop(t, r.b, src, 4)
	// And the other way: a member's stale read of a fall.
	src.add(9, -85) // 5
	src.mu.Lock()
	src.afterScores = func() { commit(t, other, src, 9, 500) }
	src.mu.Unlock()
	if err := r.b.Changed(context.Background(), []int64{9}); err != nil {
		t.Fatal(err)
	}
	expectTop(t, r.b, src, 4)
}

// More changes during a refill than the board keeps track of (a tiny
// window): the refill gives up, Top still answers the table's rank.
func busy(t *testing.T, newRig factory) {
	src := newSource()
	for id := int64(1); id <= 30; id++ {
		src.set(id, id)
	}
	r := newRig(t, src, rank.Options{Size: 5, Window: 2})
	other := r.replica()
	expectTop(t, r.b, src, 5)
	for id := int64(30); id >= 26; id-- {
		commit(t, r.b, src, id, -100)
	}
	var hook func()
	n := 0
	hook = func() { // every refill's read sees more commits than the window
		for id := int64(22); id <= 25; id++ {
			commit(t, other, src, id, -10)
		}
		if n++; n < 5 {
			src.mu.Lock()
			src.afterTop = hook
			src.mu.Unlock()
		}
	}
	src.mu.Lock()
	src.afterTop = hook
	src.mu.Unlock()
	if _, err := r.b.Top(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	src.mu.Lock()
	src.afterTop = nil
	src.mu.Unlock()
	expectTop(t, r.b, src, 3)
	expectTop(t, other, src, 3)
}

// Two processes change scores and read the top at once (reads refill as
// members fall); once everything is told, both answer the table's rank.
func concurrent(t *testing.T, newRig factory) {
	src := newSource()
	const k = 12
	const users = 20 // few: changes of one user overlap
	for id := int64(1); id <= users; id++ {
		src.set(id, 100+id%9)
	}
	src.jitter = true // reads overtaken by later commits
	r := newRig(t, src, rank.Options{Size: k})
	boards := []rank.Board{r.b, r.replica()}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			b := boards[w%2]
			for range 150 {
				var ids []int64
				for range 1 + rng.IntN(4) {
					id := int64(rng.IntN(users) + 1)
					src.add(id, int64(rng.IntN(21)-10))
					ids = append(ids, id)
				}
				if err := b.Changed(context.Background(), ids); err != nil {
					t.Error(err)
					return
				}
				if rng.IntN(4) == 0 {
					if _, err := b.Top(context.Background(), 1+rng.IntN(k)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	// Every member holds its user's exact score: no read overtaken by a
	// later commit was placed last.
	src.mu.Lock()
	for id, sc := range r.members() {
		if src.scores[id] != sc {
			t.Errorf("user %d: %d in Redis, %d in the table", id, sc, src.scores[id])
		}
	}
	src.mu.Unlock()
	for _, b := range boards {
		expectTop(t, b, src, k)
	}
	if n := r.size(); n > k {
		t.Fatalf("%d members, K = %d", n, k)
	}
}

// A change never told (a process died between its commit and Redis) shows
// once the list is older than MaxAge.
func heals(t *testing.T, newRig factory) {
	src := newSource()
	for id := int64(1); id <= 20; id++ {
		src.set(id, id)
	}
	r := newRig(t, src, rank.Options{Size: 5, MaxAge: time.Millisecond})
	expectTop(t, r.b, src, 5)
	src.add(3, 100) // not told
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := r.b.Top(context.Background(), 5)
		if err != nil {
			t.Fatal(err)
		}
		if want := src.truth(5); slices.Equal(got, want) {
			return
		} else if time.Now().After(deadline) {
			t.Fatalf("Top(5) = %v, want %v", got, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The memory the board takes in Redis with K members, whatever the number
// of users; compared (logged) with the unbounded sorted set of every user.
func TestRedisMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("fills Redis")
	}
	src := newSource()
	const users = 20000
	for id := int64(1); id <= users; id++ {
		src.set(id, int64(id*7919%5000)+1)
	}
	r := redisRig(t, src, rank.Options{})
	expectTop(t, r.b, src, 100)
	// Every user changes once more (the marks window fills too).
	ids := make([]int64, 0, 200)
	for id := int64(1); id <= users; id++ {
		src.add(id, 5)
		if ids = append(ids, id); len(ids) == cap(ids) {
			if err := r.b.Changed(context.Background(), ids); err != nil {
				t.Fatal(err)
			}
			ids = ids[:0]
		}
	}
	expectTop(t, r.b, src, 100)
	if n := r.size(); n != rank.DefaultSize {
		t.Fatalf("%d members, want %d", n, rank.DefaultSize)
	}
	top, meta, marks := r.memory("top"), r.memory("meta"), r.memory("marks")
	if top <= 0 || top > 200_000 || marks > 2_000_000 {
		t.Fatalf("MEMORY USAGE: list %d B, marks %d B", top, marks)
	}

	// The old design: every user in one sorted set (sampled on a set of
	// 100k members).
	rc, err := kv.OpenRedis(context.Background(), testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	key := testenv.RandomPrefix() + "unbounded"
	defer rc.Del(context.Background(), key)
	const n = 100_000
	pipe := rc.Pipeline()
	for from := 1; from <= n; from += 1000 {
		zs := make([]redis.Z, 0, 1000)
		for id := from; id < from+1000; id++ {
			zs = append(zs, redis.Z{Score: float64(id * 7919 % 5000), Member: fmt.Sprintf("%019d", id)})
		}
		pipe.ZAdd(context.Background(), key, zs...)
	}
	if _, err := pipe.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	all, err := rc.MemoryUsage(context.Background(), key, 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	per := float64(all) / n
	t.Logf("bounded list: %d members, %d B (%.0f B/member), meta %d B, marks (window %d) %d B; "+
		"unbounded set: %.0f B/member → %.0f MB at 1M users, %.0f MB at 10M",
		rank.DefaultSize, top, float64(top)/rank.DefaultSize, meta, rank.DefaultWindow, marks, per, per, per*10)
}

// The first build drops the unbounded sorted set of earlier versions
// (prefix+"rank", every user with a score) and its marker.
func TestRedisDropsTheUnboundedSet(t *testing.T) {
	ctx := context.Background()
	rc, err := kv.OpenRedis(ctx, testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	prefix := testenv.RandomPrefix()
	keys := []string{prefix + "rank", prefix + "rank:ready", prefix + "{rank}:top", prefix + "{rank}:meta", prefix + "{rank}:marks"}
	defer func() {
		for _, k := range keys {
			rc.Del(ctx, k)
		}
	}()
	if err := rc.ZAdd(ctx, keys[0], redis.Z{Score: 5, Member: "0000000000000000001"}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rc.Set(ctx, keys[1], "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	src := newSource()
	src.set(1, 5)
	b := rank.NewRedis(rc, prefix, src.top, src.scoresOf, rank.Options{})
	if err := b.EnsureReady(ctx); err != nil {
		t.Fatal(err)
	}
	expectTop(t, b, src, 10)
	for _, k := range keys[:2] {
		if n, err := rc.Exists(ctx, k).Result(); err != nil || n != 0 {
			t.Errorf("%s still there (%d, %v)", k, n, err)
		}
	}
}
