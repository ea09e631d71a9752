package store

import (
	"context"
	"fmt"
	"strconv"
)

// Visible reports whether the user other exists for viewer: the one
// check behind "unknown to me" (1003) on every route that takes another
// user's id. other is visible when their row exists, they are neither
// banned nor deleted, and there is no block between the two either way.
// One's own account is visible to oneself unless it is deleted or banned.
func (s *Store) Visible(ctx context.Context, viewer, other int64) (bool, error) {
	cond := shownSQL("u")
	if viewer != other {
		cond += " AND " + notBlockedSQL(strconv.FormatInt(viewer, 10), "u.id")
	}
	n, err := s.db.NewSelect().TableExpr("users AS u").Where("u.id = ?", other).Where(cond).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("store: visible %d to %d: %w", other, viewer, classify(err))
	}
	return n > 0, nil
}

// PeerVisibleSQL is Visible as an SQL condition, for the list queries of
// other modules (conversations): the user whose id is the SQL expression
// other (a column, e.g. "c.other_id") is visible to viewer. It reads the
// users row and the blocks primary key and its reverse index; it takes
// no arguments.
func PeerVisibleSQL(viewer int64, other string) string {
	return "EXISTS (SELECT 1 FROM users AS pv WHERE pv.id = " + other + " AND " + shownSQL("pv") + ") AND " +
		notBlockedSQL(strconv.FormatInt(viewer, 10), other)
}

// shownSQL is the condition on the users row alias of a user others can
// see at all: not banned, not deleted.
func shownSQL(alias string) string {
	return alias + ".banned_at IS NULL AND " + alias + ".deleted_at IS NULL"
}

// deckShownSQL is shownSQL for decks: also not hidden by open reports.
func deckShownSQL(alias string) string {
	return shownSQL(alias) + " AND NOT " + alias + ".hidden"
}

// notBlockedSQL is the condition that neither of the users whose ids are
// the SQL expressions a and b blocked the other (two primary-key probes of
// blocks).
func notBlockedSQL(a, b string) string {
	return "NOT EXISTS (SELECT 1 FROM blocks AS bk WHERE bk.blocker_id = " + a + " AND bk.blocked_id = " + b + ") AND " +
		"NOT EXISTS (SELECT 1 FROM blocks AS bk WHERE bk.blocker_id = " + b + " AND bk.blocked_id = " + a + ")"
}
