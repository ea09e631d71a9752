package deck

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// fakeSource is a database of deck rows with a change stamp per row.
type fakeSource struct {
	mu     sync.Mutex
	rows   map[int64]store.DeckRow
	stamp  map[int64]int
	clock  int
	reads  int // DeckChanged calls
	checks int // DeckStampsNow calls
	rowsOf int // rows re-read by DeckRowsOf
	acts   int // DeckActiveSince calls
}

func newFake() *fakeSource {
	return &fakeSource{rows: map[int64]store.DeckRow{}, stamp: map[int64]int{}}
}

func stampStr(n int) string { return fmt.Sprintf("%020d", n) }

func (f *fakeSource) put(r store.DeckRow) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock++
	f.rows[r.ID] = r
	f.stamp[r.ID] = f.clock
}

// touch records activity as the store does: active_at moves, the row's
// stamp does not.
func (f *fakeSource) touch(id int64, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.rows[id]; ok && r.ActiveAt.Before(at) {
		r.ActiveAt = at
		f.rows[id] = r
	}
}

func (f *fakeSource) DeckActiveSince(_ context.Context, since time.Time) ([]store.DeckActive, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts++
	var out []store.DeckActive
	for id, r := range f.rows {
		if r.ActiveAt.After(since) {
			out = append(out, store.DeckActive{ID: id, ActiveAt: r.ActiveAt})
		}
	}
	return out, nil
}

func (f *fakeSource) del(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock++
	delete(f.rows, id)
	f.stamp[id] = f.clock // a tombstone: the id shows as changed, its row is gone
}

