package deck

import (
	"container/heap"
	"math"
	"sort"

	"github.com/swiper-social/swiper/internal/domain/profile"
)

// Query is one viewer's deck filters (API.md §3 Recommendations).
type Query struct {
	Viewer       int64
	Gender       string // the viewer's: candidates must want it
	Age          int    // the viewer's age today: within the candidates' ranges
	DatingGender string // male, female or any
	BornAfter    int32  // YYYYMMDD: candidate birthday > BornAfter (age <= max)
	BornUpTo     int32  // YYYYMMDD: candidate birthday <= BornUpTo (age >= min)
	DatingCity   string
	HasLoc       bool // the viewer has a location
	Lat, Lng     int32
	MinKM, MaxKM int
	Mask         uint32              // per viewer and day: the shuffle
	Skip         func(id int64) bool // already shown (superlikers)
}

// iter walks one bucket in increasing order of tag^mask: the bucket is
// sorted by tag, so the order is a depth-first walk of the binary trie of
// the tags that visits the 1-side first wherever the mask has a 1.
type iter struct {
	b     *bucket
	mask  uint32
	stack []seg
	ready []int32 // positions in the bucket, next first
	cur   int32   // position in b of the current member, -1 when done
	key   uint32
}

type seg struct {
	lo, hi int32
	bit    int8
}

func newIter(b *bucket, mask uint32) *iter {
	it := &iter{b: b, mask: mask, stack: []seg{{0, int32(len(b.tags)), 31}}}
	it.advance()
	return it
}

func (it *iter) advance() {
	for len(it.ready) == 0 {
		if len(it.stack) == 0 {
			it.cur = -1
			return
		}
		s := it.stack[len(it.stack)-1]
		it.stack = it.stack[:len(it.stack)-1]
		if s.hi-s.lo <= 16 || s.bit < 0 {
			for i := s.lo; i < s.hi; i++ {
				it.ready = append(it.ready, i)
			}
			tags, m := it.b.tags, it.mask
			sort.SliceStable(it.ready, func(i, j int) bool {
				return tags[it.ready[i]]^m < tags[it.ready[j]]^m
			})
			// ready is consumed from the end
			for i, j := 0, len(it.ready)-1; i < j; i, j = i+1, j-1 {
				it.ready[i], it.ready[j] = it.ready[j], it.ready[i]
			}
			continue
		}
		bit := uint32(1) << uint(s.bit)
		tags := it.b.tags
		mid := s.lo + int32(sort.Search(int(s.hi-s.lo), func(i int) bool { return tags[s.lo+int32(i)]&bit != 0 }))
		zero, one := seg{s.lo, mid, s.bit - 1}, seg{mid, s.hi, s.bit - 1}
		first, second := zero, one
		if it.mask&bit != 0 {
			first, second = one, zero
		}
		if second.hi > second.lo {
			it.stack = append(it.stack, second)
		}
		if first.hi > first.lo {
			it.stack = append(it.stack, first)
		}
	}
	it.cur = it.ready[len(it.ready)-1]
	it.ready = it.ready[:len(it.ready)-1]
	it.key = it.b.tags[it.cur] ^ it.mask
}

// merge is a min-heap of iterators by (key, entry position).
type merge []*iter

func (m merge) Len() int { return len(m) }
func (m merge) Less(i, j int) bool {
	if m[i].key != m[j].key {
		return m[i].key < m[j].key
	}
	return m[i].b.pos[m[i].cur] < m[j].b.pos[m[j].cur]
}
func (m merge) Swap(i, j int) { m[i], m[j] = m[j], m[i] }
func (m *merge) Push(x any)   { *m = append(*m, x.(*iter)) }
func (m *merge) Pop() any {
	old := *m
	x := old[len(old)-1]
	*m = old[:len(old)-1]
	return x
}

// Walker yields a viewer's candidates band by band, shuffled within a band.
// It keeps the bucket slices it started each band with, so that the index
// may change between calls to Next.
type Walker struct {
	ix    *Index
	q     Query
	band  int
	m     merge
	begun bool
	seen  map[int32]bool  // positions yielded
	at    map[int64]int32 // id → position of what was yielded (Cards)
	wants []uint8
	city  uint32
	tiles []uint32
}

