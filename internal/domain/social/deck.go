package social

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/swiper-social/swiper/internal/domain/deck"
	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// The deck from the in-memory index (internal/deck). The index holds every
// user's filter fields, preferences and Card text, so it decides who fits
// and what the Cards show. The deck state (internal/deckstate: in process,
// or Redis shared by the replicas) says which walked candidates the viewer
// swiped or is matched with and who superliked the viewer; it is filled
// from the database on a miss, once per viewer and TTL, so the cost of a
// deck does not grow with the viewer's history. Its version counts the
// committed changes of deck-visible user data on every replica: when it is
// newer than what the index caught up with, the index catches up from the
// database first. A deck thus reflects every change committed before it
// was read, on any replica, and usually asks the database nothing.

// maxProbe bounds the ids checked in one probe.
const maxProbe = 4096

// Recommendations builds my deck (API.md §3 Recommendations): the users who
// superliked me first, then the walk of the index: candidates matching both
// sides' preferences, by activity band, shuffled per viewer and local day.
func (s *Service) Recommendations(ctx context.Context, me int64, limit int) ([]profile.Card, error) {
	now := s.now()
	ix := s.d.Deck
	if _, loaded := ix.Stamps(); !loaded {
		if err := ix.Fresh(ctx); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		q, err := s.deckQueryOf(ctx, me, now)
		if err != nil {
			return nil, err
		}
		shown := map[int64]bool{}
		q.Skip = func(id int64) bool { return shown[id] }
		w := ix.Walk(q)
		batch := limit + limit/4 + 4
		ids := w.Next(nil, batch)
		pr, err := s.d.DeckState.Probe(ctx, me, ids, limit)
		if err != nil {
			return nil, err
		}
		if pr.Version > ix.Version() && attempt < 2 {
			// A change committed somewhere that the index may not hold yet.
			if err := ix.Fresh(ctx); err != nil {
				return nil, err
			}
			ix.CaughtUp(pr.Version)
			continue
		}
		if !pr.Hit {
			if pr, err = s.fillDeckState(ctx, me, pr, ids, limit); err != nil {
				return nil, err
			}
		}
		for _, id := range pr.Superlikers {
			shown[id] = true
		}
		need := limit - len(pr.Superlikers)
		picked := make([]int64, 0, limit)
		for _, id := range ids {
			if len(picked) < need && !shown[id] && !pr.Swiped[id] {
				picked = append(picked, id)
			}
		}
		for round := 0; len(picked) < need && len(ids) == batch && round < 50; round++ {
			batch = min(batch*2, maxProbe)
			ids = w.Next(ids[:0], batch)
			out, err := s.deckExcluded(ctx, me, ids)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				if !out[id] && len(picked) < need {
					picked = append(picked, id)
				}
			}
		}
		return s.deckCards(ctx, q, w, pr.Superlikers, picked)
	}
}

