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

	"github.com/schollz/progressbar/v3"

	"github.com/swiper-social/swiper/internal/profile"
	"github.com/swiper-social/swiper/internal/store"
)

// City is a dating city with its centre.
type City struct {
	Name     string
	Lat, Lng float64
}

// Cities are real Chinese cities with their coordinates.
func Cities() []City {
	return []City{
		{"北京", 39.9042, 116.4074}, {"上海", 31.2304, 121.4737}, {"广州", 23.1291, 113.2644},
		{"深圳", 22.5431, 114.0579}, {"成都", 30.5728, 104.0668}, {"杭州", 30.2741, 120.1551},
		{"重庆", 29.5630, 106.5516}, {"武汉", 30.5928, 114.3055}, {"西安", 34.3416, 108.9398},
		{"南京", 32.0603, 118.7969}, {"天津", 39.3434, 117.3616}, {"苏州", 31.2989, 120.5853},
		{"长沙", 28.2282, 112.9388}, {"郑州", 34.7466, 113.6254}, {"东莞", 23.0207, 113.7518},
		{"青岛", 36.0671, 120.3826}, {"沈阳", 41.8057, 123.4315}, {"宁波", 29.8683, 121.5440},
		{"昆明", 25.0389, 102.7183}, {"合肥", 31.8206, 117.2272}, {"佛山", 23.0215, 113.1214},
		{"福州", 26.0745, 119.2965}, {"厦门", 24.4798, 118.0894}, {"哈尔滨", 45.8038, 126.5350},
		{"济南", 36.6512, 117.1201}, {"大连", 38.9140, 121.6147}, {"长春", 43.8171, 125.3235},
		{"南宁", 22.8170, 108.3665}, {"贵阳", 26.6470, 106.6302}, {"石家庄", 38.0428, 114.5149},
		{"太原", 37.8706, 112.5489}, {"南昌", 28.6820, 115.8579}, {"乌鲁木齐", 43.8256, 87.6168},
		{"兰州", 36.0611, 103.8343}, {"海口", 20.0440, 110.1999}, {"拉萨", 29.6520, 91.1721},
	}
}

// names returns the surnames and given names nicknames are made of.
func names() ([]rune, []string) {
	return []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"),
		[]string{"小雨", "晓彤", "子涵", "欣怡", "梓萱", "思远", "浩然", "宇轩", "一诺", "雨桐", "佳怡", "可馨", "嘉豪", "俊杰", "明轩", "诗涵", "若曦", "天佑", "梦琪", "家乐", "静怡", "子墨", "博文", "雅琪", "紫萱", "晨阳", "文博", "心怡", "皓轩", "婉清"}
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
	var maxID int64
	if err := st.DB().NewSelect().Model((*store.User)(nil)).ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &maxID); err != nil {
		return 0, 0, fmt.Errorf("seed: max id: %w", err)
	}
	bar := progressbar.NewOptions(opts.Users, progressbar.OptionSetWriter(opts.Progress),
		progressbar.OptionSetDescription("seeding users"), progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionShowIts(), progressbar.OptionSetItsString("users"))
	cities := Cities()
	surnames, given := names()
	id := maxID
	for done := 0; done < opts.Users; {
		n := min(opts.BatchSize, opts.Users-done)
		users := make([]store.User, 0, n)
		profiles := make([]store.Profile, 0, n)
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
		_ = bar.Add(n)
	}
	_ = bar.Finish()
	return maxID + 1, id, nil
}

func fake(rng *rand.Rand, id int64, cities []City, surnames []rune, given []string, now time.Time) (store.User, store.Profile) {
	gender := "female"
	if rng.IntN(100) < 52 {
		gender = "male"
	}
	age := 18 + int(math.Min(42, math.Abs(rng.NormFloat64()*9)+2))
	birthday := now.AddDate(-age, 0, -rng.IntN(365)).Format("2006-01-02")
	// Big cities are more likely (Zipf-like).
	c := cities[int(float64(len(cities))*math.Pow(rng.Float64(), 2))]
	u := store.User{
		ID:       id,
		Phone:    fmt.Sprintf("+8617%09d", id),
		Nickname: string(surnames[rng.IntN(len(surnames))]) + given[rng.IntN(len(given))],
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
	p := store.Profile{UserID: id, DatingGender: dg, DatingCity: c.Name, MinDistance: 0,
		MaxDistance: []int{10, 30, 50, 100, 200}[rng.IntN(5)], MinDatingAge: minAge, MaxDatingAge: maxAge,
		Vibration: rng.IntN(2) == 0, OnlyMatched: rng.IntN(100) < 70, AutoPlay: true}
	return u, p
}