func (f *fakeSource) DeckRowsAfter(_ context.Context, after int64, n int) ([]store.DeckRow, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.DeckRow
	ids := make([]int64, 0, len(f.rows))
	for id := range f.rows {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids[:min(n, len(ids))] {
		out = append(out, f.rows[id])
	}
	if len(out) == 0 {
		return nil, 0, nil
	}
	return out, out[len(out)-1].ID, nil
}

func (f *fakeSource) DeckRowsOf(_ context.Context, ids []int64) ([]store.DeckRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.DeckRow
	for _, id := range ids {
		if r, ok := f.rows[id]; ok {
			out = append(out, r)
		}
	}
	f.rowsOf += len(out)
	return out, nil
}

func (f *fakeSource) DeckStampsNow(context.Context) (store.DeckStamps, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	return store.DeckStamps{Users: stampStr(f.clock)}, nil
}

func (f *fakeSource) DeckChanged(_ context.Context, since store.DeckStamps, _ time.Duration) ([]int64, store.DeckStamps, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	var ids []int64
	for id, st := range f.stamp {
		if stampStr(st) >= since.Users {
			ids = append(ids, id)
		}
	}
	return ids, store.DeckStamps{Users: stampStr(f.clock)}, nil
}

var testCities = []string{"北京", "上海", "广州", "深圳"}

var cityCentres = [][2]float64{{39.9, 116.4}, {31.2, 121.5}, {23.1, 113.3}, {22.5, 114.1}}

func randomRow(rng *rand.Rand, id int64, now time.Time) store.DeckRow {
	c := rng.IntN(len(testCities))
	g := []string{"male", "female"}[rng.IntN(2)]
	r := store.DeckRow{ID: id, Gender: g,
		Birthday: fmt.Sprintf("%04d-%02d-%02d", 1960+rng.IntN(45), 1+rng.IntN(12), 1+rng.IntN(28)),
		City:     testCities[c], ActiveAt: now.Add(-time.Duration(rng.IntN(20*24*60)) * time.Minute),
		DatingGender: []string{"male", "female", "any"}[rng.IntN(3)], DatingCity: testCities[rng.IntN(len(testCities))]}
	if rng.IntN(4) > 0 {
		la := int32((cityCentres[c][0] + rng.NormFloat64()*0.3) * 100)
		ln := int32((cityCentres[c][1] + rng.NormFloat64()*0.3) * 100)
		r.CellLat, r.CellLng = &la, &ln
	}
	r.MinDistance = rng.IntN(20)
	r.MaxDistance = r.MinDistance + rng.IntN(200)
	r.MinDatingAge = 18 + rng.IntN(30)
	r.MaxDatingAge = r.MinDatingAge + rng.IntN(40)
	return r
}

// queryFor builds the query of viewer v on day now (as internal/social does).
func queryFor(v store.DeckRow, now time.Time) Query {
	cut := func(years int) int32 {
		return int32((now.Year()-years)*10000 + int(now.Month())*100 + now.Day())
	}
	b := birthCode(v.Birthday)
	age := now.Year() - int(b/10000)
	if int(now.Month())*100+now.Day() < int(b%10000) {
		age--
	}
	q := Query{Viewer: v.ID, Gender: v.Gender, Age: age, DatingGender: v.DatingGender,
		BornAfter: cut(v.MaxDatingAge + 1), BornUpTo: cut(v.MinDatingAge), DatingCity: v.DatingCity,
		MinKM: v.MinDistance, MaxKM: v.MaxDistance, Mask: tagOf(v.ID * 7919)}
	if v.CellLat != nil {
		q.HasLoc, q.Lat, q.Lng = true, *v.CellLat, *v.CellLng
	}
	return q
}

// fits is the deck's filters as the API states them, on a candidate's
// plain fields: the reference the walk (Walker.Next, on compact fields) is
// checked against.
func fits(q *Query, id int64, gender string, born int32, city string, hasLoc bool, lat, lng int32,
	datingGender string, minAge, maxAge int) bool {
	if id == q.Viewer || (q.Skip != nil && q.Skip(id)) {
		return false
	}
	if gender != "male" && gender != "female" {
		return false
	}
	if q.DatingGender != "any" && q.DatingGender != gender {
		return false
	}
	if datingGender != "any" && datingGender != q.Gender {
		return false
	}
	if born <= q.BornAfter || born > q.BornUpTo || q.Age < minAge || q.Age > maxAge {
		return false
	}
	if q.HasLoc && hasLoc {
		d := profile.CellDistanceKM(q.Lat, q.Lng, lat, lng)
		return d >= q.MinKM && d <= q.MaxKM
	}
	return city == q.DatingCity
}

// reference is the brute-force deck: every row that fits, by band, then by
// tag^mask (then id).
func reference(rows map[int64]store.DeckRow, q Query, now time.Time) []int64 {
	type cand struct {
		id   int64
		band uint8
		key  uint32
	}
	var cs []cand
	for _, r := range rows {
		var lat, lng int32
		if r.CellLat != nil {
			lat, lng = *r.CellLat, *r.CellLng
		}
		if fits(&q, r.ID, r.Gender, birthCode(r.Birthday), r.City, r.CellLat != nil, lat, lng,
			r.DatingGender, r.MinDatingAge, r.MaxDatingAge) {
			cs = append(cs, cand{r.ID, bandOf(r.ActiveAt.Unix(), now.Unix()), tagOf(r.ID) ^ q.Mask})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].band != cs[j].band {
			return cs[i].band < cs[j].band
		}
		if cs[i].key != cs[j].key {
			return cs[i].key < cs[j].key
		}
		return cs[i].id < cs[j].id
	})
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.id
	}
	return out
}

// walkAll walks q to the end, in chunks of step.
func walkAll(ix *Index, q Query, step int) []int64 {
	w := ix.Walk(q)
	var out []int64
	for {
		n := len(out)
		out = w.Next(out, step)
		if len(out)-n < step {
			return out
		}
	}
}

func fixture(t testing.TB, n int, seed uint64) (*fakeSource, *Index, time.Time) {
	t.Helper()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(seed, 1))
	f := newFake()
	for i := 1; i <= n; i++ {
		f.put(randomRow(rng, int64(i), now))
	}
	ix := New(f, func() time.Time { return now })
	if err := ix.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f, ix, now
}

func TestWalkMatchesReference(t *testing.T) {
	f, ix, now := fixture(t, 3000, 1)
	checked := 0
	for id := int64(1); id <= 300; id++ {
		q := queryFor(f.rows[id], now)
		want := reference(f.rows, q, now)
		got := walkAll(ix, q, 1+int(id%7)*5)
		if !slices.Equal(got, want) {
			t.Fatalf("viewer %d: walk\n%v\nwant\n%v", id, got, want)
		}
		checked += len(got)
	}
	if checked < 1000 {
		t.Fatalf("only %d candidates checked: the fixture is too sparse", checked)
	}
}

