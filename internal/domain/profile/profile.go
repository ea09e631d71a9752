// Package profile holds the user module: registration defaults, the owner's
// account and dating preferences, avatar and photo album, and the Card other
// users see.
package profile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/media"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/phone"
	"github.com/swiper-social/swiper/internal/domain/vip"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Errors of the service.
var (
	ErrUserNotFound  = errors.New("profile: user not found")      // 1003
	ErrPhotoNotFound = errors.New("profile: photo not found")     // 4000
	ErrAlbumFull     = errors.New("profile: photo album is full") // 1012, as an *AlbumFullError
)

// PermissionError is returned when the caller's VIP level lacks Permission (3001).
type PermissionError struct{ Permission string }

func (e *PermissionError) Error() string { return "profile: needs VIP permission " + e.Permission }

// QuotaCounter tells how many likes and rewinds a user used today; the
// social module provides it.
type QuotaCounter interface {
	UsedToday(ctx context.Context, userID int64, now time.Time) (likes, rewinds int, err error)
}

// Store is what the service reads and writes in the database
// (*store.Store implements it).
type Store interface {
	Register(ctx context.Context, u model.User, p model.Profile) (model.User, bool, error)
	User(ctx context.Context, id int64) (model.User, error)
	UserByPhone(ctx context.Context, phone string) (model.User, error)
	UserAndPhotos(ctx context.Context, id int64) (model.User, []model.Photo, error)
	Users(ctx context.Context, ids []int64) (map[int64]model.User, error)
	Profile(ctx context.Context, userID int64, def model.Profile) (model.Profile, error)
	// WriteUser and WriteProfile write the rows as changed from was only
	// while they still hold what was read (else model.ErrConflict).
	WriteUser(ctx context.Context, was, next model.User, pWas, pNext model.Profile) error
	WriteProfile(ctx context.Context, was, next model.Profile) error
	CardFacts(ctx context.Context, viewer int64, ids []int64) (map[int64]model.CardFact, error)
	Photos(ctx context.Context, userID int64) ([]model.Photo, error)
	PhotosOf(ctx context.Context, ids []int64) (map[int64][]model.Photo, error)
	AddPhoto(ctx context.Context, p model.Photo, max int) (model.Photo, error)
	DeletePhoto(ctx context.Context, userID, id int64) (model.Photo, error)
	SetAvatar(ctx context.Context, userID int64, url, key string) (oldKey string, err error)
	LocalMediaKeys(ctx context.Context, localPrefix string, limit int) ([]string, error)
	KeyInUse(ctx context.Context, key string) (bool, error)
	MediaURLChanged(ctx context.Context, key, url string) ([]int64, error)
}

// RecordCache reads users' Records through a cache shared by the replicas
// (cache.Cache[Record]); every write through the service invalidates.
type RecordCache interface {
	// Get returns id's Record, calling load on a miss.
	Get(ctx context.Context, id int64, load func(ctx context.Context) (Record, error)) (Record, error)
	// GetMany returns the Records of ids, calling load once for the misses.
	GetMany(ctx context.Context, ids []int64, load func(ctx context.Context, ids []int64) (map[int64]Record, error)) (map[int64]Record, error)
	// Keys are the keys of id's entry in the session store, to be read
	// along with a login's code check; GetRead takes what they held.
	Keys(id int64) []string
	GetRead(ctx context.Context, id int64, vals [][]byte, load func(ctx context.Context) (Record, error)) (Record, error)
	// Prime stores v as id's entry, unless a write invalidated it meanwhile.
	Prime(ctx context.Context, id int64, v Record)
	Invalidate(ctx context.Context, id int64) error
}

// ProfileCache reads users' profiles through a cache shared by the
// replicas (cache.Cache[model.Profile]).
type ProfileCache interface {
	Get(ctx context.Context, id int64, load func(ctx context.Context) (model.Profile, error)) (model.Profile, error)
	Invalidate(ctx context.Context, id int64) error
}

// Limiter counts actions of a subject in fixed windows
// (ratelimit.Limiter): a *model.RateError when the action is over r, the
// store's error when it cannot be counted. A zero r.Max means no limit.
type Limiter interface {
	Allow(ctx context.Context, r model.RateRule, subject string) error
}

// Queue takes the media tasks (tasks.Queue: in-process or asynq).
type Queue interface {
	Enqueue(ctx context.Context, t model.Task) error
}

