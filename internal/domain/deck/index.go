// Package deck is the in-memory recommendation index (API.md §3
// Recommendations): every user's filter fields and preferences in compact
// entries, bucketed by (city, gender, activity band) and, for users with a
// location, by (1°×1° tile, gender, band). A deck walks only the buckets
// that can hold candidates, in an order shuffled per viewer and day,
// without sorting anything per request.
//
// The index is a cache of the database: it is loaded from it (Load), kept
// fresh from users.updated_at / profiles.updated_at (Fresh before every
// deck, Poll in the background for late commits), and what it proposes is
// verified against the database by the caller. Several replicas can share
// one database: each one's index follows the same stamps. Activity does not
// stamp a row: the bands follow users.active_at, read once a minute for the
// users active since (RefreshActivity), and time (Reband).
package deck

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// Genders and bands.
const (
	male   uint8 = 1
	female uint8 = 2
	anyG   uint8 = male | female

	// Bands: active in the last 24 h, in the last 7 days, or earlier.
	bands = 3
)

func genderCode(g string) uint8 {
	switch g {
	case "male":
		return male
	case "female":
		return female
	case "any":
		return anyG
	}
	return 0
}

// bandOf is the activity band of a user active at active (unix seconds).
func bandOf(active, now int64) uint8 {
	switch {
	case active >= now-24*3600:
		return 0
	case active >= now-7*24*3600:
		return 1
	}
	return 2
}

// entry is one user (56 bytes).
type entry struct {
	id       int64
	active   int64 // unix seconds
	tag      uint32
	born     int32 // YYYYMMDD
	city     uint32
	dcity    uint32 // dating city
	lat, lng int32
	minKM    uint16
	maxKM    uint16
	minAge   uint8
	maxAge   uint8
	gender   uint8
	wants    uint8
	hasLoc   bool
	band     uint8
	live     bool // false: the user no longer exists (or lost its profile)
	onlyM    bool // only_matched: the album shows to matches only
	photos   bool // the album is not empty
}

// text is what a Card shows of an entry besides its filter fields.
type text struct{ nickname, avatar string }

// bucket kinds.
const (
	kindCityNoLoc uint8 = iota // users without a location, by city
	kindCityLoc                // users with a location, by city
	kindTile                   // users with a location, by 1° tile
)

type bkey struct {
	kind, gender, band uint8
	key                uint32 // city id or tile id
}

// bucket holds entry positions sorted by (tag, position). Buckets are
// copy-on-write: a walk keeps the slices it started with.
type bucket struct {
	tags []uint32
	pos  []int32
}

// tileOf is the 1°×1° tile of a cell (cells are 1/100 degree).
func tileOf(lat, lng int32) uint32 {
	la := floorDiv(lat, 100) + 90 // 0..180
	ln := floorDiv(lng, 100) + 180
	if ln > 359 {
		ln = 359 // lng 180.00 is the antimeridian: tile of -180
	}
	return uint32(la*360 + ln)
}

func floorDiv(a, b int32) int32 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func (e *entry) keys() (k [2]bkey, n int) {
	if !e.live || (e.gender != male && e.gender != female) {
		return k, 0
	}
	if e.hasLoc {
		k[0] = bkey{kind: kindCityLoc, gender: e.gender, band: e.band, key: e.city}
		k[1] = bkey{kind: kindTile, gender: e.gender, band: e.band, key: tileOf(e.lat, e.lng)}
		return k, 2
	}
	k[0] = bkey{kind: kindCityNoLoc, gender: e.gender, band: e.band, key: e.city}
	return k, 1
}

// tagOf spreads ids over 32 bits (splitmix64 finaliser).
func tagOf(id int64) uint32 {
	z := uint64(id) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return uint32((z ^ (z >> 31)) >> 32)
}

