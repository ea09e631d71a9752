package profile

import (
	"context"

	"github.com/swiper-social/swiper/internal/store"
)

// Albums returns the photos of the users among ids that exist, through the
// user cache (one round trip when every user is cached).
func (s *Service) Albums(ctx context.Context, ids []int64) (map[int64][]store.Photo, error) {
	recs, err := s.d.Users.GetMany(ctx, ids, func(ctx context.Context, ids []int64) (map[int64]Record, error) {
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
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]store.Photo, len(recs))
	for id, r := range recs {
		out[id] = r.Photos
	}
	return out, nil
}