// Deps are the collaborators of Service.
type Deps struct {
	Store          Store
	Users          RecordCache
	Profiles       ProfileCache
	Local          LocalStorage // always: files served at /media/
	Remote         Storage      // nil unless SWIPER_STORAGE=qiniu
	Queue          Queue
	Clock          clock.Clock
	TZ             *time.Location
	Media          *media.Processor // uploaded images; nil = one with media.DefaultLimits
	FreeDailyLikes int
	Quotas         QuotaCounter // nil until the social module exists: nothing used
	Log            *slog.Logger
	// Changed, when set, is told after a user's or profile's change
	// committed (the deck index of every replica catches up on it).
	Changed func(ctx context.Context) error
	// Limiter counts the "too many requests" limits of this module (2008);
	// nil = no limits. The rules left zero get their defaults (New).
	Limiter       Limiter
	LocationLimit model.RateRule // changes of location per user (PATCH /users/me)
	ViewLimit     model.RateRule // Cards viewed per viewer (GET /users/{id})
	UploadLimit   model.RateRule // uploads per user, avatar and photos together (uploads.go)
}

// Service is the user module.
type Service struct {
	d      Deps
	phones *recent[string, int64] // phone → user id, as read from the database (login.go)
}

// New returns a Service.
func New(d Deps) *Service {
	// The defaults of API.md §3.
	if d.LocationLimit == (model.RateRule{}) {
		d.LocationLimit = model.RateRule{Name: "location", Max: 10, Per: time.Hour}
	}
	if d.ViewLimit == (model.RateRule{}) {
		d.ViewLimit = model.RateRule{Name: "profile_views", Max: 300, Per: 10 * time.Minute}
	}
	if d.UploadLimit == (model.RateRule{}) {
		d.UploadLimit = model.RateRule{Name: "uploads", Max: 20, Per: time.Hour}
	}
	if d.Media == nil {
		d.Media = media.NewProcessor(media.DefaultLimits())
	}
	return &Service{d: d, phones: newRecent[string, int64](rememberedPhones)}
}

// Register finds or creates the user of an E.164 phone with the defaults of
// API.md: nickname 用户+last 4 digits, male, 1990-01-01, 北京, and a profile
// looking for the opposite gender in the same city, 0-50 km, 18-50 years.
func (s *Service) Register(ctx context.Context, e164 string) (int64, bool, error) {
	u, created, err := s.register(ctx, e164)
	return u.ID, created, err
}

// register is Register returning the user's row, read from the database,
// which it also remembers the phone's user id from.
func (s *Service) register(ctx context.Context, e164 string) (model.User, bool, error) {
	now := s.d.Clock.Now()
	// Most logins are of registered users: one indexed read, no write (the
	// activity stamp is batched by the HTTP layer's activity tracker).
	if got, err := s.d.Store.UserByPhone(ctx, e164); err == nil {
		s.phones.Put(e164, got.ID)
		return got, false, nil
	} else if !errors.Is(err, model.ErrNotFound) {
		return model.User{}, false, err
	}
	u := model.User{Phone: e164, Nickname: "用户" + phone.Last4(e164), Gender: "male", Birthday: "1990-01-01",
		City: "北京", CreatedAt: now, ActiveAt: now}
	got, created, err := s.d.Store.Register(ctx, u, defaultProfile(u))
	if err != nil {
		return model.User{}, false, err
	}
	s.phones.Put(e164, got.ID)
	return got, created, nil
}

// defaultProfile is the profile a user u registers with: the opposite
// gender in the same city, 0-50 km, 18-50 years.
func defaultProfile(u model.User) model.Profile {
	dg := "female"
	if u.Gender == "female" {
		dg = "male"
	}
	return model.Profile{UserID: u.ID, DatingGender: dg, DatingCity: u.City, MinDistance: 0, MaxDistance: 50,
		MinDatingAge: 18, MaxDatingAge: 50, Vibration: true, OnlyMatched: true, AutoPlay: true}
}

func (s *Service) record(ctx context.Context, id int64) (Record, error) {
	return s.d.Users.Get(ctx, id, func(ctx context.Context) (Record, error) {
		u, err := s.d.Store.User(ctx, id)
		if errors.Is(err, model.ErrNotFound) {
			return Record{}, fmt.Errorf("%w: %d", ErrUserNotFound, id)
		}
		if err != nil {
			return Record{}, err
		}
		ps, err := s.d.Store.Photos(ctx, id)
		if err != nil {
			return Record{}, err
		}
		return Record{User: u, Photos: ps}, nil
	})
}

func (s *Service) storedProfile(ctx context.Context, u model.User) (model.Profile, error) {
	return s.d.Profiles.Get(ctx, u.ID, func(ctx context.Context) (model.Profile, error) {
		return s.d.Store.Profile(ctx, u.ID, defaultProfile(u))
	})
}

