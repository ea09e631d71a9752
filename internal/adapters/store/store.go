// Package store is Swiper's one database implementation (bun) for SQLite
// and MySQL/MariaDB. Every difference between the two (connection setup,
// SQL spelled differently, features only one has) lives in dialect.go;
// schema changes are embedded goose migrations per dialect.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/backend"
)

// Errors of the store. Driver errors are translated at this boundary.
var (
	ErrNotFound = model.ErrNotFound
	ErrConflict = model.ErrConflict
	ErrFull     = model.ErrFull
)

//go:embed migrations
var migrationsFS embed.FS

// Store is the database.
type Store struct {
	db      *bun.DB
	rc      *bun.DB // the pool of inReadCommittedTx: db on SQLite, its own on MySQL
	dialect string
	dsn     string
	stmts   preparedStmts // prepared.go
	sql     hotSQL
	count   queryCounter // every statement sent (counter.go)
	changes changeWatch  // out-of-band writes (changes.go)
}

// Open connects to the database named by dialect and dsn (see config.Config.Database).
func Open(ctx context.Context, dialect, dsn string) (*Store, error) {
	db, rc, err := openPools(dialect, dsn)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, rc: rc, dialect: dialect, dsn: dsn}
	if s.changes.db, err = openWatch(dialect, dsn); err != nil {
		s.Close()
		return nil, err
	}
	s.db.AddQueryHook(&s.count)
	if rc != db {
		s.rc.AddQueryHook(&s.count)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the connection pools.
func (s *Store) Close() error {
	err := errors.Join(s.changes.close(), s.db.Close())
	if s.rc != s.db {
		err = errors.Join(err, s.rc.Close())
	}
	return err
}

// Dialect returns config.SQLite or config.MySQL.
func (s *Store) Dialect() string { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", backend.Unavailable(err))
	}
	return nil
}

// Migrate applies the embedded migrations; it is idempotent and safe to run
// from several replicas at once on MySQL (a lock table serialises them).
func (s *Store) Migrate(ctx context.Context, log *slog.Logger) error {
	sub, err := fs.Sub(migrationsFS, "migrations/"+s.dialect)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	gd, opts, err := s.gooseDialect()
	if err != nil {
		return err
	}
	db, err := s.migrationDB()
	if err != nil {
		return err
	}
	if db != s.db.DB {
		defer db.Close()
	}
	p, err := goose.NewProvider(gd, db, sub, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", classify(err))
	}
	for _, r := range res {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration.String())
	}
	return nil
}

// inTx runs fn in a transaction (IMMEDIATE on SQLite, so writers serialise),
// retrying on deadlocks.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.runTx(ctx, s.db, fn)
}

// inReadCommittedTx is inTx for transactions that lock only the rows they
// read: on MySQL they run at READ COMMITTED (REPEATABLE READ would also
// lock the gaps where absent rows would be, and transactions that insert
// into gaps another one locked deadlock each other). Their pool's sessions
// are READ COMMITTED from the start, which saves a round trip per
// transaction over setting the level each time. SQLite has one writer at a
// time.
func (s *Store) inReadCommittedTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.runTx(ctx, s.rc, fn)
}

func (s *Store) runTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, tx bun.Tx) error) error {
	// Deadlocks, and on a multi-writer cluster (Galera) the commits refused
	// by certification, are retried with a growing, jittered pause: many
	// requests on one hot row (one user's quota) would otherwise collide
	// again in step. What still fails is a 503 (classify), having written
	// nothing.
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		err = db.RunInTx(ctx, nil, fn)
		if err == nil || !isRetryable(err) {
			return classify(err)
		}
		pause := time.Duration(attempt+1)*5*time.Millisecond + rand.N(5*time.Millisecond)
		select {
		case <-ctx.Done():
			return classify(err)
		case <-time.After(pause):
		}
	}
	return classify(err)
}
