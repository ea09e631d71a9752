package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/ncruces/go-sqlite3/driver"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/mysqldialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// This file holds everything that differs between SQLite and MySQL: the
// other files of the package never look at the dialect themselves
// (TestDialectDifferencesLiveInDialectGo checks it).

// openPools opens the connection pools of dialect: db, and rc for
// inReadCommittedTx (db itself on SQLite, its own pool on MySQL).
func openPools(dialect, dsn string) (db, rc *bun.DB, err error) {
	switch dialect {
	case config.SQLite:
		if dir := filepath.Dir(dsn); dir != "." && dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, nil, fmt.Errorf("store: create %s: %w", dir, err)
			}
		}
		sqldb, err := sql.Open("sqlite3", sqliteURI(dsn)+"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		if err != nil {
			return nil, nil, fmt.Errorf("store: open sqlite: %w", err)
		}
		sqldb.SetMaxOpenConns(8)
		sqldb.SetMaxIdleConns(8)
		sqldb.SetConnMaxIdleTime(0)
		db = bun.NewDB(sqldb, sqlitedialect.New())
		return db, db, nil
	case config.MySQL:
		sqldb, err := sql.Open("mysql", dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("store: open mysql: %w", err)
		}
		sqldb.SetMaxOpenConns(64)
		sqldb.SetMaxIdleConns(64)
		sqldb.SetConnMaxLifetime(30 * time.Minute)
		db = bun.NewDB(sqldb, mysqldialect.New())
		if rc, err = openReadCommitted(dsn); err != nil {
			db.Close()
			return nil, nil, err
		}
		return db, rc, nil
	}
	return nil, nil, fmt.Errorf("store: unknown dialect %q", dialect)
}

// sqliteURI is the URI every SQLite connection of a database file opens
// (also a test's own connection, storetest): waits up to 10 s for a lock,
// foreign keys on.
func sqliteURI(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
}

// gooseDialect is the migration dialect, and on MySQL the lock table that
// serialises replicas migrating at once.
func (s *Store) gooseDialect() (goose.Dialect, []goose.ProviderOption, error) {
	if s.dialect != config.MySQL {
		return goose.DialectSQLite3, nil, nil
	}
	locker, err := lock.NewMySQLTableLocker(lock.WithTableLockTimeout(500*time.Millisecond, 600))
	if err != nil {
		return "", nil, fmt.Errorf("store: migration lock: %w", err)
	}
	return goose.DialectMySQL, []goose.ProviderOption{goose.WithLocker(locker)}, nil
}

// openReadCommitted opens the MySQL pool of inReadCommittedTx. Its
// connections are few: one process runs one swipe batch at a time. They
// accept multi-statement queries, with which a swipe batch sends its
// writes in one round trip (SwipeTx.Record); every statement sent on this
// pool is built by the store from numbers and escaped strings.
func openReadCommitted(dsn string) (*bun.DB, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: mysql dsn: %w", err)
	}
	cfg.MultiStatements = true
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

// classify translates driver errors into store errors: unique violations
// become ErrConflict, lost connections backend.ErrUnavailable.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return errors.Join(ErrNotFound, err)
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1062:
			return errors.Join(ErrConflict, err)
		case 1040, 1053, 1205, // too many connections, shutdown, lock wait timeout
			1213, // a deadlock (or a Galera certification conflict) that outlived runTx's retries
			1047: // a Galera node that is not synced with its cluster
			return backend.Unavailable(err)
		}
		return err
	}
	if errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) {
		return backend.Unavailable(err)
	}
	msg := err.Error()
	if strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "constraint failed: UNIQUE") {
		return errors.Join(ErrConflict, err)
	}
	if strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY") {
		return backend.Unavailable(err)
	}
	return backend.Classify(err)
}

// isRetryable reports deadlocks and serialization failures worth a retry.
func isRetryable(err error) bool {
	if errors.Is(err, errRaced) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	return false
}

// errRaced marks a transaction that lost a race it can only see by failing
// (a row read as absent was inserted meanwhile): inTx runs it again.
var errRaced = errors.New("store: raced; retry")

// isDuplicate reports a unique-key violation.
func isDuplicate(err error) bool {
	return errors.Is(classify(err), ErrConflict)
}

// forUpdate locks the selected rows on MySQL; SQLite transactions are
// IMMEDIATE, so the whole database is already locked for writing.
func (s *Store) forUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if s.dialect == config.MySQL {
		return q.For("UPDATE")
	}
	return q
}

// shareLockSQL ends a SELECT that locks the rows it reads in share mode
// on MySQL (writers of those rows wait for the reader's commit, readers do
// not wait for each other); SQLite transactions are IMMEDIATE already.
func (s *Store) shareLockSQL() string {
	if s.dialect == config.MySQL {
		return " LOCK IN SHARE MODE"
	}
	return ""
}

// forUpdateSQL is forUpdate for statements written as text.
func (s *Store) forUpdateSQL() string {
	if s.dialect == config.MySQL {
		return " FOR UPDATE"
	}
	return ""
}

