package social

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/swiper-social/swiper/internal/deck"
	"github.com/swiper-social/swiper/internal/input"
	"github.com/swiper-social/swiper/internal/profile"
	"github.com/swiper-social/swiper/internal/store"
)

// The deck from the in-memory index (internal/deck). The index holds every
// user's filter fields, preferences and Card text, so it decides who fits
// and what the Cards show; one statement asks the database the rest: the
// superlikers, which walked candidates the viewer swiped or is matched with
// (primary-key probes in the viewer's part of the keys: the cost does not
// grow with the viewer's history), their photos, and the newest change
// stamps. When those stamps are newer than what the index caught up with,
// a change committed before this read may be missing: the index catches up
// and the deck is built again. A deck thus reflects every change committed
// before it was read, on any replica.

// maxProbe bounds the ids checked in one statement.
const maxProbe = 4096

// deckFromIndex builds me's deck: the superlikers first, then the walk.
func (s *Service) deckFromIndex(ctx context.Context, me int64, limit int) ([]profile.Card, error) {
	now := s.now()
	ix := s.d.Deck
	for attempt := 0; ; attempt++ {
		stamps, loaded := ix.Stamps()
		if attempt > 0 || !loaded {
			if err := ix.Fresh(ctx); err != nil {
				return nil, err
			}
			stamps, _ = ix.Stamps()
		}
		q, err := s.deckQueryOf(ctx, me, now)
		if err != nil {
			return nil, err
		}
		shown := map[int64]bool{}
		q.Skip = func(id int64) bool { return shown[id] }
		w := ix.Walk(q)
		batch := limit + limit/4 + 4
		ids := w.Next(nil, batch)
		cards := ix.Cards(ids)
		var albums []int64
		for _, id := range ids {
			if c, ok := cards[id]; ok && profile.AlbumShown(false, c.OnlyMatched, false) {
				albums = append(albums, id)
			}
		}
		pr, err := s.d.Store.DeckProbe(ctx, me, limit, ids, albums)
		if err != nil {
			return nil, err
		}
		if pr.Stamps != stamps && attempt < 2 {
			continue // the index missed a change: catch up, walk again
		}
		for _, id := range albums {
			if _, ok := pr.Photos[id]; !ok {
				pr.Photos[id] = nil // read: no photos
			}
		}
		for _, id := range pr.Superlikers {
			shown[id] = true
		}
		need := limit - len(pr.Superlikers)
		picked := make([]int64, 0, limit)
		for _, id := range ids {
			if len(picked) < need && !shown[id] && !pr.Excluded[id] {
				picked = append(picked, id)
			}
		}
		for round := 0; len(picked) < need && len(ids) == batch && round < 50; round++ {
			batch = min(batch*2, maxProbe)
			ids = w.Next(ids[:0], batch)
			out, err := s.d.Store.DeckExcluded(ctx, me, ids)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				if !out[id] && len(picked) < need {
					picked = append(picked, id)
				}
			}
		}
		return s.deckCards(ctx, q, pr.Superlikers, picked, pr.Photos)
	}
}