func TestSkipAndSelf(t *testing.T) {
	f, ix, now := fixture(t, 2000, 2)
	for id := int64(1); id <= 50; id++ {
		q := queryFor(f.rows[id], now)
		all := walkAll(ix, q, 100)
		if slices.Contains(all, id) {
			t.Fatalf("viewer %d in own deck", id)
		}
		if len(all) < 2 {
			continue
		}
		skip := map[int64]bool{all[0]: true, all[len(all)-1]: true}
		q.Skip = func(x int64) bool { return skip[x] }
		got := walkAll(ix, q, 100)
		if !slices.Equal(got, all[1:len(all)-1]) {
			t.Fatalf("skip: %v vs %v", got, all)
		}
	}
}

func TestOrderPerViewerAndDay(t *testing.T) {
	f, ix, now := fixture(t, 3000, 3)
	q := queryFor(f.rows[1], now)
	a := walkAll(ix, q, 20)
	if len(a) < 20 {
		t.Fatalf("deck too small: %d", len(a))
	}
	if b := walkAll(ix, q, 7); !slices.Equal(a, b) {
		t.Fatal("same viewer and day, another order")
	}
	if slices.IsSorted(a) {
		t.Fatal("deck in id order")
	}
	q2 := q
	q2.Mask = tagOf(424242) // another viewer (or day) with the same filters
	b := walkAll(ix, q2, 20)
	if slices.Equal(a, b) {
		t.Fatal("two masks, same order")
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.Sort(sa)
	slices.Sort(sb)
	if !slices.Equal(sa, sb) {
		t.Fatal("two masks, different candidates")
	}
}

// state is everything observable: the live entries and the buckets.
func state(ix *Index) (map[int64]entry, map[bkey][]int64) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	es := map[int64]entry{}
	for _, e := range ix.entries {
		if e.live {
			e.city, e.dcity = 0, 0 // interning order differs between histories
			es[e.id] = e
		}
	}
	bs := map[bkey][]int64{}
	for k, b := range ix.buckets {
		if k.kind != kindTile {
			k.key = uint32(len(ix.names[k.key])) + 1000*uint32(ix.names[k.key][0]) // by name, not id
		}
		for i, p := range b.pos {
			if i > 0 && cmpMember(member{b.tags[i-1], b.pos[i-1]}, member{b.tags[i], p}) >= 0 {
				panic("bucket not sorted")
			}
			bs[k] = append(bs[k], ix.entries[p].id)
		}
		slices.Sort(bs[k])
	}
	return es, bs
}

