package profile

import (
	"time"

	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/vip"
)

// Me is the owner's view of their account (API.md §3).
type Me struct {
	ID          int64     `json:"id"`
	Phone       string    `json:"phone"`
	Nickname    string    `json:"nickname"`
	Gender      string    `json:"gender"`
	Birthday    string    `json:"birthday"`
	Age         int       `json:"age"`
	City        string    `json:"city"`
	HasLocation bool      `json:"has_location"`
	Avatar      string    `json:"avatar"`
	Photos      []Photo   `json:"photos"`
	VIP         VipStatus `json:"vip"`
	CreatedAt   time.Time `json:"created_at"`
}

// Card is another user as others see them. It never carries a phone, a
// birthday, coordinates or profile settings.
type Card struct {
	ID           int64   `json:"id"`
	Nickname     string  `json:"nickname"`
	Gender       string  `json:"gender"`
	Age          int     `json:"age"`
	City         string  `json:"city"`
	Avatar       string  `json:"avatar"`
	DistanceKM   *int    `json:"distance_km,omitempty"`
	SuperlikedMe bool    `json:"superliked_me"`
	Photos       []Photo `json:"photos"`
}

// Profile is the dating preferences (owner only).
type Profile struct {
	DatingGender string `json:"dating_gender"`
	DatingCity   string `json:"dating_city"`
	MinDistance  int    `json:"min_distance"`
	MaxDistance  int    `json:"max_distance"`
	MinDatingAge int    `json:"min_dating_age"`
	MaxDatingAge int    `json:"max_dating_age"`
	Vibration    bool   `json:"vibration"`
	OnlyMatched  bool   `json:"only_matched"`
	AutoPlay     bool   `json:"auto_play"`
}

// Photo is one album picture.
type Photo struct {
	ID       int64  `json:"id"`
	URL      string `json:"url"`
	Position int    `json:"position"`
}

// VipStatus is a user's VIP level, permissions and remaining quotas.
type VipStatus struct {
	Level       int        `json:"level"`
	Name        string     `json:"name"`
	ExpiresAt   *time.Time `json:"expires_at"`
	Permissions []string   `json:"permissions"`
	Quotas      Quotas     `json:"quotas"`
}

// Quotas left today; LikesLeftToday nil means unlimited.
type Quotas struct {
	LikesLeftToday   *int `json:"likes_left_today"`
	RewindsLeftToday int  `json:"rewinds_left_today"`
}

// Record is what the user cache holds: the row and its album.
type Record struct {
	User   model.User    `json:"u"`
	Photos []model.Photo `json:"p"`
}

func photosOf(ps []model.Photo) []Photo {
	out := make([]Photo, 0, len(ps))
	for _, p := range ps {
		out = append(out, Photo{ID: p.ID, URL: p.URL, Position: p.Position})
	}
	return out
}

func profileOf(p model.Profile) Profile {
	return Profile{DatingGender: p.DatingGender, DatingCity: p.DatingCity, MinDistance: p.MinDistance,
		MaxDistance: p.MaxDistance, MinDatingAge: p.MinDatingAge, MaxDatingAge: p.MaxDatingAge,
		Vibration: p.Vibration, OnlyMatched: p.OnlyMatched, AutoPlay: p.AutoPlay}
}

// AgeOn is the age of a user with birthday (YYYY-MM-DD) on the local day of now.
func AgeOn(birthday string, now time.Time, tz *time.Location) int {
	b, ok := input.Date(birthday)
	if !ok {
		return 0
	}
	l := now.In(tz)
	return input.Age(b, time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC))
}

// EffectiveLevel is the user's VIP level at now.
func EffectiveLevel(u model.User, now time.Time) int {
	return vip.Effective(u.VIPLevel, u.VIPExpiresAt, now)
}
