package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// Photos lists the album of userID by position.
func (s *Store) Photos(ctx context.Context, userID int64) ([]Photo, error) {
	var ps []Photo
	if err := s.db.NewSelect().Model(&ps).Where("user_id = ?", userID).Order("position").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: photos %d: %w", userID, classify(err))
	}
	return ps, nil
}

// AddPhoto appends p to its user's album unless it already has max photos
// (ErrFull). The user row is locked, so concurrent uploads cannot overfill.
func (s *Store) AddPhoto(ctx context.Context, p Photo, max int) (Photo, error) {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var id int64
		if err := s.forUpdate(tx.NewSelect().Model((*User)(nil)).Column("id").Where("id = ?", p.UserID)).Scan(ctx, &id); err != nil {
			return err
		}
		n, err := tx.NewSelect().Model((*Photo)(nil)).Where("user_id = ?", p.UserID).Count(ctx)
		if err != nil {
			return err
		}
		if int(n) >= max {
			return ErrFull
		}
		p.Position = int(n) + 1
		if _, err = tx.NewInsert().Model(&p).Exec(ctx); err != nil {
			return err
		}
		_, err = tx.NewUpdate().Table("users").Set("photo_count = photo_count + 1").Where("id = ?", p.UserID).Exec(ctx)
		return err
	})
	if err != nil {
		return Photo{}, fmt.Errorf("store: add photo: %w", classify(err))
	}
	return p, nil
}

// DeletePhoto removes photo id of userID (ErrNotFound when it is not theirs)
// and renumbers the rest 1..n. It returns the removed photo.
func (s *Store) DeletePhoto(ctx context.Context, userID, id int64) (Photo, error) {
	var p Photo
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var uid int64
		if err := s.forUpdate(tx.NewSelect().Model((*User)(nil)).Column("id").Where("id = ?", userID)).Scan(ctx, &uid); err != nil {
			return err
		}
		if err := tx.NewSelect().Model(&p).Where("id = ? AND user_id = ?", id, userID).Scan(ctx); err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model(&p).WherePK().Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Photo)(nil)).Set("position = position - 1").
			Where("user_id = ? AND position > ?", userID, p.Position).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewUpdate().Table("users").Set("photo_count = photo_count - 1").
			Where("id = ? AND photo_count > 0", userID).Exec(ctx)
		return err
	})
	if err != nil {
		return Photo{}, fmt.Errorf("store: delete photo %d: %w", id, classify(err))
	}
	return p, nil
}

// SetAvatar sets the avatar of userID and returns the storage key of the
// avatar it replaced ("" if none).
func (s *Store) SetAvatar(ctx context.Context, userID int64, url, key string) (oldKey string, err error) {
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var u User
		if err := s.forUpdate(tx.NewSelect().Model(&u).Column("id", "avatar_key").Where("id = ?", userID)).Scan(ctx); err != nil {
			return err
		}
		oldKey = u.AvatarKey
		_, err := tx.NewUpdate().Model((*User)(nil)).Set("avatar = ?", url).Set("avatar_key = ?", key).
			Where("id = ?", userID).Exec(ctx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: set avatar %d: %w", userID, classify(err))
	}
	return oldKey, nil
}

// MediaURLChanged points every row that stores key at url (used when an
// upload to the CDN finishes) and returns the ids of users whose avatar or
// photos changed. It is idempotent.
func (s *Store) MediaURLChanged(ctx context.Context, key, url string) ([]int64, error) {
	var ids []int64
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var users []int64
		if err := tx.NewSelect().Model((*User)(nil)).Column("id").Where("avatar_key = ?", key).Scan(ctx, &users); err != nil {
			return err
		}
		var owners []int64
		if err := tx.NewSelect().Model((*Photo)(nil)).Column("user_id").Where("storage_key = ?", key).Scan(ctx, &owners); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*User)(nil)).Set("avatar = ?", url).Where("avatar_key = ?", key).Exec(ctx); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*Photo)(nil)).Set("url = ?", url).Where("storage_key = ?", key).Exec(ctx); err != nil {
			return err
		}
		ids = append(users, owners...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: media url: %w", classify(err))
	}
	return ids, nil
}

// KeyInUse reports whether key is still some user's avatar or photo.
func (s *Store) KeyInUse(ctx context.Context, key string) (bool, error) {
	n, err := s.db.NewSelect().Model((*User)(nil)).Where("avatar_key = ?", key).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("store: key in use: %w", classify(err))
	}
	if n > 0 {
		return true, nil
	}
	n, err = s.db.NewSelect().Model((*Photo)(nil)).Where("storage_key = ?", key).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("store: key in use: %w", classify(err))
	}
	return n > 0, nil
}