// Source is the database as the index reads it; the store implements it.
type Source interface {
	DeckRowsAfter(ctx context.Context, after int64, n int) (rows []model.DeckRow, last int64, err error)
	DeckRowsOf(ctx context.Context, ids []int64) ([]model.DeckRow, error)
	DeckStampsNow(ctx context.Context) (model.DeckStamps, error)
	DeckChanged(ctx context.Context, since model.DeckStamps, overlap time.Duration) ([]int64, model.DeckStamps, error)
	DeckActiveSince(ctx context.Context, since time.Time) ([]model.DeckActive, error)
}

// Index is the in-memory deck index. Safe for concurrent use.
type Index struct {
	src Source
	now func() time.Time

	mu       sync.RWMutex
	entries  []entry
	texts    []text // by entry position
	byID     map[int64]int32
	buckets  map[bkey]*bucket
	cities   map[string]uint32
	names    []string
	rebanded int64 // unix seconds of the last full band pass

	sync syncState // sync.go
}

// New returns an empty index reading src; now is the clock of the bands.
func New(src Source, now func() time.Time) *Index {
	ix := &Index{src: src, now: now, byID: map[int64]int32{}, buckets: map[bkey]*bucket{},
		cities: map[string]uint32{}, names: []string{""}}
	ix.sync.init()
	return ix
}

// cityID interns a city name (0 is ""); call with mu held for writing.
func (ix *Index) cityID(name string) uint32 {
	if id, ok := ix.cities[name]; ok {
		return id
	}
	id := uint32(len(ix.names))
	ix.cities[name] = id
	ix.names = append(ix.names, name)
	return id
}

// lookupCity returns the id of a city name, 0 when unknown; mu held.
func (ix *Index) lookupCity(name string) uint32 { return ix.cities[name] }

// birthCode turns YYYY-MM-DD into YYYYMMDD (0 when malformed).
func birthCode(s string) int32 {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0
	}
	var v int32
	for i := 0; i < 10; i++ {
		if i == 4 || i == 7 {
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		v = v*10 + int32(c-'0')
	}
	return v
}

func clampU8(v int) uint8 { return uint8(min(max(v, 0), 255)) }

func clampU16(v int) uint16 { return uint16(min(max(v, 0), 65535)) }

// entryOf builds the entry of a row; mu held for writing (interning).
func (ix *Index) entryOf(r model.DeckRow, now int64) entry {
	e := entry{id: r.ID, active: r.ActiveAt.Unix(), tag: tagOf(r.ID), born: birthCode(r.Birthday),
		city: ix.cityID(r.City), dcity: ix.cityID(r.DatingCity), minKM: clampU16(r.MinDistance), maxKM: clampU16(r.MaxDistance),
		minAge: clampU8(r.MinDatingAge), maxAge: clampU8(r.MaxDatingAge), gender: genderCode(r.Gender),
		wants: genderCode(r.DatingGender), live: true, onlyM: r.OnlyMatched, photos: r.PhotoCount > 0}
	if r.CellLat != nil && r.CellLng != nil {
		e.hasLoc, e.lat, e.lng = true, *r.CellLat, *r.CellLng
	}
	e.band = bandOf(e.active, now)
	return e
}

// change is a move of one entry between buckets, applied in batches.
type change struct {
	pos      int32
	tag      uint32
	from, to [2]bkey
	nf, nt   int
}

// upsert stores rows (and marks gone the ids in missing); mu held for writing.
func (ix *Index) upsert(rows []model.DeckRow, missing []int64, now int64) {
	var cs []change
	for _, r := range rows {
		e := ix.entryOf(r, now)
		if p, ok := ix.byID[r.ID]; ok {
			old := &ix.entries[p]
			from, nf := old.keys()
			*old = e
			ix.texts[p] = text{r.Nickname, r.Avatar}
			to, nt := old.keys()
			if from != to || nf != nt {
				cs = append(cs, change{pos: p, tag: e.tag, from: from, nf: nf, to: to, nt: nt})
			}
			continue
		}
		p := int32(len(ix.entries))
		ix.entries = append(ix.entries, e)
		ix.texts = append(ix.texts, text{r.Nickname, r.Avatar})
		ix.byID[r.ID] = p
		to, nt := e.keys()
		cs = append(cs, change{pos: p, tag: e.tag, to: to, nt: nt})
	}
	for _, id := range missing {
		if p, ok := ix.byID[id]; ok && ix.entries[p].live {
			old := &ix.entries[p]
			from, nf := old.keys()
			old.live = false
			cs = append(cs, change{pos: p, tag: old.tag, from: from, nf: nf})
		}
	}
	ix.apply(cs)
}

