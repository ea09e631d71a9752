// Package store is Swiper's one database implementation (bun) for SQLite
// and MySQL/MariaDB. Dialect differences live in dialect.go; schema changes
// are embedded goose migrations per dialect.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	_ "github.com/go-sql-driver/mysql" // MySQL driver
	_ "github.com/ncruces/go-sqlite3/driver"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/swiper-social/swiper/internal/backend"
	"github.com/swiper-social/swiper/internal/config"
)

// Errors of the store. Driver errors are translated at this boundary.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: conflict")
	ErrFull     = errors.New("store: limit reached")
)

//go:embed migrations
var migrationsFS embed.FS

// Store is the database.
type Store struct {
	db      *bun.DB
	dialect string
	stmts   preparedStmts // prepared.go
	sql     hotSQL
}

// Open connects to the database named by dialect and dsn (see config.Config.Database).
func Open(ctx context.Context, dialect, dsn string) (*Store, error) {
	var db *bun.DB
	switch dialect {
	case config.SQLite:
		if dir := filepath.Dir(dsn); dir != "." && dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: create %s: %w", dir, err)
			}
		}
		sqldb, err := sql.Open("sqlite3", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		sqldb.SetMaxOpenConns(8)
		sqldb.SetMaxIdleConns(8)
		sqldb.SetConnMaxIdleTime(0)
		db = bun.NewDB(sqldb, sqlitedialect.New())
	case config.MySQL:
		sqldb, err := sql.Open("mysql", dsn)
		if err != nil {
			return nil, fmt.Errorf("store: open mysql: %w", err)
		}
		sqldb.SetMaxOpenConns(64)
		sqldb.SetMaxIdleConns(64)
		sqldb.SetConnMaxLifetime(30 * time.Minute)
		db = bun.NewDB(sqldb, mysqldialect.New())
	default:
		return nil, fmt.Errorf("store: unknown dialect %q", dialect)
	}
	s := &Store{db: db, dialect: dialect}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the bun handle to sibling packages' tests and the seeder.
func (s *Store) DB() *bun.DB { return s.db }

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
	gd := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.dialect == config.MySQL {
		gd = goose.DialectMySQL
		locker, err := lock.NewMySQLTableLocker(lock.WithTableLockTimeout(500*time.Millisecond, 600))
		if err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithLocker(locker))
	}
	p, err := goose.NewProvider(gd, s.db.DB, sub, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", classify(err))
	}
	for _, r := range res {
		log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	return nil
}

// inTx runs fn in a transaction (IMMEDIATE on SQLite, so writers serialise),
// retrying on deadlocks.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return s.inTxWith(ctx, nil, fn)
}

// inTxWith is inTx with transaction options (nil: the database's defaults).
func (s *Store) inTxWith(ctx context.Context, opts *sql.TxOptions, fn func(ctx context.Context, tx bun.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = s.db.RunInTx(ctx, opts, fn)
		if err == nil || !isRetryable(err) {
			return classify(err)
		}
		select {
		case <-ctx.Done():
			return classify(err)
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
	return classify(err)
}
