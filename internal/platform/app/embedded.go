package app

import (
	"context"
	"fmt"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/otp"
)

// embeddedState opens the embedded path's durable state in the SQLite
// database file at path (the store's migrations made its tables): the
// kv store of sessions and rate-limit counters, and the code store, which
// stores a login's session in the transaction that consumes its code. So a
// restart logs nobody out and forgets no lock or counter. Its own pool on
// the file waits for the store's writers like theirs wait for each other.
func (a *App) embeddedState(ctx context.Context, path string, p otp.Policy) (kv.Store, otp.Store, error) {
	db, err := kv.OpenSQLiteDB(path)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %w", err)
	}
	a.closers = append(a.closers, db.Close)
	sessions, err := kv.NewSQLite(ctx, db, a.opts.Clock)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %w", err)
	}
	a.closers = append(a.closers, sessions.Close)
	codes, err := otp.NewSQLite(ctx, db, sessions, p)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %w", err)
	}
	a.closers = append(a.closers, codes.Close)
	return sessions, codes, nil
}