type member struct {
	tag uint32
	pos int32
}

func cmpMember(a, b member) int {
	if c := cmp.Compare(a.tag, b.tag); c != 0 {
		return c
	}
	return cmp.Compare(a.pos, b.pos)
}

// apply moves entries between buckets: every touched bucket is rebuilt
// once (copy-on-write), whatever the number of moves.
func (ix *Index) apply(cs []change) {
	if len(cs) == 0 {
		return
	}
	removed := map[bkey]map[int32]bool{}
	added := map[bkey][]member{}
	for _, c := range cs {
		for i := 0; i < c.nf; i++ {
			if removed[c.from[i]] == nil {
				removed[c.from[i]] = map[int32]bool{}
			}
			removed[c.from[i]][c.pos] = true
		}
		for i := 0; i < c.nt; i++ {
			added[c.to[i]] = append(added[c.to[i]], member{c.tag, c.pos})
		}
	}
	touched := map[bkey]bool{}
	for k := range removed {
		touched[k] = true
	}
	for k := range added {
		touched[k] = true
	}
	for k := range touched {
		old := ix.buckets[k]
		if old == nil {
			old = &bucket{}
		}
		gone := removed[k]
		add := added[k]
		slices.SortFunc(add, cmpMember)
		nb := &bucket{tags: make([]uint32, 0, len(old.tags)+len(add)), pos: make([]int32, 0, len(old.tags)+len(add))}
		j := 0
		for i := range old.tags {
			m := member{old.tags[i], old.pos[i]}
			if gone[m.pos] {
				continue
			}
			for j < len(add) && cmpMember(add[j], m) < 0 {
				nb.tags, nb.pos = append(nb.tags, add[j].tag), append(nb.pos, add[j].pos)
				j++
			}
			nb.tags, nb.pos = append(nb.tags, m.tag), append(nb.pos, m.pos)
		}
		for ; j < len(add); j++ {
			nb.tags, nb.pos = append(nb.tags, add[j].tag), append(nb.pos, add[j].pos)
		}
		if len(nb.tags) == 0 {
			delete(ix.buckets, k)
		} else {
			ix.buckets[k] = nb
		}
	}
}

// activate records activity stamps read from the database (users active
// since the last look): a stamp newer than the entry's moves it up to the
// band it falls in (down, only time moves a user: Reband). Unknown ids (a
// user registered since the last catch-up) are left to the catch-up. mu
// held for writing.
func (ix *Index) activate(acts []model.DeckActive, now int64) {
	var cs []change
	for _, a := range acts {
		p, ok := ix.byID[a.ID]
		if !ok {
			continue
		}
		e := &ix.entries[p]
		t := a.ActiveAt.Unix()
		if t <= e.active {
			continue
		}
		e.active = t
		b := bandOf(t, now)
		if b == e.band {
			continue
		}
		from, nf := e.keys()
		e.band = b
		to, nt := e.keys()
		cs = append(cs, change{pos: p, tag: e.tag, from: from, nf: nf, to: to, nt: nt})
	}
	ix.apply(cs)
}

// Reband moves the users whose activity band changed with time (activity
// moves them up: activate). The scan runs under the read lock; only the
// moves take the write lock.
func (ix *Index) Reband(now time.Time) {
	t := now.Unix()
	ix.mu.RLock()
	var moves []int32
	for p := range ix.entries {
		e := &ix.entries[p]
		if e.live && bandOf(e.active, t) != e.band {
			moves = append(moves, int32(p))
		}
	}
	ix.mu.RUnlock()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var cs []change
	for _, p := range moves {
		e := &ix.entries[p]
		b := bandOf(e.active, t)
		if !e.live || b == e.band {
			continue
		}
		from, nf := e.keys()
		e.band = b
		to, nt := e.keys()
		cs = append(cs, change{pos: p, tag: e.tag, from: from, nf: nf, to: to, nt: nt})
	}
	ix.apply(cs)
	ix.rebanded = t
}