// byPrimaryKey follows a table name in a SELECT or an UPDATE to make MySQL
// read it by its primary key (its cost model prefers a covering secondary index for
// a few lookups of (a, b) points even when that index reads all the rows
// of each b).
func (s *Store) byPrimaryKey() string {
	if s.dialect == config.MySQL {
		return " FORCE INDEX (PRIMARY)"
	}
	return ""
}

// insertIgnore starts an INSERT that skips rows whose key exists.
func (s *Store) insertIgnore() string {
	if s.dialect == config.MySQL {
		return "INSERT IGNORE INTO "
	}
	return "INSERT OR IGNORE INTO "
}

// upsertAdd ends a multi-row INSERT so that a row whose key (the columns
// of the primary key) exists gets the inserted values of cols added to its
// own instead. On MySQL the existing rows are locked exclusively (an
// INSERT IGNORE would lock them shared, and two transactions upgrading
// shared locks on one row deadlock each other).
func (s *Store) upsertAdd(key []string, cols ...string) string {
	var b strings.Builder
	if s.dialect == config.MySQL {
		b.WriteString(" ON DUPLICATE KEY UPDATE ")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = " + c + " + VALUES(" + c + ")")
		}
		return b.String()
	}
	b.WriteString(" ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = " + c + " + excluded." + c)
	}
	return b.String()
}

// parenthesizedUnionParts reports whether each SELECT of a UNION must be
// in parentheses: MySQL takes a part's FOR UPDATE only inside them, SQLite
// refuses them.
func (s *Store) parenthesizedUnionParts() bool { return s.dialect == config.MySQL }

// latestPerSwiper reports whether a batch reads each swiper's latest swipe
// with a part of its own (MySQL: one index dive each, where the GROUP BY
// read every swipe of every swiper). SQLite keeps one GROUP BY: it allows
// 500 parts in a UNION.
func (s *Store) latestPerSwiper() bool { return s.dialect == config.MySQL }

// multiStatements reports whether statements can be sent together, as one
// round trip (MySQL, on the pool of inReadCommittedTx: openReadCommitted).
func (s *Store) multiStatements() bool { return s.dialect == config.MySQL }

// stampsAreTimes reports whether the updated_at stamps are times (MySQL:
// a transaction can commit after a later one, so a reader looks back by
// an overlap) rather than the sequence of SQLite's one writer (which shows
// in order).
func (s *Store) stampsAreTimes() bool { return s.dialect == config.MySQL }

// dbNowSQL reads the database's clock at the precision of the stamps.
const dbNowSQL = "SELECT NOW(6)"

// canRebuildIndexes reports whether a bulk load may drop the secondary
// indexes of swipes and rebuild them afterwards (MySQL, where a sorted
// index build is several times faster than maintaining a random-order
// index row by row).
func (s *Store) canRebuildIndexes() bool { return s.dialect == config.MySQL }

// indexesPresentSQL counts which of the named indexes of table exist
// (MySQL: information_schema).
const indexesPresentSQL = "SELECT COUNT(DISTINCT index_name) FROM information_schema.statistics " +
	"WHERE table_schema = DATABASE() AND table_name = ? AND index_name IN (?)"

// dropIndexesSQL and addIndexesSQL drop and add the indexes ixs ({name,
// columns}) of table in one statement (MySQL).
func dropIndexesSQL(table string, ixs [][2]string) string {
	var b strings.Builder
	b.WriteString("ALTER TABLE " + table)
	for i, ix := range ixs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" DROP INDEX " + ix[0])
	}
	return b.String()
}

func addIndexesSQL(table string, ixs [][2]string) string {
	var b strings.Builder
	b.WriteString("ALTER TABLE " + table)
	for i, ix := range ixs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" ADD KEY " + ix[0] + " (" + ix[1] + ")")
	}
	return b.String()
}

// serverRefused reports an error the database server answered with (as
// opposed to a lost connection or a timeout, after which a statement may
// still be running on the server).
func serverRefused(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me)
}

// dataVersionSQL reads the data version of a connection: it changes when
// another connection (of this process or any other) committed.
const dataVersionSQL = "PRAGMA data_version"

// openWatch opens the one-connection pool that follows the data version
// (changes.go), or nil where there is none to follow.
func openWatch(dialect, dsn string) (*sql.DB, error) {
	if dialect != config.SQLite {
		return nil, nil
	}
	db, err := sql.Open("sqlite3", sqliteURI(dsn))
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	return db, nil
}

// migrationDB is the connection migrations run on. On MySQL it is one of
// its own without the pools' read and write timeouts: a migration that
// rewrites a big table (00014 reads every like of swipes) outlasts them,
// and MySQL DDL is not transactional, so a timed-out migration would be
// left half applied.
func (s *Store) migrationDB() (*sql.DB, error) {
	if s.dialect != config.MySQL {
		return s.db.DB, nil
	}
	dsn, err := migrationDSN(s.dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return db, nil
}

// migrationDSN is dsn without its read and write timeouts.
func migrationDSN(dsn string) (string, error) {
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		return "", fmt.Errorf("store: migrations: %w", err)
	}
	c.ReadTimeout, c.WriteTimeout = 0, 0
	return c.FormatDSN(), nil
}