// deckCards builds the Cards of the superlikers sl (flagged) and of picked,
// in order, from the index; a superliker the index does not hold (no
// profile row) is read from the database. photos holds the albums read so
// far; the missing visible ones are read. A deck only holds users the
// viewer is not matched with (superlikers are not swiped by the viewer, so
// not matched either), so profile.AlbumShown is asked with matched=false.
func (s *Service) deckCards(ctx context.Context, q deck.Query, sl, picked []int64, photos map[int64][]store.Photo) ([]profile.Card, error) {
	all := append(append(make([]int64, 0, len(sl)+len(picked)), sl...), picked...)
	cards := s.d.Deck.Cards(all)
	var missing []int64
	for _, id := range sl {
		if _, ok := cards[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		got, err := s.d.Store.DeckCandidates(ctx, q.Viewer, missing)
		if err != nil {
			return nil, err
		}
		for id, c := range got {
			dc := deck.Card{ID: id, Nickname: c.Nickname, Avatar: c.Avatar, Gender: c.Gender, Birthday: c.Birthday,
				City: c.City, OnlyMatched: c.OnlyMatched}
			if c.CellLat != nil && c.CellLng != nil {
				dc.HasLoc, dc.Lat, dc.Lng = true, *c.CellLat, *c.CellLng
			}
			cards[id] = dc
		}
	}
	var unread []int64
	for _, id := range all {
		if c, ok := cards[id]; ok && profile.AlbumShown(false, c.OnlyMatched, false) {
			if _, read := photos[id]; !read {
				unread = append(unread, id)
			}
		}
	}
	if len(unread) > 0 {
		more, err := s.d.Store.PhotosOf(ctx, unread)
		if err != nil {
			return nil, err
		}
		for id, ps := range more {
			photos[id] = ps
		}
	}
	clockNow := s.d.Clock.Now()
	out := make([]profile.Card, 0, len(all))
	for i, id := range all {
		c, ok := cards[id]
		if !ok {
			continue // gone since
		}
		card := profile.Card{ID: id, Nickname: c.Nickname, Gender: c.Gender, Age: profile.AgeOn(c.Birthday, clockNow, s.d.TZ),
			City: c.City, Avatar: c.Avatar, SuperlikedMe: i < len(sl), Photos: []profile.Photo{}}
		if q.HasLoc && c.HasLoc {
			d := profile.CellDistanceKM(q.Lat, q.Lng, c.Lat, c.Lng)
			card.DistanceKM = &d
		}
		if profile.AlbumShown(false, c.OnlyMatched, false) {
			for _, p := range photos[id] {
				card.Photos = append(card.Photos, profile.Photo{ID: p.ID, URL: p.URL, Position: p.Position})
			}
		}
		out = append(out, card)
	}
	return out, nil
}

// deckQueryOf is me's deck query, from the index (fresh) or, for a user the
// index does not hold (no profile row yet), from the database.
func (s *Service) deckQueryOf(ctx context.Context, me int64, now time.Time) (deck.Query, error) {
	self, ok := s.d.Deck.SelfOf(me)
	if !ok {
		u, err := s.user(ctx, me)
		if err != nil {
			return deck.Query{}, err
		}
		p, err := s.d.Profile.Profile(ctx, me)
		if err != nil {
			return deck.Query{}, err
		}
		self = deck.Self{Gender: u.Gender, Birthday: birthCode(u.Birthday), DatingGender: p.DatingGender,
			DatingCity: p.DatingCity, MinDistance: p.MinDistance, MaxDistance: p.MaxDistance,
			MinDatingAge: p.MinDatingAge, MaxDatingAge: p.MaxDatingAge}
		if u.CellLat != nil && u.CellLng != nil {
			self.HasLoc, self.Lat, self.Lng = true, *u.CellLat, *u.CellLng
		}
	}
	local := now.In(s.d.TZ)
	cutoff := func(years int) int32 { // born on or before this day ⇔ at least `years` old
		return int32((local.Year()-years)*10000 + int(local.Month())*100 + local.Day())
	}
	b := self.Birthday
	return deck.Query{
		Viewer: me, Gender: self.Gender,
		Age:          profile.AgeOn(fmt.Sprintf("%04d-%02d-%02d", b/10000, b/100%100, b%100), now, s.d.TZ),
		DatingGender: self.DatingGender, BornAfter: cutoff(self.MaxDatingAge + 1), BornUpTo: cutoff(self.MinDatingAge),
		DatingCity: self.DatingCity, HasLoc: self.HasLoc, Lat: self.Lat, Lng: self.Lng,
		MinKM: self.MinDistance, MaxKM: self.MaxDistance, Mask: deckMask(me, Day(now, s.d.TZ)),
	}, nil
}

// deckMask is the shuffle of viewer's deck on day.
func deckMask(viewer int64, day string) uint32 {
	h := sha256.Sum256([]byte("deck:" + strconv.FormatInt(viewer, 10) + ":" + day))
	return binary.BigEndian.Uint32(h[:4])
}

// birthCode is YYYY-MM-DD as YYYYMMDD (0 when not a date).
func birthCode(s string) int32 {
	t, ok := input.Date(s)
	if !ok {
		return 0
	}
	return int32(t.Year()*10000 + int(t.Month())*100 + t.Day())
}
