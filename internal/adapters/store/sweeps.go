package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Periodic sweeps (run by the scheduler in internal/tasks, wired in
// internal/app). Every sweep is idempotent and bounded per run.

// ExpireVIP resets the VIP level of at most limit users whose VIP expired
// at or before now, and returns their ids (their cached copies must be
// dropped). The API already treats an expired VIP as level 0; the sweep
// makes the rows say so too. A concurrent `vip grant` wins: the update
// re-checks the expiry.
func (s *Store) ExpireVIP(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		ids = ids[:0]
		if err := tx.NewSelect().Model((*User)(nil)).Column("id").
			Where("vip_expires_at IS NOT NULL AND vip_expires_at <= ?", now).
			Order("id").Limit(int64(limit)).Scan(ctx, &ids); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		_, err := tx.NewUpdate().Model((*User)(nil)).
			Set("vip_level = 0").Set("vip_expires_at = NULL").
			Where("id IN (?) AND vip_expires_at IS NOT NULL AND vip_expires_at <= ?", bun.In(ids), now).
			Exec(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: expire vip: %w", classify(err))
	}
	return ids, nil
}

// LocalMediaKeys returns up to limit storage keys of avatars and photos
// whose URL still starts with localPrefix (e.g. "/media/"): with remote
// storage these are images whose upload has not finished (or was never
// queued). Keys are returned once even when several rows share them.
func (s *Store) LocalMediaKeys(ctx context.Context, localPrefix string, limit int) ([]string, error) {
	var avatars, photos []string
	if err := s.db.NewSelect().Model((*User)(nil)).Column("avatar_key").
		Where("avatar_key <> '' AND avatar LIKE ?", localPrefix+"%").
		Order("id").Limit(int64(limit)).Scan(ctx, &avatars); err != nil {
		return nil, fmt.Errorf("store: local media: %w", classify(err))
	}
	if err := s.db.NewSelect().Model((*Photo)(nil)).Column("storage_key").
		Where("storage_key <> '' AND url LIKE ?", localPrefix+"%").
		Order("id").Limit(int64(limit)).Scan(ctx, &photos); err != nil {
		return nil, fmt.Errorf("store: local media: %w", classify(err))
	}
	seen := make(map[string]bool, len(avatars)+len(photos))
	var keys []string
	for _, k := range append(avatars, photos...) {
		if !seen[k] && len(keys) < limit {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys, nil
}
