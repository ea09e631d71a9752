package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// Safety and the account (API.md §3): blocks, reports, bans, account
// deletion and export. The rules are the safety module's; these are its
// rows.

// BlockRow is a row of blocks.
type BlockRow struct {
	bun.BaseModel `bun:"table:blocks"`

	BlockerID int64     `bun:"blocker_id,pk"`
	BlockedID int64     `bun:"blocked_id,pk"`
	CreatedAt time.Time `bun:"created_at"`
}

// The safety module's rows are the domain's plain types (package model);
// these names are for the store's own code.
type (
	ReportRow     = model.Report // a row of reports
	ReportReq     = model.ReportReq
	ReportLine    = model.ReportLine
	BlockOutcome  = model.BlockOutcome
	BlockedUser   = model.BlockedUser
	Deleted       = model.Deleted // what MarkDeleted found of a deleted account
	Export        = model.Export
	ExportSwipe   = model.ExportSwipe
	ExportMatch   = model.ExportMatch
	ExportMessage = model.ExportMessage
	ExportBlock   = model.ExportBlock
	ExportReport  = model.ExportReport
)

// lockPair writes the like_pairs row of a and b (adding nothing): every
// like between the two writes it too and reads it back (SwipeTx.Record),
// so a block and a crossing like serialise on it, and a block racing a
// mutual like never leaves a match.
func (s *Store) lockPair(ctx context.Context, tx bun.Tx, a, b int64) error {
	x, y := pair(a, b)
	_, err := tx.ExecContext(ctx, "INSERT INTO like_pairs (user_a, user_b, likes) VALUES ("+
		strconv.FormatInt(x, 10)+","+strconv.FormatInt(y, 10)+",0)"+s.upsertAdd([]string{"user_a", "user_b"}, "likes"))
	return err
}

// shownIn reports, in tx, whether user id exists and is neither banned nor
// deleted.
func shownIn(ctx context.Context, tx bun.Tx, id int64) (bool, error) {
	n, err := tx.NewSelect().TableExpr("users AS u").Where("u.id = ?", id).Where(shownSQL("u")).Count(ctx)
	return n > 0, err
}

// blockIn records blocker's block of blocked in tx (a second block keeps
// the first) and removes their match with its conversation; the pair row
// is locked first.
func (s *Store) blockIn(ctx context.Context, tx bun.Tx, blocker, blocked int64, at time.Time) (bool, error) {
	if err := s.lockPair(ctx, tx, blocker, blocked); err != nil {
		return false, err
	}
	row := BlockRow{BlockerID: blocker, BlockedID: blocked, CreatedAt: at}
	if _, err := tx.NewInsert().Model(&row).Ignore().Exec(ctx); err != nil {
		return false, err
	}
	// The match goes with its conversation (messages.go).
	if err := deleteConversationIn(ctx, tx, blocker, blocked); err != nil {
		return false, err
	}
	a, b := pair(blocker, blocked)
	res, err := tx.NewDelete().Model((*matchRow)(nil)).Where("user_a = ? AND user_b = ?", a, b).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Block records blocker's block of blocked and removes the match of the
// two, in one transaction. ErrNotFound when blocked does not exist or is
// banned or deleted. Blocking twice is fine (the first time stays).
func (s *Store) Block(ctx context.Context, blocker, blocked int64, at time.Time) (BlockOutcome, error) {
	var out BlockOutcome
	err := s.inReadCommittedTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out = BlockOutcome{}
		ok, err := shownIn(ctx, tx, blocked)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		out.Unmatched, err = s.blockIn(ctx, tx, blocker, blocked, at)
		return err
	})
	if err != nil {
		return BlockOutcome{}, fmt.Errorf("store: block %d→%d: %w", blocker, blocked, classify(err))
	}
	return out, nil
}

// Unblock removes blocker's block of blocked: ErrNotFound when there is
// none (or blocked is banned or deleted: unknown to everyone).
func (s *Store) Unblock(ctx context.Context, blocker, blocked int64) error {
	res, err := s.db.NewDelete().Model((*BlockRow)(nil)).
		Where("blocker_id = ? AND blocked_id = ?", blocker, blocked).
		Where("EXISTS (SELECT 1 FROM users AS u WHERE u.id = ? AND "+shownSQL("u")+")", blocked).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: unblock %d→%d: %w", blocker, blocked, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: unblock %d→%d: %w", blocker, blocked, ErrNotFound)
	}
	return nil
}