// fillDeckState reads me's deck state from the database, caches it (unless
// a swipe came in since the probe that missed) and answers the probe with it.
func (s *Service) fillDeckState(ctx context.Context, me int64, missed model.DeckProbe, ids []int64, limit int) (model.DeckProbe, error) {
	swiped, sls, err := s.d.Store.DeckStateOf(ctx, me)
	if err != nil {
		return model.DeckProbe{}, err
	}
	sl := make([]model.Superliker, len(sls))
	for i, x := range sls {
		sl[i] = model.Superliker{ID: x.SwiperID, At: x.CreatedAt}
	}
	if err := s.d.DeckState.Fill(ctx, me, missed.Token, swiped, sl); err != nil {
		return model.DeckProbe{}, err
	}
	out := model.DeckProbe{Hit: true, Swiped: map[int64]bool{}, Version: missed.Version}
	set := make(map[int64]bool, len(swiped))
	for _, id := range swiped {
		set[id] = true
	}
	for _, id := range ids {
		if set[id] {
			out.Swiped[id] = true
		}
	}
	// As a cached state answers: a superliker the viewer swiped, is
	// matched with or is blocked with either way is no superliker.
	first := slices.DeleteFunc(slices.Clone(sl), func(x model.Superliker) bool { return set[x.ID] })
	slices.SortFunc(first, func(a, b model.Superliker) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	for _, x := range first[:min(limit, len(first))] {
		out.Superlikers = append(out.Superlikers, x.ID)
	}
	return out, nil
}

// deckExcluded returns which of ids me swiped or is matched with.
func (s *Service) deckExcluded(ctx context.Context, me int64, ids []int64) (map[int64]bool, error) {
	pr, err := s.d.DeckState.Probe(ctx, me, ids, 0)
	if err != nil {
		return nil, err
	}
	if pr.Hit {
		return pr.Swiped, nil
	}
	return s.d.Store.DeckExcluded(ctx, me, ids) // expired meanwhile
}

// deckCards builds the Cards of the superlikers sl (flagged) and of picked,
// in order, with profile.NewCard from the index's fields; a superliker the
// index does not hold (no profile row) is read from the database. Visible
// albums of users who have photos come from the user cache. A deck only
// holds users the viewer is not matched with (superlikers are not swiped
// by the viewer, so not matched either), and the superlikers are every
// user in it who superliked the viewer (they come first, and the walk
// leaves them out).
func (s *Service) deckCards(ctx context.Context, q deck.Query, w *deck.Walker, sl, picked []int64) ([]profile.Card, error) {
	all := append(append(make([]int64, 0, len(sl)+len(picked)), sl...), picked...)
	cards := w.Cards(all)
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
				City: c.City, OnlyMatched: c.OnlyMatched, HasPhotos: true} // read the album to know
			if c.CellLat != nil && c.CellLng != nil {
				dc.HasLoc, dc.Lat, dc.Lng = true, *c.CellLat, *c.CellLng
			}
			cards[id] = dc
		}
	}
	var albums []int64
	for _, id := range all {
		if c, ok := cards[id]; ok && c.HasPhotos && profile.AlbumShown(false, c.OnlyMatched, false) {
			albums = append(albums, id)
		}
	}
	photos, err := s.d.Profile.Albums(ctx, albums)
	if err != nil {
		return nil, err
	}
	viewer := model.User{ID: q.Viewer}
	if q.HasLoc {
		viewer.CellLat, viewer.CellLng = &q.Lat, &q.Lng
	}
	clockNow := s.d.Clock.Now()
	out := make([]profile.Card, 0, len(all))
	for i, id := range all {
		c, ok := cards[id]
		if !ok {
			continue // gone since
		}
		u := model.User{ID: id, Nickname: c.Nickname, Gender: c.Gender, Birthday: c.Birthday, City: c.City, Avatar: c.Avatar}
		if c.HasLoc {
			u.CellLat, u.CellLng = &c.Lat, &c.Lng
		}
		out = append(out, profile.NewCard(&viewer, profile.CardFacts{User: u, Photos: photos[id], OnlyMatched: c.OnlyMatched,
			SuperlikedMe: i < len(sl)}, clockNow, s.d.TZ))
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
	bornAfter, bornUpTo := bornRange(now, s.d.TZ, self.MinDatingAge, self.MaxDatingAge)
	b := self.Birthday
	return deck.Query{
		Viewer: me, Gender: self.Gender,
		Age:          profile.AgeOn(fmt.Sprintf("%04d-%02d-%02d", b/10000, b/100%100, b%100), now, s.d.TZ),
		DatingGender: self.DatingGender, BornAfter: bornAfter, BornUpTo: bornUpTo,
		DatingCity: self.DatingCity, HasLoc: self.HasLoc, Lat: self.Lat, Lng: self.Lng,
		MinKM: self.MinDistance, MaxKM: self.MaxDistance, Mask: deckMask(me, Day(now, s.d.TZ)),
	}, nil
}

// deckMask is the in-band shuffle of the index walk of viewer's deck on
// day.
func deckMask(viewer int64, day string) uint32 {
	h := sha256.Sum256([]byte("deck:" + strconv.FormatInt(viewer, 10) + ":" + day))
	return binary.BigEndian.Uint32(h[:4])
}

// bornRange bounds the birthdays (as birthCode) of the ages minAge to
// maxAge on the local day (in tz) of now: someone born on b is in range
// ⇔ after < b <= upTo.
func bornRange(now time.Time, tz *time.Location, minAge, maxAge int) (after, upTo int32) {
	return bornCutoff(now, tz, maxAge+1), bornCutoff(now, tz, minAge)
}

// bornCutoff is the latest birthday (as birthCode) of someone at least
// years old on the local day (in tz) of now: born on or before it ⇔ at
// least years old. It may name a day that does not exist (February 29 of
// a common year), which compares correctly.
func bornCutoff(now time.Time, tz *time.Location, years int) int32 {
	local := now.In(tz)
	return int32((local.Year()-years)*10000 + int(local.Month())*100 + local.Day())
}

// birthCode is YYYY-MM-DD as YYYYMMDD (0 when not a date).
func birthCode(s string) int32 {
	t, ok := input.Date(s)
	if !ok {
		return 0
	}
	return int32(t.Year()*10000 + int(t.Month())*100 + t.Day())
}

// deckSwiped tells the deck state about committed swipes; a failure is
// logged (the report is retried, and cached states expire).
func (s *Service) deckSwiped(ctx context.Context, sws []model.Swipe) {
	if s.d.DeckState == nil || len(sws) == 0 {
		return
	}
	out := make([]model.DeckSwipe, len(sws))
	for i, sw := range sws {
		out[i] = model.DeckSwipe{Swiper: sw.SwiperID, Swiped: sw.SwipedID, Superlike: sw.Action == model.ActionSuperlike, At: sw.CreatedAt}
	}
	if err := s.d.DeckState.Swiped(context.WithoutCancel(ctx), out); err != nil {
		s.d.Log.ErrorContext(ctx, "deck state not told about swipes; will retry", "swipes", len(sws), "err", err)
	}
}

// deckRewound tells the deck state about a committed rewind.
func (s *Service) deckRewound(ctx context.Context, sw model.Swipe) {
	if s.d.DeckState == nil {
		return
	}
	d := model.DeckSwipe{Swiper: sw.SwiperID, Swiped: sw.SwipedID, Superlike: sw.Action == model.ActionSuperlike, At: sw.CreatedAt}
	if err := s.d.DeckState.Rewound(context.WithoutCancel(ctx), d); err != nil {
		s.d.Log.ErrorContext(ctx, "deck state not told about a rewind; will retry", "user_id", sw.SwiperID, "err", err)
	}
}
