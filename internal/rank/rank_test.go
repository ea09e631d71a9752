package rank_test

import (
	"context"
	"sync"
	"testing"

	"github.com/swiper-social/swiper/internal/kv"
	"github.com/swiper-social/swiper/internal/rank"
	"github.com/swiper-social/swiper/internal/testenv"
)

// source is a fake scores table.
type source struct {
	mu     sync.Mutex
	scores map[int64]int64
}

func (s *source) set(id, score int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scores[id] = score
}

func (s *source) del(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.scores, id)
}

func (s *source) all() []rank.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	es := make([]rank.Entry, 0, len(s.scores))
	for id, sc := range s.scores {
		es = append(es, rank.Entry{UserID: id, Score: sc})
	}
	return es
}

// top is the table's TopFunc: positive scores only.
func (s *source) top(_ context.Context, n int) ([]rank.Entry, error) {
	var es []rank.Entry
	for _, e := range s.all() {
		if e.Score > 0 {
			es = append(es, e)
		}
	}
	rank.Sort(es)
	return es[:min(n, len(es))], nil
}

func (s *source) scan(_ context.Context, after int64, n int) ([]rank.Entry, error) {
	var out []rank.Entry
	for _, e := range s.all() {
		if e.UserID > after {
			out = append(out, e)
		}
	}
	// by id
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].UserID < out[i].UserID {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out[:min(n, len(out))], nil
}

func TestTableContract(t *testing.T) {
	contract(t, func(t *testing.T, src *source) (rank.Board, func()) {
		return rank.NewTable(src.top), nil
	})
}

func TestRedisContract(t *testing.T) {
	url := testenv.RedisURL(t)
	contract(t, func(t *testing.T, src *source) (rank.Board, func()) {
		rc, err := kv.OpenRedis(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		prefix := testenv.RandomPrefix()
		t.Cleanup(func() {
			rc.Del(context.Background(), prefix+"rank", prefix+"rank:ready")
			rc.Close()
		})
		return rank.NewRedis(rc, prefix, src.scan), func() {
			// Redis lost its data: the board must rebuild from the table.
			rc.Del(context.Background(), prefix+"rank", prefix+"rank:ready")
		}
	})
}

// contract is what every Board must do; lose (optional) drops the board's
// own state.
func contract(t *testing.T, newBoard func(*testing.T, *source) (rank.Board, func())) {
	ctx := context.Background()
	src := &source{scores: map[int64]int64{1: 10, 2: 10, 3: 5, 4: -5, 5: 0}}
	b, lose := newBoard(t, src)
	expect := func(n int, want ...rank.Entry) {
		t.Helper()
		got, err := b.Top(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("Top(%d) = %v, want %v", n, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("Top(%d) = %v, want %v", n, got, want)
			}
		}
	}
	expect(3, rank.Entry{1, 10}, rank.Entry{2, 10}, rank.Entry{3, 5})
	// Only positive scores are ranked (API.md GET /rank).
	expect(10, rank.Entry{1, 10}, rank.Entry{2, 10}, rank.Entry{3, 5})

	// A committed change: the table first, then the board is told.
	apply := func(id, delta int64, gone bool) {
		t.Helper()
		src.mu.Lock()
		src.scores[id] += delta
		src.mu.Unlock()
		if gone {
			src.del(id)
		}
		if err := b.Applied(ctx, id, delta, gone); err != nil {
			t.Fatal(err)
		}
	}
	apply(6, 12, false)
	apply(3, 5, false)
	expect(4, rank.Entry{6, 12}, rank.Entry{1, 10}, rank.Entry{2, 10}, rank.Entry{3, 10})
	apply(4, 5, true) // its only swipe rewound: no score any more
	expect(10, rank.Entry{6, 12}, rank.Entry{1, 10}, rank.Entry{2, 10}, rank.Entry{3, 10})

	// Concurrent changes converge.
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := int64(5)
			if i%2 == 1 {
				d = -5
			}
			src.mu.Lock()
			src.scores[7] += d
			src.mu.Unlock()
			if err := b.Applied(ctx, 7, d, false); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	expect(10, rank.Entry{6, 12}, rank.Entry{1, 10}, rank.Entry{2, 10}, rank.Entry{3, 10})

	// Many changes at once (a batch of swipes).
	src.mu.Lock()
	src.scores[6] += 5
	src.scores[8] += 9
	src.scores[5] -= 5
	src.mu.Unlock()
	if err := b.Added(ctx, []rank.Entry{{6, 5}, {8, 9}, {5, -5}}); err != nil {
		t.Fatal(err)
	}
	expect(10, rank.Entry{6, 17}, rank.Entry{1, 10}, rank.Entry{2, 10}, rank.Entry{3, 10}, rank.Entry{8, 9})
	// A user who climbs back above 0 shows again.
	src.mu.Lock()
	src.scores[4] = 1
	src.mu.Unlock()
	if err := b.Applied(ctx, 4, 1, false); err != nil {
		t.Fatal(err)
	}
	expect(10, rank.Entry{6, 17}, rank.Entry{1, 10}, rank.Entry{2, 10}, rank.Entry{3, 10}, rank.Entry{8, 9}, rank.Entry{4, 1})
	src.mu.Lock()
	src.scores[4] = 0
	src.mu.Unlock()
	if err := b.Applied(ctx, 4, -1, false); err != nil {
		t.Fatal(err)
	}
	if err := b.Added(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// A large tie: the lowest ids win, whatever the window.
	for id := int64(100); id < 160; id++ {
		src.set(id, 3)
	}
	if lose != nil {
		lose()
	}
	got, err := b.Top(ctx, 12)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 12 {
		t.Fatalf("Top(12) = %v", got)
	}
	want := []rank.Entry{{6, 17}, {1, 10}, {2, 10}, {3, 10}, {8, 9}, {100, 3}, {101, 3}, {102, 3}, {103, 3}, {104, 3}, {105, 3}, {106, 3}}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Top(12) = %v, want %v", got, want)
		}
	}
}