// Blocked returns one page of the users blocker blocked (newest first; ties
// by higher id), leaving out those banned or deleted, and their total.
func (s *Store) Blocked(ctx context.Context, blocker int64, limit, offset int) ([]BlockedUser, int, error) {
	base := func() *bun.SelectQuery {
		return s.db.NewSelect().TableExpr("blocks AS b").Join("JOIN users AS u ON u.id = b.blocked_id").
			Where("b.blocker_id = ?", blocker).Where(shownSQL("u"))
	}
	total, err := base().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("store: blocked by %d: %w", blocker, classify(err))
	}
	var out []BlockedUser
	if err := base().ColumnExpr("u.id, u.nickname, u.avatar, b.created_at AS blocked_at").
		OrderExpr("b.created_at DESC, b.blocked_id DESC").Limit(int64(limit)).Offset(int64(offset)).Scan(ctx, &out); err != nil {
		return nil, 0, fmt.Errorf("store: blocked by %d: %w", blocker, classify(err))
	}
	return out, int(total), nil
}

// BlockedPartners returns everyone user id blocked or was blocked by (what
// decks leave out both ways).
func (s *Store) BlockedPartners(ctx context.Context, id int64) ([]int64, error) {
	var out []int64
	if err := s.db.NewRaw("SELECT blocked_id FROM blocks WHERE blocker_id = ? UNION SELECT blocker_id FROM blocks WHERE blocked_id = ?",
		id, id).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: blocks of %d: %w", id, classify(err))
	}
	return out, nil
}

// Report records a report in one transaction: it uses one of the
// reporter's reports of the day (ErrFull when used up: a conditional
// counter), blocks the reported user as Block does, and marks the reported
// user hidden when open reports now come from at least HideAt different
// reporters. ErrNotFound when the reported user does not exist or is
// banned or deleted. It returns the report's id.
func (s *Store) Report(ctx context.Context, r ReportReq) (int64, BlockOutcome, error) {
	rep := r.Report
	q := DailyQuota{UserID: rep.ReporterID, Day: r.Day}
	if _, err := s.db.NewInsert().Model(&q).Ignore().Exec(ctx); err != nil {
		return 0, BlockOutcome{}, fmt.Errorf("store: report: %w", classify(err))
	}
	var id int64
	var out BlockOutcome
	err := s.inReadCommittedTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out = BlockOutcome{}
		ok, err := shownIn(ctx, tx, rep.ReportedID)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotFound
		}
		res, err := tx.NewUpdate().Model((*DailyQuota)(nil)).Set("reports = reports + 1").
			Where("user_id = ? AND day = ? AND reports < ?", rep.ReporterID, r.Day, r.MaxPerDay).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrFull
		}
		row := rep
		row.ID = 0
		if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
			return err
		}
		id = row.ID
		if out.Unmatched, err = s.blockIn(ctx, tx, rep.ReporterID, rep.ReportedID, rep.CreatedAt); err != nil {
			return err
		}
		var reporters int
		if err := tx.NewRaw("SELECT COUNT(DISTINCT reporter_id) FROM reports WHERE reported_id = ? AND resolved_at IS NULL",
			rep.ReportedID).Scan(ctx, &reporters); err != nil {
			return err
		}
		if reporters >= r.HideAt {
			res, err := tx.NewUpdate().Model((*User)(nil)).Set("hidden = ?", true).
				Where("id = ? AND NOT hidden", rep.ReportedID).Exec(ctx)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			out.Hidden = n > 0
		}
		return nil
	})
	if err != nil {
		return 0, BlockOutcome{}, fmt.Errorf("store: report %d→%d: %w", rep.ReporterID, rep.ReportedID, classify(err))
	}
	return id, out, nil
}

// Reports lists the reports whose status is open ("open"), resolved
// ("resolved") or either ("all"), oldest first, with the reported user's
// phone.
func (s *Store) Reports(ctx context.Context, status string) ([]ReportLine, error) {
	q := s.db.NewSelect().TableExpr("reports AS r").Join("LEFT JOIN users AS u ON u.id = r.reported_id").
		ColumnExpr("r.*, COALESCE(u.phone, '') AS phone").OrderExpr("r.id")
	switch status {
	case "open":
		q = q.Where("r.resolved_at IS NULL")
	case "resolved":
		q = q.Where("r.resolved_at IS NOT NULL")
	}
	var out []ReportLine
	if err := q.Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: reports: %w", classify(err))
	}
	return out, nil
}

