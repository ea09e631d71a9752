package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/phone"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// GrantVIP is `swiper vip grant`, run as its own process next to the
// servers: it sets the VIP level of the user registered with phone (E.164)
// until expires (nil with level 0: VIP removed), on a connection of its
// own to the database of cfg, and returns the user's id. Every server sees
// the change on its next request: with Redis the cached copies are dropped
// here (InvalidateUser); embedded, the server notices the commit of
// another process itself (store.UsersChanged, followed by its caches).
func GrantVIP(ctx context.Context, cfg config.Config, log *slog.Logger, e164 string, level int, expires *time.Time) (int64, error) {
	dialect, dsn, err := cfg.Database()
	if err != nil {
		return 0, err
	}
	st, err := store.Open(ctx, dialect, dsn)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.Migrate(ctx, log); err != nil {
		return 0, err
	}
	u, err := st.UserByPhone(ctx, e164)
	if errors.Is(err, model.ErrNotFound) {
		return 0, fmt.Errorf("no user is registered with phone %s", phone.Mask(e164))
	}
	if err != nil {
		return 0, err
	}
	if err := st.SetVIP(ctx, u.ID, level, expires); err != nil {
		return 0, err
	}
	// Cached copies of the user carry the old level; drop them.
	if err := InvalidateUser(ctx, cfg, log, u.ID); err != nil {
		return 0, fmt.Errorf("VIP set, but the cache could not be invalidated (it expires within an hour): %w", err)
	}
	return u.ID, nil
}