// Walk starts a walk of q's candidates. The index should be fresh (Fresh).
func (ix *Index) Walk(q Query) *Walker {
	ix.rebandIfStale(ix.now())
	w := &Walker{ix: ix, q: q, seen: map[int32]bool{}, at: map[int64]int32{}}
	switch q.DatingGender {
	case "male":
		w.wants = []uint8{male}
	case "female":
		w.wants = []uint8{female}
	default:
		w.wants = []uint8{male, female}
	}
	if q.HasLoc {
		w.tiles = tilesAround(q.Lat, q.Lng, q.MaxKM)
	}
	return w
}

// tilesAround lists the 1° tiles holding every cell whose distance (as
// CellDistanceKM rounds it) from (lat, lng) can be at most maxKM.
func tilesAround(lat, lng int32, maxKM int) []uint32 {
	const r = 6371.0
	d := float64(maxKM) + 0.5
	dLat := int32(math.Ceil(d/r*180/math.Pi*100)) + 1
	minLat, maxLat := max(lat-dLat, -9000), min(lat+dLat, 9000)
	far := math.Max(math.Abs(float64(minLat)), math.Abs(float64(maxLat))) / 100 * math.Pi / 180
	allLng := false
	var minLng, maxLng int32
	x := math.Sin(d/(2*r)) / math.Cos(far)
	if math.Cos(far) <= 1e-9 || x >= 1 {
		allLng = true
	} else {
		dLng := int32(math.Ceil(2*math.Asin(x)*180/math.Pi*100)) + 1
		minLng, maxLng = lng-dLng, lng+dLng
		if minLng < -18000 || maxLng > 18000 {
			allLng = true
		}
	}
	if allLng {
		minLng, maxLng = -18000, 18000
	}
	var out []uint32
	seen := map[uint32]bool{}
	for la := floorDiv(minLat, 100); la <= floorDiv(maxLat, 100); la++ {
		for ln := floorDiv(minLng, 100); ln <= floorDiv(maxLng, 100); ln++ {
			t := tileOf(la*100, ln*100)
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// startBand snapshots the buckets of the current band; mu held for reading.
func (w *Walker) startBand() {
	ix := w.ix
	w.m = w.m[:0]
	b := uint8(w.band)
	w.city = ix.lookupCity(w.q.DatingCity)
	add := func(k bkey) {
		if bk := ix.buckets[k]; bk != nil && len(bk.tags) > 0 {
			if it := newIter(bk, w.q.Mask); it.cur >= 0 {
				w.m = append(w.m, it)
			}
		}
	}
	for _, g := range w.wants {
		if w.city != 0 {
			add(bkey{kind: kindCityNoLoc, gender: g, band: b, key: w.city})
			if !w.q.HasLoc {
				add(bkey{kind: kindCityLoc, gender: g, band: b, key: w.city})
			}
		}
		for _, t := range w.tiles {
			add(bkey{kind: kindTile, gender: g, band: b, key: t})
		}
	}
	heap.Init(&w.m)
	w.begun = true
}

// Next appends up to n more candidate ids to dst, in deck order; fewer
// means the walk is over.
func (w *Walker) Next(dst []int64, n int) []int64 {
	ix := w.ix
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	q := &w.q
	got := 0
	for got < n && w.band < bands {
		if !w.begun {
			w.startBand()
		}
		if len(w.m) == 0 {
			w.band++
			w.begun = false
			continue
		}
		it := w.m[0]
		p := it.b.pos[it.cur]
		it.advance()
		if it.cur < 0 {
			heap.Pop(&w.m)
		} else {
			heap.Fix(&w.m, 0)
		}
		e := &ix.entries[p]
		if !e.live || e.id == q.Viewer || (q.Skip != nil && q.Skip(e.id)) {
			continue
		}
		// The filters on the compact fields (Fits, without the strings).
		if e.wants&genderCode(q.Gender) == 0 || e.born <= q.BornAfter || e.born > q.BornUpTo ||
			q.Age < int(e.minAge) || q.Age > int(e.maxAge) {
			continue
		}
		if q.HasLoc && e.hasLoc {
			d := profile.CellDistanceKM(q.Lat, q.Lng, e.lat, e.lng)
			if d < q.MinKM || d > q.MaxKM {
				continue
			}
		} else if w.city == 0 || e.city != w.city {
			continue
		}
		// An entry that moved to a later band's bucket since it was yielded
		// from an earlier one is not yielded twice.
		if w.seen[p] {
			continue
		}
		w.seen[p] = true
		w.at[e.id] = p
		dst = append(dst, e.id)
		got++
	}
	return dst
}

// Cards returns the indexed users among ids (yielded by this walk or not),
// by id, finding the walked ones by position.
func (w *Walker) Cards(ids []int64) map[int64]Card { return w.ix.cardsAt(ids, w.at) }
