package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/vip"
	"github.com/swiper-social/swiper/internal/platform/backend"
)

// The owner's changes of the account and the profile: the service reads
// the rows, applies a change here (pure: validation and what follows what)
// and the store writes the outcome only if the rows are still as read.
// A write that lost to a concurrent one is retried from a fresh read.

// accountChange is a validated PATCH /users/me body: nil and false leave a
// field as it is.
type accountChange struct {
	nickname, gender, birthday, city *string
	setLoc, clearLoc                 bool // set the location to the cell of (lat, lng), or clear it
	lat, lng                         float64
}

// parseAccountChange validates the fields of a PATCH /users/me body at
// now (ages on the local day in tz): every invalid field is named (1000,
// 1001).
func parseAccountChange(m map[string]json.RawMessage, now time.Time, tz *time.Location) (accountChange, error) {
	var errs input.Errors
	var c accountChange
	if raw, ok := m["nickname"]; ok {
		if v, ok := input.String(raw); !ok {
			errs.Invalid("nickname", "must be a string")
		} else if t, why := input.Name(v); why != "" {
			errs.Invalid("nickname", why)
		} else {
			c.nickname = &t
		}
	}
	if raw, ok := m["gender"]; ok {
		if v, ok := input.String(raw); !ok || (v != "male" && v != "female") {
			errs.Invalid("gender", "must be male or female")
		} else {
			c.gender = &v
		}
	}
	if raw, ok := m["birthday"]; ok {
		v, ok := input.String(raw)
		b, valid := input.Date(v)
		switch {
		case !ok || !valid:
			errs.Invalid("birthday", "must be a date YYYY-MM-DD")
		case AgeOn(v, now, tz) < 18:
			errs.Invalid("birthday", "you must be at least 18")
		case b.Year() < 1900:
			errs.Invalid("birthday", "must be after 1900")
		default:
			c.birthday = &v
		}
	}
	if raw, ok := m["city"]; ok {
		if v, ok := input.String(raw); !ok {
			errs.Invalid("city", "must be a string")
		} else if t, why := input.Name(v); why != "" {
			errs.Invalid("city", why)
		} else {
			c.city = &t
		}
	}
	rawLat, hasLat := m["lat"]
	rawLng, hasLng := m["lng"]
	switch {
	case hasLat && !hasLng:
		errs.Missing("lng")
	case hasLng && !hasLat:
		errs.Missing("lat")
	case hasLat && hasLng:
		latNull, lngNull := input.IsNull(rawLat), input.IsNull(rawLng)
		switch {
		case latNull && lngNull:
			c.clearLoc = true
		case latNull != lngNull:
			errs.Invalid("lat", "lat and lng must both be numbers or both be null")
		default:
			lat, ok1 := input.Float(rawLat)
			lng, ok2 := input.Float(rawLng)
			if !ok1 || lat < -90 || lat > 90 {
				errs.Invalid("lat", "must be a number from -90 to 90")
			}
			if !ok2 || lng < -180 || lng > 180 {
				errs.Invalid("lng", "must be a number from -180 to 180")
			}
			c.setLoc, c.lat, c.lng = true, lat, lng
		}
	}
	if err := errs.Err("invalid user"); err != nil {
		return accountChange{}, err
	}
	return c, nil
}

// changeAccount applies c to the user u and their profile p at now and
// returns both rows as they are to be. Until the owner first changes the
// profile (Edited), dating_gender follows gender; dating_city follows city
// unless the user may date in any city (VIP).
func changeAccount(u model.User, p model.Profile, c accountChange, now time.Time) (model.User, model.Profile) {
	if c.nickname != nil {
		u.Nickname = *c.nickname
	}
	if c.gender != nil && *c.gender != u.Gender {
		u.Gender = *c.gender
		if !p.Edited {
			p.DatingGender = defaultProfile(u).DatingGender
		}
	}
	if c.birthday != nil {
		u.Birthday = *c.birthday
	}
	if c.city != nil && *c.city != u.City {
		u.City = *c.city
		if !vip.Has(EffectiveLevel(u, now), vip.PermAnyLocation) {
			p.DatingCity = *c.city
		}
	}
	if c.setLoc {
		la, ln := SnapCell(c.lat, c.lng)
		u.CellLat, u.CellLng = &la, &ln
	}
	if c.clearLoc {
		u.CellLat, u.CellLng = nil, nil
	}
	return u, p
}

// profileChange is a validated PATCH /profile body: the fields sent, by
// name for the ranges and switches.
type profileChange struct {
	datingGender, datingCity *string
	ints                     map[string]*int  // min_distance, max_distance, min_dating_age, max_dating_age
	bools                    map[string]*bool // vibration, only_matched, auto_play
	edited                   bool             // the body named a field: the owner's own choice
}

