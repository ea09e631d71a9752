// Package seed fills the database with realistic demo users for
// development and load tests.
package seed

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/swiper-social/swiper/internal/domain/cities"
	"github.com/swiper-social/swiper/internal/domain/model"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// City is a dating city with its centre.
type City = cities.City

// Cities are real Chinese cities with their coordinates.
func Cities() []City { return cities.All() }

// givenNames are the given names nicknames are made of, by gender.
type givenNames struct{ male, female []string }

// names returns the surnames and given names nicknames are made of.
func names() ([]rune, givenNames) {
	return []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"),
		givenNames{
			male: []string{"思远", "浩然", "宇轩", "一诺", "嘉豪", "俊杰", "明轩", "天佑", "家乐", "子墨", "博文", "晨阳",
				"文博", "皓轩", "子豪", "志强", "宇航", "俊熙", "泽宇", "鹏飞"},
			female: []string{"小雨", "晓彤", "子涵", "欣怡", "梓萱", "雨桐", "佳怡", "可馨", "诗涵", "若曦", "梦琪", "静怡",
				"雅琪", "紫萱", "心怡", "婉清", "思琪", "语嫣", "晓婷", "一诺"},
		}
}

// Options control a seed run.
type Options struct {
	Users     int
	Seed      uint64
	BatchSize int
	Progress  io.Writer
}

// Users inserts opts.Users users with profiles in batches and returns the
// id range created.
func Users(ctx context.Context, st *store.Store, now time.Time, opts Options) (first, last int64, err error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2000
	}
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	maxID, err := st.MaxUserID(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("seed: %w", err)
	}
	bar := newProgress(opts.Progress, opts.Users, "seeding users", "users")
	cities := Cities()
	surnames, given := names()
	id := maxID
	for done := 0; done < opts.Users; {
		n := min(opts.BatchSize, opts.Users-done)
		users := make([]model.User, 0, n)
		profiles := make([]model.Profile, 0, n)
		for i := 0; i < n; i++ {
			id++
			u, p := fake(rng, id, cities, surnames, given, now)
			users = append(users, u)
			profiles = append(profiles, p)
		}
		if err := st.InsertSeed(ctx, users, profiles); err != nil {
			return 0, 0, fmt.Errorf("seed: batch at id %d: %w", id, err)
		}
		done += n
		bar.Add(n)
	}
	bar.Finish()
	return maxID + 1, id, nil
}

func fake(rng *rand.Rand, id int64, cities []City, surnames []rune, given givenNames, now time.Time) (model.User, model.Profile) {
	gender, first := "female", given.female
	if rng.IntN(100) < 52 {
		gender, first = "male", given.male
	}
	age := 18 + int(math.Min(42, math.Abs(rng.NormFloat64()*9)+2))
	birthday := now.AddDate(-age, 0, -rng.IntN(365)).Format("2006-01-02")
	// Big cities are more likely (Zipf-like).
	c := cities[int(float64(len(cities))*math.Pow(rng.Float64(), 2))]
	u := model.User{
		ID:       id,
		Phone:    fmt.Sprintf("+8617%09d", id),
		Nickname: string(surnames[rng.IntN(len(surnames))]) + first[rng.IntN(len(first))],
		Gender:   gender, Birthday: birthday, City: c.Name,
		CreatedAt: now.Add(-time.Duration(rng.IntN(365*24)) * time.Hour),
	}
	// Recently active users are a minority, as in a real app.
	switch r := rng.IntN(100); {
	case r < 20:
		u.ActiveAt = now.Add(-time.Duration(rng.IntN(24*60)) * time.Minute)
	case r < 50:
		u.ActiveAt = now.Add(-time.Duration(24*60+rng.IntN(6*24*60)) * time.Minute)
	default:
		u.ActiveAt = now.Add(-time.Duration(7*24+rng.IntN(60*24)) * time.Hour)
	}
	if u.ActiveAt.Before(u.CreatedAt) {
		u.ActiveAt = u.CreatedAt
	}
	if rng.IntN(100) < 80 { // most users share their location, within ~20 km of the centre
		la, ln := profile.SnapCell(c.Lat+rng.NormFloat64()*0.08, c.Lng+rng.NormFloat64()*0.08)
		u.CellLat, u.CellLng = &la, &ln
	}
	dg := "female"
	if gender == "female" {
		dg = "male"
	}
	if rng.IntN(100) < 5 {
		dg = "any"
	}
	minAge := max(18, age-5-rng.IntN(5))
	maxAge := min(100, age+5+rng.IntN(10))
	p := model.Profile{UserID: id, DatingGender: dg, DatingCity: c.Name, MinDistance: 0,
		MaxDistance: []int{10, 30, 50, 100, 200}[rng.IntN(5)], MinDatingAge: minAge, MaxDatingAge: maxAge,
		Vibration: rng.IntN(2) == 0, OnlyMatched: rng.IntN(100) < 70, AutoPlay: true}
	return u, p
}