// ResolveReports resolves report id and every other open report of the
// same reported user with action and note, and lets the user back into
// decks. It returns the reported user's id and how many reports it
// resolved: ErrNotFound when there is no report id, ErrConflict when it
// and the others of its user are resolved already.
func (s *Store) ResolveReports(ctx context.Context, id int64, action, note string, at time.Time) (int64, int, error) {
	var reported int64
	var n int64
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model((*ReportRow)(nil)).Column("reported_id").Where("id = ?", id).Scan(ctx, &reported); err != nil {
			return err
		}
		res, err := tx.NewUpdate().Model((*ReportRow)(nil)).Set("resolved_at = ?", at).Set("resolution = ?", action).
			Set("resolution_note = ?", note).Where("reported_id = ? AND resolved_at IS NULL", reported).Exec(ctx)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		if n == 0 {
			return ErrConflict
		}
		_, err = tx.NewUpdate().Model((*User)(nil)).Set("hidden = ?", false).Where("id = ? AND hidden", reported).Exec(ctx)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: resolve report %d: %w", id, classify(err))
	}
	return reported, int(n), nil
}

// SetBanned bans user id (reason kept for operators) or, with banned nil,
// lifts the ban. ErrNotFound when there is no such (undeleted) user.
func (s *Store) SetBanned(ctx context.Context, id int64, banned *time.Time, reason string) error {
	res, err := s.db.NewUpdate().Model((*User)(nil)).Set("banned_at = ?", banned).Set("ban_reason = ?", reason).
		Where("id = ? AND deleted_at IS NULL", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: ban %d: %w", id, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: ban %d: %w", id, ErrNotFound)
	}
	return nil
}

// MatchPartners returns everyone user id is matched with.
func (s *Store) MatchPartners(ctx context.Context, id int64) ([]int64, error) {
	var out []int64
	if err := s.db.NewRaw("SELECT user_b FROM matches WHERE user_a = ? UNION ALL SELECT user_a FROM matches WHERE user_b = ?",
		id, id).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: matches of %d: %w", id, classify(err))
	}
	return out, nil
}

// MarkDeleted turns user id into a tombstone in one short transaction: the
// row stays (every replica's deck index sees it change and drops the
// user) without any personal data — the phone is freed for a new
// registration, names and location cleared — and it is unknown to
// everyone from the commit on. Its profile, album and score go with it.
// ErrNotFound when there is no such user or it is deleted already.
func (s *Store) MarkDeleted(ctx context.Context, id int64, at time.Time) (Deleted, error) {
	var out Deleted
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		out = Deleted{}
		var u User
		if err := s.forUpdate(tx.NewSelect().Model(&u).Column("id", "avatar_key").
			Where("id = ? AND deleted_at IS NULL", id)).Scan(ctx); err != nil {
			return err
		}
		if u.AvatarKey != "" {
			out.MediaKeys = append(out.MediaKeys, u.AvatarKey)
		}
		var keys []string
		if err := tx.NewSelect().Model((*Photo)(nil)).Column("storage_key").Where("user_id = ?", id).Scan(ctx, &keys); err != nil {
			return err
		}
		out.MediaKeys = append(out.MediaKeys, keys...)
		if err := tx.NewRaw("SELECT user_b FROM matches WHERE user_a = ? UNION ALL SELECT user_a FROM matches WHERE user_b = ?",
			id, id).Scan(ctx, &out.Partners); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model((*User)(nil)).
			Set("deleted_at = ?", at).Set("phone = ?", "~"+strconv.FormatInt(id, 10)).
			Set("nickname = ''").Set("birthday = ''").Set("city = ''").Set("avatar = ''").Set("avatar_key = ''").
			Set("cell_lat = NULL").Set("cell_lng = NULL").Set("photo_count = 0").Set("vip_level = 0").Set("vip_expires_at = NULL").
			Where("id = ?", id).Exec(ctx); err != nil {
			return err
		}
		for _, t := range []string{"photos", "profiles", "scores"} {
			if _, err := tx.NewDelete().TableExpr(t).Where("user_id = ?", id).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Deleted{}, fmt.Errorf("store: delete user %d: %w", id, classify(err))
	}
	slices.Sort(out.MediaKeys)
	out.MediaKeys = slices.Compact(out.MediaKeys)
	return out, nil
}

// purgeSteps are the rows that refer to a user, by table and column, with
// the other column of the table's primary key (a batch reads keys, then
// deletes them by key: short statements, no long locks).
var purgeSteps = []struct{ table, col, key string }{
	{"swipes", "swiper_id", "swiped_id"},
	{"swipes", "swiped_id", "swiper_id"},
	{"matches", "user_a", "user_b"},
	{"matches", "user_b", "user_a"},
	{"like_pairs", "user_a", "user_b"},
	{"like_pairs", "user_b", "user_a"},
	{"blocks", "blocker_id", "blocked_id"},
	{"blocks", "blocked_id", "blocker_id"},
	{"reports", "reporter_id", "id"},
	{"reports", "reported_id", "id"},
	{"daily_quotas", "user_id", "day"},
	{"photos", "user_id", "id"},
	{"profiles", "user_id", "user_id"},
	{"scores", "user_id", "user_id"},
}