// parseProfileChange validates the fields of a PATCH /profile body, each
// on its own (changeProfile checks them together): every invalid field is
// named (1001).
func parseProfileChange(m map[string]json.RawMessage) (profileChange, error) {
	var errs input.Errors
	c := profileChange{ints: map[string]*int{}, bools: map[string]*bool{}, edited: len(m) > 0}
	bounds := map[string][2]int{"min_distance": {0, 500}, "max_distance": {0, 500}, "min_dating_age": {18, 100}, "max_dating_age": {18, 100}}
	for name, b := range bounds {
		raw, ok := m[name]
		if !ok {
			continue
		}
		if v, ok := input.Int(raw); !ok || v < b[0] || v > b[1] {
			errs.Invalid(name, fmt.Sprintf("must be a whole number from %d to %d", b[0], b[1]))
		} else {
			c.ints[name] = &v
		}
	}
	for _, name := range []string{"vibration", "only_matched", "auto_play"} {
		raw, ok := m[name]
		if !ok {
			continue
		}
		if v, ok := input.Bool(raw); !ok {
			errs.Invalid(name, "must be true or false")
		} else {
			c.bools[name] = &v
		}
	}
	if raw, ok := m["dating_gender"]; ok {
		if v, ok := input.String(raw); !ok || (v != "male" && v != "female" && v != "any") {
			errs.Invalid("dating_gender", "must be male, female or any")
		} else {
			c.datingGender = &v
		}
	}
	if raw, ok := m["dating_city"]; ok {
		if v, ok := input.String(raw); !ok {
			errs.Invalid("dating_city", "must be a string")
		} else if t, why := input.Name(v); why != "" {
			errs.Invalid("dating_city", why)
		} else {
			c.datingCity = &t
		}
	}
	if err := errs.Err("invalid profile"); err != nil {
		return profileChange{}, err
	}
	return c, nil
}

// changeProfile applies c to the profile p of user u at now. A dating_city
// other than the user's city needs the any-location permission (3001);
// the ranges must stay ordered on the merged result (1001, naming the
// field the client sent). An edited profile's dating_gender no longer
// follows the user's gender.
func changeProfile(p model.Profile, u model.User, c profileChange, now time.Time) (model.Profile, error) {
	if c.datingCity != nil && *c.datingCity != p.DatingCity {
		if *c.datingCity != u.City && !vip.Has(EffectiveLevel(u, now), vip.PermAnyLocation) {
			return model.Profile{}, &PermissionError{Permission: vip.PermAnyLocation}
		}
		p.DatingCity = *c.datingCity
	}
	if c.datingGender != nil {
		p.DatingGender = *c.datingGender
	}
	setI := func(dst *int, name string) {
		if v := c.ints[name]; v != nil {
			*dst = *v
		}
	}
	setI(&p.MinDistance, "min_distance")
	setI(&p.MaxDistance, "max_distance")
	setI(&p.MinDatingAge, "min_dating_age")
	setI(&p.MaxDatingAge, "max_dating_age")
	setB := func(dst *bool, name string) {
		if v := c.bools[name]; v != nil {
			*dst = *v
		}
	}
	setB(&p.Vibration, "vibration")
	setB(&p.OnlyMatched, "only_matched")
	setB(&p.AutoPlay, "auto_play")
	if c.edited {
		p.Edited = true
	}
	var cross input.Errors
	if p.MinDistance > p.MaxDistance {
		cross.Invalid(pick(c.ints, "max_distance", "min_distance"), "must keep min_distance <= max_distance")
	}
	if p.MinDatingAge > p.MaxDatingAge {
		cross.Invalid(pick(c.ints, "max_dating_age", "min_dating_age"), "must keep min_dating_age <= max_dating_age")
	}
	if err := cross.Err("invalid profile"); err != nil {
		return model.Profile{}, err
	}
	return p, nil
}

// pick names the field the client sent (a, else b) for a cross-field error.
func pick(sent map[string]*int, a, b string) string {
	if sent[a] != nil {
		return a
	}
	return b
}

// writeAttempts bounds the reads of one change whose conditional write
// keeps losing to concurrent changes of the same rows.
const writeAttempts = 8

// retryLost runs attempt (read, change, write conditionally) again while
// its write lost to a concurrent one (model.ErrConflict), at most
// writeAttempts times; then the client is asked to try again later (503
// 5001), nothing written.
func retryLost(attempt func() error) error {
	for i := 1; ; i++ {
		err := attempt()
		if err == nil || !errors.Is(err, model.ErrConflict) {
			return err
		}
		if i == writeAttempts {
			return backend.Unavailable(fmt.Errorf("profile: the rows kept changing: %w", err))
		}
	}
}