func (s *Service) invalidate(ctx context.Context, id int64, profileToo bool) {
	if s.d.Changed != nil {
		if err := s.d.Changed(ctx); err != nil {
			s.d.Log.ErrorContext(ctx, "deck change not reported; replicas catch up within their poll", "user_id", id, "err", err)
		}
	}
	if err := s.d.Users.Invalidate(ctx, id); err != nil {
		s.d.Log.ErrorContext(ctx, "cache invalidation failed", "user_id", id, "err", err)
	}
	if profileToo {
		if err := s.d.Profiles.Invalidate(ctx, id); err != nil {
			s.d.Log.ErrorContext(ctx, "cache invalidation failed", "user_id", id, "err", err)
		}
	}
}

// Me returns the owner's view of user id.
func (s *Service) Me(ctx context.Context, id int64) (Me, error) {
	r, err := s.record(ctx, id)
	if err != nil {
		return Me{}, err
	}
	return s.meOf(ctx, r)
}

// meOf builds the Me of a user's record; only the quota usage is read.
func (s *Service) meOf(ctx context.Context, r Record) (Me, error) {
	st, err := s.vipStatus(ctx, r.User)
	if err != nil {
		return Me{}, err
	}
	u := r.User
	now := s.d.Clock.Now()
	return Me{ID: u.ID, Phone: u.Phone, Nickname: u.Nickname, Gender: u.Gender, Birthday: u.Birthday,
		Age: AgeOn(u.Birthday, now, s.d.TZ), City: u.City, HasLocation: u.CellLat != nil && u.CellLng != nil,
		Avatar: u.Avatar, Photos: photosOf(r.Photos), VIP: st, CreatedAt: u.CreatedAt.UTC()}, nil
}

// VipStatus returns the VIP status of user id.
func (s *Service) VipStatus(ctx context.Context, id int64) (VipStatus, error) {
	r, err := s.record(ctx, id)
	if err != nil {
		return VipStatus{}, err
	}
	return s.vipStatus(ctx, r.User)
}

// RewindsPerDay is the daily rewind quota of users with the rewind permission.
const RewindsPerDay = 3

func (s *Service) vipStatus(ctx context.Context, u model.User) (VipStatus, error) {
	now := s.d.Clock.Now()
	level := EffectiveLevel(u, now)
	plan := vip.PlanOf(level)
	var likes, rewinds int
	if s.d.Quotas != nil {
		var err error
		if likes, rewinds, err = s.d.Quotas.UsedToday(ctx, u.ID, now); err != nil {
			return VipStatus{}, err
		}
	}
	st := VipStatus{Level: level, Name: plan.Name, Permissions: plan.Permissions}
	if level > 0 {
		exp := u.VIPExpiresAt.UTC()
		st.ExpiresAt = &exp
	}
	if !vip.Has(level, vip.PermUnlimitedLike) {
		left := max(s.d.FreeDailyLikes-likes, 0)
		st.Quotas.LikesLeftToday = &left
	}
	if vip.Has(level, vip.PermRewind) {
		st.Quotas.RewindsLeftToday = max(RewindsPerDay-rewinds, 0)
	}
	return st, nil
}

// UpdateMe applies a PATCH body to the owner's account (changeAccount; the
// write happens only if the rows are still as read, else they are read
// again). Nothing is written when any field is invalid.
func (s *Service) UpdateMe(ctx context.Context, id int64, body []byte) (Me, error) {
	m, err := input.Object(body, "nickname", "gender", "birthday", "city", "lat", "lng")
	if err != nil {
		return Me{}, err
	}
	now := s.d.Clock.Now()
	c, err := parseAccountChange(m, now, s.d.TZ)
	if err != nil {
		return Me{}, err
	}
	if c.setLoc || c.clearLoc {
		if err := s.allowLocationChange(ctx, id, c.setLoc, c.lat, c.lng); err != nil {
			return Me{}, err
		}
	}
	err = retryLost(func() error {
		u, err := s.d.Store.User(ctx, id)
		if err != nil {
			return err
		}
		p, err := s.d.Store.Profile(ctx, id, defaultProfile(u))
		if err != nil {
			return err
		}
		nu, np := changeAccount(u, p, c, now)
		return s.d.Store.WriteUser(ctx, u, nu, p, np)
	})
	if errors.Is(err, model.ErrNotFound) {
		return Me{}, fmt.Errorf("%w: %d", ErrUserNotFound, id)
	}
	if err != nil {
		return Me{}, err
	}
	s.invalidate(ctx, id, c.city != nil || c.gender != nil) // the profile may have followed
	return s.Me(ctx, id)
}

