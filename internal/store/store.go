// Package store is Swiper's one database implementation (bun) for SQLite
// and MySQL/MariaDB. Dialect differences live in dialect.go; schema changes
// are embedded goose migrations per dialect.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/go-sql-driver/mysql"
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
	rc      *bun.DB // the pool of inReadCommittedTx: db on SQLite, its own on MySQL
	dialect string
	stmts   preparedStmts // prepared.go
	sql     hotSQL
}

// Open connects to the database named by dialect and dsn (see config.Config.Database).
func Open(ctx context.Context, dialect, dsn string) (*Store, error) {
	var db, rc *bun.DB
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
		if rc, err = openReadCommitted(dsn); err != nil {
			db.Close()
			return nil, err
		}
	default:
		return nil, fmt.Errorf("store: unknown dialect %q", dialect)
	}
	if rc == nil {
		rc = db
	}
	s := &Store{db: db, rc: rc, dialect: dialect}
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
	err := s.db.Close()
	if s.rc != s.db {
		err = errors.Join(err, s.rc.Close())
	}
	return err
}

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
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.RunInTx(ctx, nil, fn)
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

// openReadCommitted opens the MySQL pool of inReadCommittedTx. Its
// connections are few: one process runs one swipe batch at a time.
func openReadCommitted(dsn string) (*bun.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: mysql dsn: %w", err)
	}
	base, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("store: mysql: %w", err)
	}
	sqldb := sql.OpenDB(sessionConnector{base, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"})
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	sqldb.SetConnMaxLifetime(30 * time.Minute)
	return bun.NewDB(sqldb, mysqldialect.New()), nil
}

// sessionConnector runs a statement on each new connection (portable
// across MySQL and MariaDB, unlike the names of their session variables).
type sessionConnector struct {
	driver.Connector
	setup string
}

func (c sessionConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, errors.New("store: the mysql driver cannot set up a session")
	}
	if _, err := ex.ExecContext(ctx, c.setup, nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: %s: %w", c.setup, err)
	}
	return conn, nil
}
