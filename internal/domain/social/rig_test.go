package social

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/adapters/cache"
	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/rank"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// rig is a social service on the database of the suite's path, with the
// in-process caches and the table rank (no deck index).
type rig struct {
	svc   *Service
	st    *store.Store
	clock *clock.Fake
	tz    *time.Location
}

var rigPhones atomic.Int64

func newRig(t testing.TB, opts ...func(*Deps)) *rig {
	t.Helper()
	st := storetest.Open(t)
	tz, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)) // 10:00 local
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	users, profiles := cache.ForProfiles(kv.NewMemory(clk), cache.NewMetrics(prometheus.NewRegistry()), time.Hour, log)
	prof := profile.New(profile.Deps{Store: st, Users: users, Profiles: profiles, Clock: clk, TZ: tz, FreeDailyLikes: 100, Log: log})
	d := Deps{Store: st, Profile: prof, Rank: rank.NewTable(RankTop(st)), Clock: clk, TZ: tz, FreeDailyLikes: 100, Log: log}
	for _, o := range opts {
		o(&d)
	}
	svc := New(d)
	t.Cleanup(svc.Close)
	return &rig{svc: svc, st: st, clock: clk, tz: tz}
}

// users registers n users.
func (r *rig) users(t testing.TB, n int) []int64 {
	t.Helper()
	now := r.clock.Now().UTC()
	ids := make([]int64, n)
	for i := range ids {
		u, _, err := r.st.Register(context.Background(), model.User{Phone: fmt.Sprintf("+86137%08d", rigPhones.Add(1)),
			Nickname: "n", Gender: "male", Birthday: "1990-01-01", City: "北京", CreatedAt: now, ActiveAt: now},
			model.Profile{DatingGender: "female", DatingCity: "北京", MaxDistance: 50, MinDatingAge: 18, MaxDatingAge: 50, OnlyMatched: true})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	return ids
}

// vip grants level for a day.
func (r *rig) vip(t testing.TB, id int64, level int) {
	t.Helper()
	exp := r.clock.Now().Add(24 * time.Hour)
	if err := r.st.SetVIP(context.Background(), id, level, &exp); err != nil {
		t.Fatal(err)
	}
}

// swipes records swipes in one batch (CommitSwipes), as at the clock's time.
func (r *rig) swipes(t testing.TB, reqs ...[3]int64) {
	t.Helper()
	var rs []SwipeRequest
	for _, q := range reqs {
		rs = append(rs, SwipeRequest{Swiper: q[0], Swiped: q[1], Action: int8(q[2]), At: r.clock.Now().UTC()})
	}
	out, err := r.svc.CommitSwipes(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if o.Err != nil {
			t.Fatalf("swipe %v: %v", reqs[i], o.Err)
		}
	}
}
