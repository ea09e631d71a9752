package profile_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/adapters/cache"
	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

type loginRig struct {
	svc   *profile.Service
	st    *store.Store
	kv    kv.Store
	users *cache.Cache[profile.Record]
	reg   *prometheus.Registry
}

// userCacheHits is the number of hits of the user cache so far.
func (r *loginRig) userCacheHits(t *testing.T) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if mf.GetName() == "swiper_cache_requests_total" && labels["cache"] == "user" && labels["result"] == "hit" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func newLoginRig(t *testing.T) *loginRig {
	t.Helper()
	st := openStore(t)
	clk := clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
	kvs := kv.NewMemory(clk)
	reg := prometheus.NewRegistry()
	m := cache.NewMetrics(reg)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	users, profiles := cache.ForProfiles(kvs, m, time.Hour, log)
	tz, _ := time.LoadLocation("Asia/Shanghai")
	svc := profile.New(profile.Deps{Store: st, Users: users, Profiles: profiles, Clock: clk, TZ: tz,
		FreeDailyLikes: 100, Quotas: profile.NewSharedQuotas(st, func(t time.Time) string { return t.In(tz).Format("2006-01-02") }),
		Log: log})
	return &loginRig{svc: svc, st: st, kv: kvs, users: users, reg: reg}
}

// login is what the login does: what is remembered, its keys read, LoginMe.
func (r *loginRig) login(t *testing.T, phone string) (profile.Me, bool) {
	t.Helper()
	ctx := context.Background()
	id, keys := r.svc.Remembered(phone)
	var read [][]byte
	if keys != nil {
		var err error
		if read, err = r.kv.MGet(ctx, keys...); err != nil {
			t.Fatal(err)
		}
	}
	me, created, err := r.svc.LoginMe(ctx, phone, id, read)
	if err != nil {
		t.Fatalf("LoginMe(%s): %v", phone, err)
	}
	if me.Phone != phone {
		t.Fatalf("LoginMe(%s) answered the Me of %s (user %d)", phone, me.Phone, me.ID)
	}
	return me, created
}

func TestLoginMeRegistersThenRemembers(t *testing.T) {
	r := newLoginRig(t)
	if id, keys := r.svc.Remembered("+8613800000001"); id != 0 || keys != nil {
		t.Fatalf("Remembered of a new phone: %d, %v", id, keys)
	}
	me, created := r.login(t, "+8613800000001")
	if !created || me.ID <= 0 || me.Nickname != "用户0001" || len(me.Photos) != 0 || me.VIP.Quotas.LikesLeftToday == nil ||
		*me.VIP.Quotas.LikesLeftToday != 100 {
		t.Fatalf("first login: created %v, %+v", created, me)
	}
	if id, keys := r.svc.Remembered("+8613800000001"); id != me.ID || len(keys) != 2 {
		t.Fatalf("Remembered after the first login: %d, %v; want %d and the record keys", id, keys, me.ID)
	}
	// The new user's record was cached (primed): the next login reads it
	// from the cache.
	hits := r.userCacheHits(t)
	again, created := r.login(t, "+8613800000001")
	if created || again.ID != me.ID || again.CreatedAt != me.CreatedAt {
		t.Fatalf("second login: created %v, %+v; first %+v", created, again, me)
	}
	if r.userCacheHits(t) != hits+1 {
		t.Errorf("the second login did not hit the user cache")
	}
}

// A remembered id that no longer is the phone's user (whatever changed the
// database, as long as the user cache was invalidated, as every writer
// does) never logs the phone into that account.
func TestLoginMeStaleMapping(t *testing.T) {
	r := newLoginRig(t)
	ctx := context.Background()
	a, _ := r.login(t, "+8613800000001")
	b, _ := r.login(t, "+8613800000002")

	// a's phone moves to another number, and b is deleted, behind the
	// service's back.
	if _, err := storetest.DB(t, r.st).NewUpdate().Table("users").Set("phone = ?", "+8613800000009").
		Where("id = ?", a.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.DB(t, r.st).NewDelete().Table("users").Where("id = ?", b.ID).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{a.ID, b.ID} {
		if err := r.users.Invalidate(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if id, _ := r.svc.Remembered("+8613800000001"); id != a.ID {
		t.Fatalf("remembered %d, want the stale %d", id, a.ID)
	}
	for _, tc := range []struct {
		phone string
		stale int64
	}{{"+8613800000001", a.ID}, {"+8613800000002", b.ID}} {
		me, created := r.login(t, tc.phone)
		if me.ID == tc.stale || !created {
			t.Errorf("%s: user %d (created %v), want a new user, not %d", tc.phone, me.ID, created, tc.stale)
		}
		if id, _ := r.svc.Remembered(tc.phone); id != me.ID {
			t.Errorf("%s: remembered %d after the login, want %d", tc.phone, id, me.ID)
		}
	}
	if me, created := r.login(t, "+8613800000009"); me.ID != a.ID || created {
		t.Errorf("a's new phone: user %d (created %v), want %d", me.ID, created, a.ID)
	}
}

// A registered user logging in on a process that does not remember the
// phone (another replica, or after a restart) gets the Me the read-through
// path shows: the row read by phone, the album from the database.
func TestLoginMeRegisteredUserNewToProcess(t *testing.T) {
	r := newLoginRig(t)
	ctx := context.Background()
	first, _ := r.login(t, "+8613800000001")
	if _, err := r.st.AddPhoto(ctx, model.Photo{UserID: first.ID, URL: "/media/p1.jpg", StorageKey: "p1.jpg",
		CreatedAt: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}, 6); err != nil {
		t.Fatal(err)
	}
	if err := r.users.Invalidate(ctx, first.ID); err != nil { // as the album's writer does
		t.Fatal(err)
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tz, _ := time.LoadLocation("Asia/Shanghai")
	other := &loginRig{st: r.st, kv: r.kv, users: r.users, reg: r.reg,
		svc: profile.New(profile.Deps{Store: r.st, Users: r.users, TZ: tz, FreeDailyLikes: 100, Log: log,
			Clock:  clock.NewFake(time.Date(2026, 12, 7, 10, 1, 0, 0, time.UTC)),
			Quotas: profile.NewSharedQuotas(r.st, func(t time.Time) string { return t.In(tz).Format("2006-01-02") })})}
	if id, _ := other.svc.Remembered("+8613800000001"); id != 0 {
		t.Fatalf("a new process remembers user %d", id)
	}
	me, created := other.login(t, "+8613800000001")
	if created || me.ID != first.ID || len(me.Photos) != 1 || me.Photos[0].URL != "/media/p1.jpg" {
		t.Fatalf("login on a new process: created %v, %+v", created, me)
	}
	want, err := other.svc.Me(ctx, me.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Photos) != 1 || want.Photos[0] != me.Photos[0] || want.Nickname != me.Nickname || want.CreatedAt != me.CreatedAt {
		t.Errorf("login answered %+v, Me is %+v", me, want)
	}
	if id, _ := other.svc.Remembered("+8613800000001"); id != me.ID {
		t.Errorf("remembered %d after the login, want %d", id, me.ID)
	}
}