// PurgeUser deletes every row that refers to user id (swipes both ways,
// matches, like pairs, blocks, reports, quotas, album, profile, score), in
// batches of at most batch rows per statement, each statement its own
// transaction, so that deleting a long history holds no lock for long.
// extra runs the same way for the tables of other modules (messages):
// it deletes one batch and returns how many rows it deleted. It returns
// how many rows it deleted.
func (s *Store) PurgeUser(ctx context.Context, id int64, batch int) (int, error) {
	total := 0
	for _, st := range purgeSteps {
		for {
			var keys []any
			rows, err := s.db.QueryContext(ctx, "SELECT "+st.key+" FROM "+st.table+" WHERE "+st.col+" = ? LIMIT ?", id, batch)
			if err != nil {
				return total, fmt.Errorf("store: purge %d from %s: %w", id, st.table, classify(err))
			}
			for rows.Next() {
				var k any
				if err := rows.Scan(&k); err != nil {
					rows.Close()
					return total, fmt.Errorf("store: purge %d from %s: %w", id, st.table, classify(err))
				}
				keys = append(keys, k)
			}
			err = rows.Err()
			rows.Close()
			if err != nil {
				return total, fmt.Errorf("store: purge %d from %s: %w", id, st.table, classify(err))
			}
			if len(keys) == 0 {
				break
			}
			res, err := s.db.NewDelete().TableExpr(st.table).Where(st.col+" = ?", id).
				Where(st.key+" IN (?)", bun.In(keys)).Exec(ctx)
			if err != nil {
				return total, fmt.Errorf("store: purge %d from %s: %w", id, st.table, classify(err))
			}
			n, _ := res.RowsAffected()
			total += int(n)
			if len(keys) < batch {
				break
			}
		}
	}
	return total, nil
}

// DeletedBefore returns up to limit tombstones (MarkDeleted) older than t.
func (s *Store) DeletedBefore(ctx context.Context, t time.Time, limit int) ([]int64, error) {
	var ids []int64
	if err := s.db.NewSelect().Model((*User)(nil)).Column("id").Where("deleted_at IS NOT NULL AND deleted_at < ?", t).
		Order("deleted_at").Limit(int64(limit)).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("store: deleted users: %w", classify(err))
	}
	return ids, nil
}

// RemoveTombstone deletes the row of a deleted user (MarkDeleted), after
// PurgeUser removed what referred to it.
func (s *Store) RemoveTombstone(ctx context.Context, id int64) error {
	if _, err := s.db.NewDelete().Model((*User)(nil)).Where("id = ? AND deleted_at IS NOT NULL", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: remove user %d: %w", id, classify(err))
	}
	return nil
}

// ExportOf reads the export of user id.
func (s *Store) ExportOf(ctx context.Context, id int64) (Export, error) {
	var e Export
	steps := []func() error{
		func() error {
			return s.db.NewSelect().Model((*Swipe)(nil)).Column("swiped_id", "action", "created_at").
				Where("swiper_id = ?", id).OrderExpr("created_at, id").Scan(ctx, &e.Swipes)
		},
		func() error {
			return s.db.NewRaw("SELECT other_id, matched_at FROM (SELECT user_b AS other_id, matched_at FROM matches WHERE user_a = ? "+
				"UNION ALL SELECT user_a AS other_id, matched_at FROM matches WHERE user_b = ?) AS x ORDER BY matched_at, other_id",
				id, id).Scan(ctx, &e.Matches)
		},
		func() error {
			return s.db.NewRaw("SELECT user_a, user_b, sender_id, text, sent_at FROM messages WHERE user_a = ? "+
				"UNION ALL SELECT user_a, user_b, sender_id, text, sent_at FROM messages WHERE user_b = ? ORDER BY sent_at, user_a, user_b",
				id, id).Scan(ctx, &e.Messages)
		},
		func() error {
			return s.db.NewSelect().Model((*BlockRow)(nil)).Column("blocked_id", "created_at").
				Where("blocker_id = ?", id).OrderExpr("created_at, blocked_id").Scan(ctx, &e.Blocks)
		},
		func() error {
			return s.db.NewSelect().Model((*ReportRow)(nil)).Column("reported_id", "reason", "note", "created_at").
				Where("reporter_id = ?", id).OrderExpr("id").Scan(ctx, &e.Reports)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Export{}, fmt.Errorf("store: export %d: %w", id, classify(err))
		}
	}
	return e, nil
}