// allowLocationChange counts a change of user id's location (set, else
// clear) against the location limit (2008: the limit keeps anyone from
// moving around to locate others by their distance). Setting the cell the
// user is already in, or clearing no location, changes nothing and is not
// counted.
func (s *Service) allowLocationChange(ctx context.Context, id int64, set bool, lat, lng float64) error {
	if s.d.Limiter == nil {
		return nil
	}
	r, err := s.record(ctx, id)
	if err != nil {
		return err
	}
	u := r.User
	has := u.CellLat != nil && u.CellLng != nil
	if set {
		la, ln := SnapCell(lat, lng)
		if has && *u.CellLat == la && *u.CellLng == ln {
			return nil
		}
	} else if !has {
		return nil
	}
	return s.d.Limiter.Allow(ctx, s.d.LocationLimit, strconv.FormatInt(id, 10))
}

// AllowView counts one Card viewed by viewer against the profile-view limit
// (2008; GET /users/{id}).
func (s *Service) AllowView(ctx context.Context, viewer int64) error {
	if s.d.Limiter == nil {
		return nil
	}
	return s.d.Limiter.Allow(ctx, s.d.ViewLimit, strconv.FormatInt(viewer, 10))
}

// SnapCell maps coordinates to their ~1 km cell (1/100 degree); only the
// cell is ever stored.
func SnapCell(lat, lng float64) (int32, int32) {
	return int32(math.Round(lat * 100)), int32(math.Round(lng * 100))
}

// Profile returns the owner's dating preferences.
func (s *Service) Profile(ctx context.Context, id int64) (Profile, error) {
	r, err := s.record(ctx, id)
	if err != nil {
		return Profile{}, err
	}
	p, err := s.storedProfile(ctx, r.User)
	if err != nil {
		return Profile{}, err
	}
	return profileOf(p), nil
}

// UpdateProfile applies a PATCH body to the dating preferences; the ranges
// are checked on the merged result (changeProfile), which is written only
// if the row is still as read (else read again), and nothing is written on
// failure.
func (s *Service) UpdateProfile(ctx context.Context, id int64, body []byte) (Profile, error) {
	m, err := input.Object(body, "dating_gender", "dating_city", "min_distance", "max_distance",
		"min_dating_age", "max_dating_age", "vibration", "only_matched", "auto_play")
	if err != nil {
		return Profile{}, err
	}
	c, err := parseProfileChange(m)
	if err != nil {
		return Profile{}, err
	}
	now := s.d.Clock.Now()
	var p model.Profile
	err = retryLost(func() error {
		u, err := s.d.Store.User(ctx, id)
		if err != nil {
			return err
		}
		was, err := s.d.Store.Profile(ctx, id, defaultProfile(u))
		if err != nil {
			return err
		}
		if p, err = changeProfile(was, u, c, now); err != nil {
			return err
		}
		return s.d.Store.WriteProfile(ctx, was, p)
	})
	if errors.Is(err, model.ErrNotFound) {
		return Profile{}, fmt.Errorf("%w: %d", ErrUserNotFound, id)
	}
	if err != nil {
		return Profile{}, err
	}
	s.invalidate(ctx, id, true)
	return profileOf(p), nil
}

// Card returns user id as viewer sees them (ErrUserNotFound if unknown).
func (s *Service) Card(ctx context.Context, viewer, id int64) (Card, error) {
	r, err := s.record(ctx, id)
	if err != nil {
		return Card{}, err
	}
	vu := &r.User // one's own Card: the owner always sees the album
	if viewer != id {
		vu = nil
		v, err := s.record(ctx, viewer)
		if err != nil && !errors.Is(err, ErrUserNotFound) {
			return Card{}, err
		}
		if err == nil {
			vu = &v.User
		}
	}
	cards, err := s.cardsOf(ctx, vu, map[int64]Record{id: r})
	if err != nil {
		return Card{}, err
	}
	c, ok := cards[id]
	if !ok { // deleted since
		return Card{}, fmt.Errorf("%w: %d", ErrUserNotFound, id)
	}
	return c, nil
}

// DistanceKM is the whole-km distance between the cells of a and b (at
// least 1), or nil unless both have a location.
func DistanceKM(a, b model.User) *int {
	if a.CellLat == nil || a.CellLng == nil || b.CellLat == nil || b.CellLng == nil {
		return nil
	}
	d := CellDistanceKM(*a.CellLat, *a.CellLng, *b.CellLat, *b.CellLng)
	return &d
}

// CellDistanceKM is the haversine distance between two cell centres,
// rounded to the nearest km, at least 1.
func CellDistanceKM(lat1, lng1, lat2, lng2 int32) int {
	const r = 6371.0
	toRad := func(c int32) float64 { return float64(c) / 100 * math.Pi / 180 }
	p1, p2 := toRad(lat1), toRad(lat2)
	dp, dl := p2-p1, toRad(lng2)-toRad(lng1)
	h := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	d := int(math.Round(2 * r * math.Asin(math.Min(1, math.Sqrt(h)))))
	return max(d, 1)
}
