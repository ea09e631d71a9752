package store

import (
	"context"
	"fmt"
	"math/bits"
	"strings"

	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// QuotaUse is what a user used of the daily quotas (model.QuotaUse).
type QuotaUse = model.QuotaUse

// quotaChunk is the most users one quota statement asks for; statements
// are prepared for 1, 2, 4 … quotaChunk users, the ids padded with 0 (no
// user), so that a few statements serve every batch.
const quotaChunk = 64

// UsedTodayMany returns, in one statement per quotaChunk users, the likes
// and rewinds each of ids used on day (UsedToday for many users; a user
// without a row is absent: nothing used).
func (s *Store) UsedTodayMany(ctx context.Context, day string, ids []int64) (map[int64]QuotaUse, error) {
	out := make(map[int64]QuotaUse, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), quotaChunk)
		if err := s.usedTodayChunk(ctx, day, ids[:n], out); err != nil {
			return nil, fmt.Errorf("store: quotas of %d users: %w", len(ids), classify(err))
		}
		ids = ids[n:]
	}
	return out, nil
}

func (s *Store) usedTodayChunk(ctx context.Context, day string, ids []int64, out map[int64]QuotaUse) error {
	size := 1
	for size < len(ids) {
		size *= 2
	}
	query := s.sql.quotas[bits.TrailingZeros(uint(size))].get(func() string {
		marks := strings.TrimSuffix(strings.Repeat("?, ", size), ", ")
		return s.db.NewSelect().Model((*DailyQuota)(nil)).
			Where("?TableAlias.day = ? AND ?TableAlias.user_id IN (?)", bun.Safe("?"), bun.Safe(marks)).String()
	})
	args := make([]any, 1+size)
	args[0] = day
	for i := range size {
		args[1+i] = int64(0)
		if i < len(ids) {
			args[1+i] = ids[i]
		}
	}
	var qs []DailyQuota
	if err := s.queryPrepared(ctx, query, &qs, args...); err != nil {
		return err
	}
	for _, q := range qs {
		out[q.UserID] = QuotaUse{Likes: q.Likes, Rewinds: q.Rewinds}
	}
	return nil
}
