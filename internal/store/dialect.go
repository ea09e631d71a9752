package store

import (
	"database/sql"
	"errors"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/backend"
	"github.com/swiper-social/swiper/internal/config"
)

// This file holds everything that differs between SQLite and MySQL.

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
		case 1040, 1053, 1205: // too many connections, shutdown, lock wait timeout
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

// forUpdateSQL is forUpdate for statements written as text.
func (s *Store) forUpdateSQL() string {
	if s.dialect == config.MySQL {
		return " FOR UPDATE"
	}
	return ""
}

// byPrimaryKey follows a table name in a SELECT to make MySQL read it by
// its primary key (its cost model prefers a covering secondary index for
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
