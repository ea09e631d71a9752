package profile

import (
	"context"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// CardFacts are everything that decides a Card of a user for a viewer:
// the user's row (what the Card shows), their album, and the facts
// between the two.
type CardFacts struct {
	User         model.User    // ID, Nickname, Gender, Birthday, City, Avatar, cell
	Photos       []model.Photo // the album; shown only when AlbumShown says so
	OnlyMatched  bool          // the user's profile keeps the album for matches
	Matched      bool          // the viewer and the user are matched
	SuperlikedMe bool          // the user superliked the viewer
}

// NewCard is the one function that decides a Card, on every route that
// returns one (deck, GET /users/{id}, likes, matches, rank, a swipe's
// match, a rewind): what viewer (nil: anonymous) sees of the user f
// describes at now. superliked_me is whether the user superliked the
// viewer, the same wherever the Card shows.
func NewCard(viewer *model.User, f CardFacts, now time.Time, tz *time.Location) Card {
	u := f.User
	c := Card{ID: u.ID, Nickname: u.Nickname, Gender: u.Gender, Age: AgeOn(u.Birthday, now, tz),
		City: u.City, Avatar: u.Avatar, Photos: []Photo{}}
	self := false
	if viewer != nil {
		self = viewer.ID == u.ID
		c.DistanceKM = DistanceKM(*viewer, u)
		c.SuperlikedMe = f.SuperlikedMe && !self
	}
	if AlbumShown(self, f.OnlyMatched, f.Matched && viewer != nil) {
		c.Photos = photosOf(f.Photos)
	}
	return c
}

// AlbumShown is the album rule: the owner always sees it, everyone does
// when only_matched is off, otherwise only matches.
func AlbumShown(self, onlyMatched, matched bool) bool { return self || !onlyMatched || matched }

// Cards returns the Cards of the existing users among ids as viewer (nil:
// anonymous) sees them, by id, in a fixed number of round trips whatever
// the number of ids: the users and albums through the user cache (one
// round trip when all are cached, else two statements), and one statement
// for the facts between them and the viewer.
func (s *Service) Cards(ctx context.Context, viewer *model.User, ids []int64) (map[int64]Card, error) {
	recs, err := s.records(ctx, ids)
	if err != nil {
		return nil, err
	}
	return s.cardsOf(ctx, viewer, recs)
}

// cardsOf builds the Cards of recs for viewer (one statement).
func (s *Service) cardsOf(ctx context.Context, viewer *model.User, recs map[int64]Record) (map[int64]Card, error) {
	out := make(map[int64]Card, len(recs))
	if len(recs) == 0 {
		return out, nil
	}
	ids := make([]int64, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	var vid int64
	if viewer != nil {
		vid = viewer.ID
	}
	facts, err := s.d.Store.CardFacts(ctx, vid, ids)
	if err != nil {
		return nil, err
	}
	now := s.d.Clock.Now()
	for id, r := range recs {
		f, ok := facts[id]
		if !ok {
			continue // gone since
		}
		out[id] = NewCard(viewer, CardFacts{User: r.User, Photos: r.Photos, OnlyMatched: f.OnlyMatched,
			Matched: f.Matched, SuperlikedMe: f.SuperlikedMe}, now, s.d.TZ)
	}
	return out, nil
}

// records returns the records (row and album) of the existing users among
// ids through the user cache: one round trip when every one is cached,
// else two more statements for the others.
func (s *Service) records(ctx context.Context, ids []int64) (map[int64]Record, error) {
	return s.d.Users.GetMany(ctx, ids, func(ctx context.Context, ids []int64) (map[int64]Record, error) {
		us, err := s.d.Store.Users(ctx, ids)
		if err != nil {
			return nil, err
		}
		ps, err := s.d.Store.PhotosOf(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := make(map[int64]Record, len(us))
		for id, u := range us {
			out[id] = Record{User: u, Photos: ps[id]}
		}
		return out, nil
	})
}
