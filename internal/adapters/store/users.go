package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// Register inserts u with profile p unless a user with u.Phone exists, and
// returns the stored user and whether it was created now. Concurrent first
// logins with one phone create exactly one user.
func (s *Store) Register(ctx context.Context, u User, p Profile) (User, bool, error) {
	var created bool
	var got User
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// inTx may run this again after a deadlock: each attempt starts
		// from the caller's rows.
		created, got = false, User{}
		row, prof := u, p
		res, err := tx.NewInsert().Model(&row).Ignore().Exec(ctx)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 1 {
			created = true
			if err := tx.NewSelect().Model(&got).Where("phone = ?", u.Phone).Scan(ctx); err != nil {
				return err
			}
			prof.UserID = got.ID
			if _, err := tx.NewInsert().Model(&prof).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return User{}, false, fmt.Errorf("store: register: %w", classify(err))
	}
	if created {
		return got, true, nil // as read back in the transaction that created it
	}
	got, err = s.UserByPhone(ctx, u.Phone)
	return got, false, err
}

// User returns the user with id, or ErrNotFound.
func (s *Store) User(ctx context.Context, id int64) (User, error) {
	var u User
	if err := s.db.NewSelect().Model(&u).Where("id = ?", id).Scan(ctx); err != nil {
		return User{}, fmt.Errorf("store: user %d: %w", id, classify(err))
	}
	return u, nil
}

// UserByPhone returns the user with the E.164 phone, or ErrNotFound.
func (s *Store) UserByPhone(ctx context.Context, phone string) (User, error) {
	var u User
	if err := s.db.NewSelect().Model(&u).Where("phone = ?", phone).Scan(ctx); err != nil {
		return User{}, fmt.Errorf("store: user by phone: %w", classify(err))
	}
	return u, nil
}

// WriteUser writes a change of a user's account that the profile module
// decided, in one transaction: the account columns (nickname, gender,
// birthday, city, cell) of next that differ from was, and the columns of
// the profile pNext that differ from pWas. The write is conditional: it
// happens only while both rows still hold every such column as was and
// pWas read them; otherwise nothing is written and the error is
// ErrConflict (the caller reads again). A row with nothing to change is
// not written.
func (s *Store) WriteUser(ctx context.Context, was, next User, pWas, pNext Profile) error {
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := updateIf(ctx, tx.NewUpdate().Model((*User)(nil)).Where("id = ?", was.ID),
			accountColumns(was), accountColumns(next)); err != nil {
			return err
		}
		return updateIf(ctx, tx.NewUpdate().Model((*Profile)(nil)).Where("user_id = ?", pWas.UserID),
			profileColumns(pWas), profileColumns(pNext))
	})
	if err != nil {
		return fmt.Errorf("store: write user %d: %w", was.ID, classifyWrite(err))
	}
	return nil
}

// Profile returns the dating profile of userID; a user without one (created
// before profiles existed) gets def stored and returned.
func (s *Store) Profile(ctx context.Context, userID int64, def Profile) (Profile, error) {
	var p Profile
	err := s.db.NewSelect().Model(&p).Where("user_id = ?", userID).Scan(ctx)
	if err == nil {
		return p, nil
	}
	if cerr := classify(err); !isNotFound(cerr) {
		return Profile{}, fmt.Errorf("store: profile %d: %w", userID, cerr)
	}
	def.UserID = userID
	if _, err := s.db.NewInsert().Model(&def).Ignore().Exec(ctx); err != nil {
		return Profile{}, fmt.Errorf("store: default profile %d: %w", userID, classify(err))
	}
	if err := s.db.NewSelect().Model(&p).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return Profile{}, fmt.Errorf("store: profile %d: %w", userID, classify(err))
	}
	return p, nil
}

// WriteProfile writes the columns of next that differ from was, only
// while the profile row still holds every column as was read it
// (otherwise nothing is written: ErrConflict). Nothing to change is no
// write.
func (s *Store) WriteProfile(ctx context.Context, was, next Profile) error {
	err := updateIf(ctx, s.db.NewUpdate().Model((*Profile)(nil)).Where("user_id = ?", was.UserID),
		profileColumns(was), profileColumns(next))
	if err != nil {
		return fmt.Errorf("store: write profile %d: %w", was.UserID, classifyWrite(err))
	}
	return nil
}

// column is a column's name and value (nil is NULL) in a conditional write.
type column struct {
	name string
	v    any
}

// accountColumns are the columns of a user's row its owner changes.
func accountColumns(u User) []column {
	return []column{{"nickname", u.Nickname}, {"gender", u.Gender}, {"birthday", u.Birthday}, {"city", u.City},
		{"cell_lat", orNull(u.CellLat)}, {"cell_lng", orNull(u.CellLng)}}
}