// rebandIfStale runs Reband when the last pass is more than a minute old
// (the band boundaries are then exact to the minute).
func (ix *Index) rebandIfStale(now time.Time) {
	ix.mu.RLock()
	last := ix.rebanded
	ix.mu.RUnlock()
	if d := now.Unix() - last; d >= 60 || d < 0 {
		ix.Reband(now)
	}
}

// Len is the number of users in the index.
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := 0
	for i := range ix.entries {
		if ix.entries[i].live {
			n++
		}
	}
	return n
}

// Self is a user's own filter fields and preferences, as indexed.
type Self struct {
	Gender       string
	Birthday     int32 // YYYYMMDD
	HasLoc       bool
	Lat, Lng     int32
	DatingGender string
	DatingCity   string
	MinDistance  int
	MaxDistance  int
	MinDatingAge int
	MaxDatingAge int
}

func genderName(g uint8) string {
	switch g {
	case male:
		return "male"
	case female:
		return "female"
	case anyG:
		return "any"
	}
	return ""
}

// SelfOf returns id's indexed fields (false when id is not indexed).
func (ix *Index) SelfOf(id int64) (Self, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	p, ok := ix.byID[id]
	if !ok || !ix.entries[p].live {
		return Self{}, false
	}
	e := &ix.entries[p]
	return Self{Gender: genderName(e.gender), Birthday: e.born, HasLoc: e.hasLoc, Lat: e.lat, Lng: e.lng,
		DatingGender: genderName(e.wants), DatingCity: ix.names[e.dcity], MinDistance: int(e.minKM),
		MaxDistance: int(e.maxKM), MinDatingAge: int(e.minAge), MaxDatingAge: int(e.maxAge)}, true
}

// Card is what a deck Card shows of an indexed user.
type Card struct {
	ID          int64
	Nickname    string
	Avatar      string
	Gender      string
	Birthday    string // YYYY-MM-DD
	City        string
	HasLoc      bool
	Lat, Lng    int32
	OnlyMatched bool
	HasPhotos   bool
}

// cardsAt returns the indexed users among ids, by id, with the positions
// of ids where known (a walk's; see Walker.Cards).
func (ix *Index) cardsAt(ids []int64, at map[int64]int32) map[int64]Card {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	out := make(map[int64]Card, len(ids))
	for _, id := range ids {
		p, ok := at[id]
		if !ok || int(p) >= len(ix.entries) || ix.entries[p].id != id { // unknown, or the index was rebuilt
			if p, ok = ix.byID[id]; !ok {
				continue
			}
		}
		if !ix.entries[p].live {
			continue
		}
		e, t := &ix.entries[p], ix.texts[p]
		out[id] = Card{ID: id, Nickname: t.nickname, Avatar: t.avatar, Gender: genderName(e.gender),
			Birthday: dateText(e.born), City: ix.names[e.city], HasLoc: e.hasLoc, Lat: e.lat, Lng: e.lng,
			OnlyMatched: e.onlyM, HasPhotos: e.photos}
	}
	return out
}

// dateText turns YYYYMMDD into YYYY-MM-DD.
func dateText(v int32) string {
	b := [10]byte{'0', '0', '0', '0', '-', '0', '0', '-', '0', '0'}
	put := func(at, n int, x int32) {
		for i := at + n - 1; i >= at; i-- {
			b[i] = byte('0' + x%10)
			x /= 10
		}
	}
	put(0, 4, v/10000)
	put(5, 2, v/100%100)
	put(8, 2, v%100)
	return string(b[:])
}
