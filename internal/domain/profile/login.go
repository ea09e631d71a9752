package profile

import (
	"context"
	"errors"
	"fmt"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// rememberedPhones bounds the phone → user id map of a process (about 60
// bytes an entry).
const rememberedPhones = 1 << 18

// Remembered returns the id of the user of an E.164 phone if this process
// has read it from the database before (0 if not), and the keys of that
// user's cached record, for the login to read along with the code check
// (auth.Users).
//
// The map is only ever filled from the database, and the application
// never changes a user's phone nor deletes a user, so an entry stays true;
// still, LoginMe takes it only once the user's record (read through the
// user cache, which every writer invalidates) shows the same phone, so an
// entry gone stale — whatever changed the database — cannot open a session
// of another user.
func (s *Service) Remembered(phone string) (int64, []string) {
	id, ok := s.phones.Get(phone)
	if !ok {
		return 0, nil
	}
	return id, s.d.Users.Keys(id)
}

// ErrSuspended refuses the login of a suspended (banned) user.
var ErrSuspended = errors.New("profile: account suspended")

// Lookup reads the user of an E.164 phone from the database (id 0: nobody
// registered it) and whether they are suspended, and remembers the id
// (auth.Users).
func (s *Service) Lookup(ctx context.Context, phone string) (int64, bool, error) {
	u, err := s.d.Store.UserByPhone(ctx, phone)
	if errors.Is(err, model.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	s.phones.Put(phone, u.ID)
	return u.ID, u.BannedAt != nil, nil
}

// LoginMe returns the Me of the user of an E.164 phone whose code was just
// verified, registering the user on their first login, and whether it did;
// a suspended user gets ErrSuspended, from the row it read.
// remembered and read are what Remembered returned and the values of its
// keys (nil: not read yet): for a known user whose record is cached, the
// quota usage of the day is then the only read.
func (s *Service) LoginMe(ctx context.Context, phone string, remembered int64, read [][]byte) (Me, bool, error) {
	if remembered > 0 {
		r, err := s.d.Users.GetRead(ctx, remembered, read, s.loginRecord(remembered))
		if err == nil && r.User.Phone == phone {
			if r.User.BannedAt != nil {
				return Me{}, false, ErrSuspended
			}
			me, err := s.meOf(ctx, r)
			return me, false, err
		}
		if err != nil && !errors.Is(err, ErrUserNotFound) {
			return Me{}, false, err
		}
		// Not (or no longer) this phone's user: ask the database.
		s.phones.Delete(phone, remembered)
	}
	u, created, err := s.register(ctx, phone)
	if err != nil {
		return Me{}, false, err
	}
	if u.BannedAt != nil {
		return Me{}, false, ErrSuspended
	}
	if created {
		// The row was just read back from the database, and a new user has
		// no photos: nothing else to read but the (empty) quota usage. The
		// record is cached for the reads to come (the next login's too).
		r := Record{User: u}
		s.d.Users.Prime(ctx, u.ID, r)
		me, err := s.meOf(ctx, r)
		return me, true, err
	}
	// A registered user this process did not remember: register just read
	// the row by phone, so only the album is left to read, from the
	// database too (a record read through the cache would cost a cache
	// read, and on a miss the row again and a cache fill: logins are rare
	// per user, so the record of one logging in is seldom cached).
	ps, err := s.d.Store.Photos(ctx, u.ID)
	if err != nil {
		return Me{}, false, err
	}
	me, err := s.meOf(ctx, Record{User: u, Photos: ps})
	return me, false, err
}

// RecordKeys are the keys of user id's cached record, for a caller that
// reads them along with its own (GET /users/me: with the session).
func (s *Service) RecordKeys(id int64) []string { return s.d.Users.Keys(id) }

// MeRead is Me with the values of RecordKeys(id) already read (nil: not
// read): a cached record costs no other round trip.
func (s *Service) MeRead(ctx context.Context, id int64, read [][]byte) (Me, error) {
	r, err := s.d.Users.GetRead(ctx, id, read, s.loginRecord(id))
	if err != nil {
		return Me{}, err
	}
	return s.meOf(ctx, r)
}

// loginRecord reads the record of user id from the database for a login,
// with the store's prepared statements (a login's record is the hottest
// read; other reads of it go through the plain queries of record).
func (s *Service) loginRecord(id int64) func(ctx context.Context) (Record, error) {
	return func(ctx context.Context) (Record, error) {
		u, ps, err := s.d.Store.UserAndPhotos(ctx, id)
		if errors.Is(err, model.ErrNotFound) {
			return Record{}, fmt.Errorf("%w: %d", ErrUserNotFound, id)
		}
		if err != nil {
			return Record{}, err
		}
		return Record{User: u, Photos: ps}, nil
	}
}
