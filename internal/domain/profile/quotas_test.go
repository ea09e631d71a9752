package profile_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// fakeQuotas is a QuotaReader whose statements read a snapshot taken when
// they start, and can be held running.
type fakeQuotas struct {
	mu      sync.Mutex
	likes   map[int64]int
	batches [][]int64
	started chan struct{}   // a token when a statement starts
	hold    chan struct{}   // statements wait for a token (nil: never)
	panicOn map[int]bool    // statement numbers (from 1) that panic
	errOn   map[int]error   // statement numbers that fail
	days    map[string]bool // days asked for
}

func newFake() *fakeQuotas {
	return &fakeQuotas{likes: map[int64]int{}, started: make(chan struct{}, 100), panicOn: map[int]bool{},
		errOn: map[int]error{}, days: map[string]bool{}}
}

func (f *fakeQuotas) set(id int64, likes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.likes[id] = likes
}

func (f *fakeQuotas) UsedTodayMany(_ context.Context, day string, ids []int64) (map[int64]store.QuotaUse, error) {
	f.mu.Lock()
	f.batches = append(f.batches, slices.Clone(ids))
	n := len(f.batches)
	f.days[day] = true
	snap := map[int64]store.QuotaUse{} // the statement's snapshot: taken as it starts
	for _, id := range ids {
		if l, ok := f.likes[id]; ok {
			snap[id] = store.QuotaUse{Likes: l, Rewinds: 1}
		}
	}
	hold, p, err := f.hold, f.panicOn[n], f.errOn[n]
	f.mu.Unlock()
	select {
	case f.started <- struct{}{}:
	default: // nobody is watching
	}
	if hold != nil {
		<-hold
	}
	if p {
		panic("boom")
	}
	if err != nil {
		return nil, err
	}
	return snap, nil
}

func day(time.Time) string { return "2026-12-07" }

// shared returns SharedQuotas over r, closed when the test ends.
func shared(t *testing.T, r profile.QuotaReader) *profile.SharedQuotas {
	q := profile.NewSharedQuotas(r, day)
	t.Cleanup(q.Close)
	return q
}

// A read asked for while a statement runs goes into the next statement,
// which therefore sees a write committed before the read was asked for;
// the reads queued meanwhile share that one statement.
func TestSharedQuotasExactAndShared(t *testing.T) {
	f := newFake()
	f.hold = make(chan struct{})
	q := shared(t, f)
	ctx := context.Background()
	f.set(1, 5)
	f.set(2, 7)
	type answer struct {
		id          int64
		likes, rews int
		err         error
	}
	answers := make(chan answer, 10)
	read := func(id int64) {
		l, r, err := q.UsedToday(ctx, id, time.Now())
		answers <- answer{id, l, r, err}
	}
	go read(1) // runs at once: a lone read does not wait for company
	<-f.started
	f.set(2, 8) // committed while statement 1 runs, before user 2's read is asked for
	var wg sync.WaitGroup
	for _, id := range []int64{2, 3, 4} {
		wg.Add(1)
		go func() { defer wg.Done(); read(id) }()
	}
	waitQueued(t, q, f, 3)
	f.hold <- struct{}{} // finish statement 1
	<-f.started          // statement 2 starts, for the three queued reads
	f.hold <- struct{}{}
	wg.Wait()
	got := map[int64]answer{}
	for range 4 {
		a := <-answers
		got[a.id] = a
	}
	want := map[int64]int{1: 5, 2: 8, 3: 0, 4: 0}
	for id, likes := range want {
		if a := got[id]; a.err != nil || a.likes != likes {
			t.Errorf("user %d: likes %d, err %v; want %d", id, a.likes, a.err, likes)
		}
	}
	if a := got[1]; a.rews != 1 {
		t.Errorf("user 1 rewinds %d, want 1", a.rews)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.batches) != 2 || len(f.batches[0]) != 1 || len(f.batches[1]) != 3 {
		t.Errorf("statements %v, want [[1] [2 3 4]] (any order in the second)", f.batches)
	}
	if !f.days["2026-12-07"] || len(f.days) != 1 {
		t.Errorf("days %v", f.days)
	}
}

// waitQueued waits until n reads wait for the next statement.
func waitQueued(t *testing.T, q *profile.SharedQuotas, f *fakeQuotas, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for profile.PendingQuotaReads(q) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d reads queued, want %d", profile.PendingQuotaReads(q), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A failing or panicking statement answers its reads with an error and
// leaves the next reads working.
func TestSharedQuotasFailures(t *testing.T) {
	f := newFake()
	f.errOn[1] = errors.New("database down")
	f.panicOn[2] = true
	q := shared(t, f)
	ctx := context.Background()
	if _, _, err := q.UsedToday(ctx, 1, time.Now()); err == nil || err.Error() != "database down" {
		t.Fatalf("err = %v, want the statement's", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the statement's panic did not reach its runner")
			}
		}()
		_, _, _ = q.UsedToday(ctx, 1, time.Now())
	}()
	f.set(1, 3)
	if l, _, err := q.UsedToday(ctx, 1, time.Now()); err != nil || l != 3 {
		t.Fatalf("after a panic: %d, %v", l, err)
	}
}

// Many concurrent readers all get their own user's usage, and the reads
// that queue while a statement runs share the next one.
func TestSharedQuotasConcurrent(t *testing.T) {
	f := newFake()
	for id := int64(1); id <= 50; id++ {
		f.set(id, int(id))
	}
	f.hold = make(chan struct{})
	q := shared(t, f)
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := int64(i%50 + 1)
			if l, _, err := q.UsedToday(context.Background(), id, time.Now()); err != nil || l != int(id) {
				t.Errorf("user %d: %d, %v", id, l, err)
			}
		}()
	}
	<-f.started
	f.mu.Lock()
	first := len(f.batches[0])
	f.mu.Unlock()
	waitQueued(t, q, f, 500-first)
	close(f.hold)
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.batches) != 2 {
		t.Errorf("500 reads in %d statements, want 2: the %d queued behind the first share one", len(f.batches), 500-first)
	}
}

// Against the database of the suite's path: the usage of each user and
// day, nothing for a user without a row.
func TestSharedQuotasStore(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	rows := []store.DailyQuota{{UserID: 1, Day: "2026-12-07", Likes: 4, Rewinds: 2},
		{UserID: 2, Day: "2026-12-07", Likes: 9}, {UserID: 1, Day: "2026-12-06", Likes: 100}}
	if _, err := storetest.DB(t, st).NewInsert().Model(&rows).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	q := shared(t, st)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := int64(i%3 + 1)
			l, r, err := q.UsedToday(ctx, id, time.Now())
			want := map[int64][2]int{1: {4, 2}, 2: {9, 0}, 3: {0, 0}}[id]
			if err != nil || l != want[0] || r != want[1] {
				t.Errorf("user %d: %d, %d, %v; want %v", id, l, r, err, want)
			}
		}()
	}
	wg.Wait()
	m, err := st.UsedTodayMany(ctx, "2026-12-07", nil)
	if err != nil || len(m) != 0 {
		t.Errorf("no ids: %v, %v", m, err)
	}
}

// openStore opens a migrated, empty database of the suite's path.
func openStore(t *testing.T) *store.Store { return storetest.Open(t) }