func TestIncrementalEqualsRebuild(t *testing.T) {
	f, ix, now := fixture(t, 2000, 4)
	rng := rand.New(rand.NewPCG(9, 9))
	ctx := context.Background()
	next := int64(2001)
	for round := 0; round < 30; round++ {
		for range rng.IntN(80) {
			switch r := rng.IntN(10); {
			case r < 5: // changed profile or user row
				id := int64(1 + rng.IntN(int(next-1)))
				row := randomRow(rng, id, now)
				f.put(row)
			case r < 7: // active now: no stamp, read by RefreshActivity
				f.touch(int64(1+rng.IntN(int(next-1))), now)
			case r < 9: // registered
				f.put(randomRow(rng, next, now))
				next++
			default: // gone
				f.del(int64(1 + rng.IntN(int(next-1))))
			}
		}
		if err := ix.Fresh(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ix.RefreshActivity(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rebuilt := New(f, func() time.Time { return now })
	if err := rebuilt.Load(ctx); err != nil {
		t.Fatal(err)
	}
	e1, b1 := state(ix)
	e2, b2 := state(rebuilt)
	if len(e1) != len(e2) || len(e1) != len(f.rows) {
		t.Fatalf("entries: incremental %d, rebuilt %d, rows %d", len(e1), len(e2), len(f.rows))
	}
	for id, e := range e2 {
		if e1[id] != e {
			t.Fatalf("entry %d: incremental %+v, rebuilt %+v", id, e1[id], e)
		}
	}
	if len(b1) != len(b2) {
		t.Fatalf("buckets: %d vs %d", len(b1), len(b2))
	}
	for k, ids := range b2 {
		if !slices.Equal(b1[k], ids) {
			t.Fatalf("bucket %+v differs", k)
		}
	}
	for id := int64(1); id <= 100; id++ {
		if row, ok := f.rows[id]; ok {
			q := queryFor(row, now)
			if got, want := walkAll(ix, q, 25), reference(f.rows, q, now); !slices.Equal(got, want) {
				t.Fatalf("viewer %d after updates: %v want %v", id, got, want)
			}
		}
	}
}

func TestRebandWithTime(t *testing.T) {
	f, ix, now := fixture(t, 2000, 5)
	later := now.Add(3*24*time.Hour + time.Hour)
	ix.now = func() time.Time { return later }
	for id := int64(1); id <= 100; id++ {
		q := queryFor(f.rows[id], later)
		if got, want := walkAll(ix, q, 30), reference(f.rows, q, later); !slices.Equal(got, want) {
			t.Fatalf("viewer %d, 3 days later: %v want %v", id, got, want)
		}
	}
}

func TestFreshCoalesces(t *testing.T) {
	f, ix, now := fixture(t, 500, 6)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(6, 6))
	qs := make([]Query, 50)
	for i := range qs {
		qs[i] = queryFor(f.rows[int64(1+i)], now)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if err := ix.Fresh(ctx); err != nil {
					t.Error(err)
					return
				}
				ix.Walk(qs[i]).Next(nil, 20)
			}
		}()
	}
	for i := 0; i < 200; i++ {
		f.mu.Lock()
		id := int64(1 + rng.IntN(500))
		f.mu.Unlock()
		f.put(randomRow(rand.New(rand.NewPCG(uint64(i), 3)), id, now))
	}
	wg.Wait()
	// A write committed before Fresh is always seen.
	row := randomRow(rng, 77, now)
	row.City = "成都"
	f.put(row)
	if err := ix.Fresh(ctx); err != nil {
		t.Fatal(err)
	}
	ix.mu.RLock()
	city := ix.names[ix.entries[ix.byID[77]].city]
	ix.mu.RUnlock()
	if self, ok := ix.SelfOf(77); !ok || self.Gender != row.Gender || city != "成都" {
		t.Fatalf("row 77 not fresh: %+v", self)
	}
	if f.checks >= 8*50+1 {
		t.Logf("no coalescing happened (%d checks); fine on one CPU", f.checks)
	}
}

func TestTilesCoverDistance(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for i := 0; i < 2000; i++ {
		lat := int32(rng.IntN(17000) - 8500)
		lng := int32(rng.IntN(36000) - 18000)
		maxKM := rng.IntN(501)
		tiles := map[uint32]bool{}
		for _, t := range tilesAround(lat, lng, maxKM) {
			tiles[t] = true
		}
		for j := 0; j < 50; j++ {
			// a random point within ~maxKM
			dLat := int32(rng.NormFloat64() * float64(maxKM) / 111 * 100 / 2)
			dLng := int32(rng.NormFloat64() * float64(maxKM) / 111 * 100 / 2)
			la, ln := max(min(lat+dLat, 9000), -9000), lng+dLng
			if ln > 18000 || ln < -18000 {
				continue
			}
			if d := profile.CellDistanceKM(lat, lng, la, ln); d <= maxKM && !tiles[tileOf(la, ln)] {
				t.Fatalf("(%d,%d) max %d km: tile of (%d,%d) at %d km missing", lat, lng, maxKM, la, ln, d)
			}
		}
	}
}

func TestDateText(t *testing.T) {
	for v, want := range map[int32]string{19950304: "1995-03-04", 20001231: "2000-12-31", 0: "0000-00-00", 10101: "0001-01-01"} {
		if got := dateText(v); got != want {
			t.Errorf("dateText(%d) = %q, want %q", v, got, want)
		}
	}
}
