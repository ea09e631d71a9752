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
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	return false
}

// forUpdate locks the selected rows on MySQL; SQLite transactions are
// IMMEDIATE, so the whole database is already locked for writing.
func (s *Store) forUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if s.dialect == config.MySQL {
		return q.For("UPDATE")
	}
	return q
}
