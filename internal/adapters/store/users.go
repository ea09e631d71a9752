package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
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

// Follow is what of a user's profile follows a change of the user, in the
// same transaction.
type Follow struct {
	DatingCity   string // non-empty: the profile's new dating_city
	DatingGender string // non-empty: the new dating_gender, unless the profile is Edited
}

// UpdateUser locks the user row, lets change modify it (an error aborts with
// nothing written) and writes the editable columns back, and the profile
// columns that follow them.
func (s *Store) UpdateUser(ctx context.Context, id int64, change func(u *User) (Follow, error)) (User, error) {
	var u User
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.forUpdate(tx.NewSelect().Model(&u).Where("id = ?", id)).Scan(ctx); err != nil {
			return err
		}
		f, err := change(&u)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(&u).
			Column("nickname", "gender", "birthday", "city", "cell_lat", "cell_lng").
			WherePK().Exec(ctx); err != nil {
			return err
		}
		if f.DatingCity != "" {
			if _, err := tx.NewUpdate().Model((*Profile)(nil)).Set("dating_city = ?", f.DatingCity).
				Where("user_id = ?", id).Exec(ctx); err != nil {
				return err
			}
		}
		if f.DatingGender != "" {
			if _, err := tx.NewUpdate().Model((*Profile)(nil)).Set("dating_gender = ?", f.DatingGender).
				Where("user_id = ? AND NOT edited AND dating_gender <> ?", id, f.DatingGender).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return User{}, fmt.Errorf("store: update user %d: %w", id, classify(err))
	}
	return u, nil
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

// UpdateProfile locks the profile row, lets change modify it (validation on
// the merged result happens inside change; an error aborts with nothing
// written) and writes it back.
func (s *Store) UpdateProfile(ctx context.Context, userID int64, def Profile, change func(p *Profile) error) (Profile, error) {
	if _, err := s.Profile(ctx, userID, def); err != nil {
		return Profile{}, err
	}
	var p Profile
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := s.forUpdate(tx.NewSelect().Model(&p).Where("user_id = ?", userID)).Scan(ctx); err != nil {
			return err
		}
		if err := change(&p); err != nil {
			return err
		}
		_, err := tx.NewUpdate().Model(&p).WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		return Profile{}, fmt.Errorf("store: update profile %d: %w", userID, classify(err))
	}
	return p, nil
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

// DeckActive is a user's activity stamp, as the deck index reads it.
type DeckActive struct {
	ID       int64     `bun:"id"`
	ActiveAt time.Time `bun:"active_at"`
}

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
