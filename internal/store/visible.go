package store

import (
	"context"
	"fmt"
)

// Visible reports whether the user other exists for viewer: the one
// check behind "unknown to me" (1003) on every route that takes another
// user's id.
func (s *Store) Visible(ctx context.Context, viewer, other int64) (bool, error) {
	n, err := s.db.NewSelect().Table("users").Where("id = ?", other).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("store: visible %d to %d: %w", other, viewer, classify(err))
	}
	return n > 0, nil
}
