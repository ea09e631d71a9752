package profile_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/adapters/cache"
	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// racingStore is the store, where the first write of a change runs
// meanwhile first: another change of the same rows, committed between the
// first change's read and its write.
type racingStore struct {
	*store.Store
	meanwhile func()
	writes    int
}

func (s *racingStore) race() {
	s.writes++
	if f := s.meanwhile; f != nil {
		s.meanwhile = nil
		f()
	}
}

func (s *racingStore) WriteUser(ctx context.Context, was, next model.User, pWas, pNext model.Profile) error {
	s.race()
	return s.Store.WriteUser(ctx, was, next, pWas, pNext)
}

func (s *racingStore) WriteProfile(ctx context.Context, was, next model.Profile) error {
	s.race()
	return s.Store.WriteProfile(ctx, was, next)
}

// A change that read the rows before a concurrent change committed is
// applied again on what that change left: its rules see the other change,
// and neither is lost (as when a change locked the rows it read).
func TestConcurrentChangesLoseNothing(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		first     func(svc *profile.Service, id int64) error // reads, then meanwhile commits, then writes
		meanwhile func(svc *profile.Service, id int64) error
		check     func(t *testing.T, err error, me profile.Me, p profile.Profile)
		writes    int // first, meanwhile, first again unless it then fails
	}{
		{
			name: "ranges checked on what the other change left",
			first: func(svc *profile.Service, id int64) error {
				_, err := svc.UpdateProfile(ctx, id, []byte(`{"min_distance": 10}`))
				return err
			},
			meanwhile: func(svc *profile.Service, id int64) error {
				_, err := svc.UpdateProfile(ctx, id, []byte(`{"max_distance": 5}`))
				return err
			},
			check: func(t *testing.T, err error, _ profile.Me, p profile.Profile) {
				var ie *input.Error
				if !errors.As(err, &ie) || ie.Fields["min_distance"] == "" {
					t.Errorf("min_distance 10 after max_distance 5: %v, want 1001 on min_distance", err)
				}
				if p.MinDistance != 0 || p.MaxDistance != 5 {
					t.Errorf("distance %d-%d, want 0-5", p.MinDistance, p.MaxDistance)
				}
			},
			writes: 2,
		},
		{
			name: "dating_gender no longer follows a profile edited meanwhile",
			first: func(svc *profile.Service, id int64) error {
				_, err := svc.UpdateMe(ctx, id, []byte(`{"gender": "female"}`))
				return err
			},
			meanwhile: func(svc *profile.Service, id int64) error {
				_, err := svc.UpdateProfile(ctx, id, []byte(`{"dating_gender": "any"}`))
				return err
			},
			check: func(t *testing.T, err error, me profile.Me, p profile.Profile) {
				if err != nil || me.Gender != "female" || p.DatingGender != "any" {
					t.Errorf("gender %q, dating_gender %q (%v); want female, any", me.Gender, p.DatingGender, err)
				}
			},
			writes: 3,
		},
		{
			name: "dating_city follows a city that replaced the one changed meanwhile",
			first: func(svc *profile.Service, id int64) error {
				_, err := svc.UpdateMe(ctx, id, []byte(`{"city": "上海", "nickname": "first"}`))
				return err
			},
			meanwhile: func(svc *profile.Service, id int64) error {
				_, err := svc.UpdateMe(ctx, id, []byte(`{"city": "广州", "nickname": "meanwhile"}`))
				return err
			},
			check: func(t *testing.T, err error, me profile.Me, p profile.Profile) {
				if err != nil || me.City != "上海" || me.Nickname != "first" || p.DatingCity != "上海" {
					t.Errorf("city %q, nickname %q, dating_city %q (%v); want 上海, first, 上海", me.City, me.Nickname, p.DatingCity, err)
				}
			},
			writes: 3,
		},
		{
			name: "both switches kept",
			first: func(svc *profile.Service, id int64) error {
				_, err := svc.UpdateProfile(ctx, id, []byte(`{"vibration": false}`))
				return err
			},
			meanwhile: func(svc *profile.Service, id int64) error {
				_, err := svc.UpdateProfile(ctx, id, []byte(`{"auto_play": false, "min_dating_age": 20}`))
				return err
			},
			check: func(t *testing.T, err error, _ profile.Me, p profile.Profile) {
				if err != nil || p.Vibration || p.AutoPlay || p.MinDatingAge != 20 {
					t.Errorf("%+v (%v): want vibration and auto_play off, min_dating_age 20", p, err)
				}
			},
			writes: 3,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &racingStore{Store: openStore(t)}
			svc := newRaceService(st)
			id, _, err := svc.Register(ctx, "+8613800000001")
			if err != nil {
				t.Fatal(err)
			}
			var meanwhileErr error
			st.meanwhile = func() { meanwhileErr = tc.meanwhile(svc, id) }
			err = tc.first(svc, id)
			if st.meanwhile != nil || meanwhileErr != nil {
				t.Fatalf("the concurrent change did not run or failed: %v", meanwhileErr)
			}
			if st.writes != tc.writes {
				t.Errorf("%d writes, want %d", st.writes, tc.writes)
			}
			me, merr := svc.Me(ctx, id)
			p, perr := svc.Profile(ctx, id)
			if merr != nil || perr != nil {
				t.Fatal(merr, perr)
			}
			tc.check(t, err, me, p)
		})
	}
}

func newRaceService(st profile.Store) *profile.Service {
	clk := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	users, profiles := cache.ForProfiles(kv.NewMemory(clk), cache.NewMetrics(prometheus.NewRegistry()), time.Hour, log)
	tz, _ := time.LoadLocation("Asia/Shanghai")
	return profile.New(profile.Deps{Store: st, Users: users, Profiles: profiles, Clock: clk, TZ: tz, FreeDailyLikes: 100, Log: log})
}
