package profile

import (
	"context"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// Albums returns the photos of the users among ids that exist, through the
// user cache (one round trip when every user is cached).
func (s *Service) Albums(ctx context.Context, ids []int64) (map[int64][]model.Photo, error) {
	recs, err := s.records(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64][]model.Photo, len(recs))
	for id, r := range recs {
		out[id] = r.Photos
	}
	return out, nil
}