// profileColumns are the columns of a profile row besides its user id.
func profileColumns(p Profile) []column {
	return []column{{"dating_gender", p.DatingGender}, {"dating_city", p.DatingCity},
		{"min_distance", p.MinDistance}, {"max_distance", p.MaxDistance},
		{"min_dating_age", p.MinDatingAge}, {"max_dating_age", p.MaxDatingAge},
		{"vibration", p.Vibration}, {"only_matched", p.OnlyMatched}, {"auto_play", p.AutoPlay}, {"edited", p.Edited}}
}

func orNull(c *int32) any {
	if c == nil {
		return nil
	}
	return *c
}

// errStale marks a conditional write whose row changed since it was read.
var errStale = errors.New("store: row changed since it was read")

// updateIf runs q (an UPDATE of one row) setting the columns of next that
// differ from was, where the row still holds every column of was; with
// nothing to set it runs nothing. Every set value differs from the one the
// row is matched on, so a matched row is a changed row: MySQL, which
// counts changed rows, reports it as affected too (a case-insensitive
// match there that sets what the row already holds counts as lost: the
// caller reads again and finds nothing to change).
func updateIf(ctx context.Context, q *bun.UpdateQuery, was, next []column) error {
	set := false
	for i, c := range next {
		if c.v != was[i].v {
			q = q.Set("? = ?", bun.Ident(c.name), c.v)
			set = true
		}
	}
	if !set {
		return nil
	}
	for _, c := range was {
		if c.v == nil {
			q = q.Where("? IS NULL", bun.Ident(c.name))
		} else {
			q = q.Where("? = ?", bun.Ident(c.name), c.v)
		}
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errStale
	}
	return nil
}

// classifyWrite is classify, with a lost conditional write as ErrConflict.
func classifyWrite(err error) error {
	if errors.Is(err, errStale) {
		return errors.Join(ErrConflict, err)
	}
	return classify(err)
}

// SetVIP sets the VIP level and expiry of a user.
func (s *Store) SetVIP(ctx context.Context, userID int64, level int, expiresAt *time.Time) error {
	res, err := s.db.NewUpdate().Model((*User)(nil)).
		Set("vip_level = ?", level).Set("vip_expires_at = ?", expiresAt).
		Where("id = ?", userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: set vip %d: %w", userID, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: set vip %d: %w", userID, ErrNotFound)
	}
	return nil
}

// TouchActive records that the user was active at t (at most once a minute
// is written, the condition keeps it cheap). Like TouchActiveMany it does
// not stamp the row.
func (s *Store) TouchActive(ctx context.Context, userID int64, t time.Time) error {
	_, err := s.db.NewUpdate().Model((*User)(nil)).Set("active_at = ?", t).Set(keepStamp).
		Where("id = ? AND active_at < ?", userID, t.Add(-time.Minute)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: touch %d: %w", userID, classify(err))
	}
	return nil
}

// Matched reports whether a and b are matched.
func (s *Store) Matched(ctx context.Context, a, b int64) (bool, error) {
	if a > b {
		a, b = b, a
	}
	n, err := s.db.NewSelect().Table("matches").Where("user_a = ? AND user_b = ?", a, b).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("store: matched: %w", classify(err))
	}
	return n > 0, nil
}

// InsertSeed bulk-inserts users (with their ids set) and their profiles in
// one transaction (multi-row INSERTs).
func (s *Store) InsertSeed(ctx context.Context, users []User, profiles []Profile) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&users).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(&profiles).Exec(ctx)
		return err
	})
}

// keepStamp keeps an activity write from stamping the row: activity is not
// a change the deck index or the caches follow by updated_at (every
// replica would re-read the row of every active user). On MySQL, assigning
// updated_at keeps ON UPDATE from setting it; on SQLite the trigger leaves
// updates that only move active_at forward alone (migration 00009).
const keepStamp = "updated_at = updated_at"

// TouchActiveMany sets active_at of ids to at (one statement), without
// stamping their rows: the deck index learns it from DeckActiveSince.
func (s *Store) TouchActiveMany(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.db.NewUpdate().Model((*User)(nil)).Set("active_at = ?", at).Set(keepStamp).
		Where("id IN (?) AND active_at < ?", bun.In(ids), at).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: touch %d users: %w", len(ids), classify(err))
	}
	return nil
}

// DeckActive is a user's activity stamp, as the deck index reads it
// (model.DeckActive).
type DeckActive = model.DeckActive

// DeckActiveSince returns the users active after since (one range of the
// active_at index, which covers the ids): what moves a user up an
// activity band of the deck, now that activity does not stamp the row.
func (s *Store) DeckActiveSince(ctx context.Context, since time.Time) ([]DeckActive, error) {
	var out []DeckActive
	if err := s.db.NewRaw("SELECT id, active_at FROM users WHERE active_at > ?", since).Scan(ctx, &out); err != nil {
		return nil, fmt.Errorf("store: active since %s: %w", since.Format(time.RFC3339), classify(err))
	}
	return out, nil
}

// MaxUserID returns the highest user id (0 without users): the seeder
// numbers new users after it.
func (s *Store) MaxUserID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.NewSelect().Model((*User)(nil)).ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("store: max user id: %w", classify(err))
	}
	return id, nil
}
