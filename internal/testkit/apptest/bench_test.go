package apptest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

// BenchmarkLogin measures POST /api/v1/sessions (code verify, registration
// on first login, session creation) over loopback HTTP with 32 parallel
// clients. Codes are issued (and delivered to the SMS sink) before the timer
// starts; each iteration is one successful login of a distinct phone.
func BenchmarkLogin(b *testing.B) { benchLogin(b, false) }

// BenchmarkLoginExisting is the same for registered users (the common case).
func BenchmarkLoginExisting(b *testing.B) { benchLogin(b, true) }

func benchLogin(b *testing.B, registered bool) {
	e := apptest.New(b, func(c *config.Config, o *app.Options) { c.OTPIPLimit = 0 })
	n := b.N
	phones := make([]string, n)
	codes := make([]string, n)
	for i := range phones {
		phones[i] = fmt.Sprintf("1390%07d", i)
	}
	// Issue codes in parallel batches (not timed).
	issue := func() {
		sem := make(chan struct{}, 32)
		errs := make(chan error, n)
		for i := range phones {
			sem <- struct{}{}
			go func(i int) {
				defer func() { <-sem }()
				resp, err := http.Post(e.URL+"/api/v1/verification-codes", "application/json",
					bytes.NewReader([]byte(`{"phone":"`+phones[i]+`"}`)))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("code request: %d", resp.StatusCode)
					}
				}
				errs <- err
			}(i)
		}
		for range phones {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
	}
	issue()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i, p := range phones {
		c, err := e.SMS.Wait(ctx, "+86"+p)
		if err != nil {
			b.Fatal(err)
		}
		codes[i] = c
	}
	if registered {
		for i := range phones {
			resp, err := http.Post(e.URL+"/api/v1/sessions", "application/json",
				bytes.NewReader([]byte(`{"phone":"`+phones[i]+`","code":"`+codes[i]+`"}`)))
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("registering login: %v", err)
			}
			resp.Body.Close()
		}
		e.Clock.Advance(61 * time.Second)
		issue()
		for i, p := range phones {
			c, err := e.SMS.WaitN(ctx, "+86"+p, 2)
			if err != nil {
				b.Fatal(err)
			}
			codes[i] = c
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(16) // 16 × GOMAXPROCS(2) = 32 clients
	sql, cpu := e.App.Store.Queries(), newCPUMeter()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			body, _ := json.Marshal(map[string]string{"phone": phones[i], "code": codes[i]})
			resp, err := client.Post(e.URL+"/api/v1/sessions", "application/json", bytes.NewReader(body))
			if err != nil {
				failed.Add(1)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d logins failed", f, n)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "logins/s")
	reportStatements(b, e, sql, n)
	cpu.report(b, n)
}

// reportStatements reports the SQL statements the server sent per
// operation since since (all kinds, transaction control included).
func reportStatements(b *testing.B, e *apptest.Env, since store.QueryCounts, n int) {
	now := e.App.Store.Queries()
	b.ReportMetric(float64(now.Reads+now.Writes+now.Other-since.Reads-since.Writes-since.Other)/float64(n), "sql/op")
}

// BenchmarkMe measures GET /api/v1/users/me (authentication, the cached
// user record, the day's quota usage) over loopback HTTP with 32 parallel
// clients, for 200 users whose records are cached.
func BenchmarkMe(b *testing.B) {
	e := apptest.New(b)
	ctx := context.Background()
	const users = 200
	tokens := make([]string, users)
	for i := range tokens {
		id, _, err := e.App.Profile.Register(ctx, fmt.Sprintf("+861371%07d", i))
		if err != nil {
			b.Fatal(err)
		}
		s, err := e.App.Auth.OpenSession(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = s.Token
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	get := func(tok string) error {
		req, _ := http.NewRequest("GET", e.URL+"/api/v1/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET /users/me: %d", resp.StatusCode)
		}
		return nil
	}
	for _, tok := range tokens { // the records cached
		if err := get(tok); err != nil {
			b.Fatal(err)
		}
	}
	var next, failed atomic.Int64
	b.SetParallelism(16)
	sql, cpu := e.App.Store.Queries(), newCPUMeter()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if get(tokens[(next.Add(1)-1)%users]) != nil {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests failed", f, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	reportStatements(b, e, sql, b.N)
	cpu.report(b, b.N)
}

// BenchmarkSwipe measures POST /api/v1/swipes (durable swipe with quota,
// score and the match check) over loopback HTTP with 32 parallel clients:
// 200 users each like distinct targets; every iteration is one accepted swipe.
func BenchmarkSwipe(b *testing.B) {
	e := apptest.New(b, func(c *config.Config, o *app.Options) { c.OTPIPLimit = 0; c.FreeDailyLikes = 1 << 30 })
	ctx := context.Background()
	const swipers = 200
	targets := b.N/swipers + 2
	n := swipers + targets
	ids := make([]int64, n)
	for i := range ids {
		id, _, err := e.App.Profile.Register(ctx, fmt.Sprintf("+861370%07d", i))
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	tokens := make([]string, swipers)
	for i := range tokens {
		s, err := e.App.Auth.OpenSession(ctx, ids[i])
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = s.Token
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var next, failed atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := next.Add(1) - 1
			who, whom := int(k%swipers), swipers+int(k/swipers)
			body, _ := json.Marshal(map[string]any{"user_id": ids[whom], "action": "like"})
			req, _ := http.NewRequest("POST", e.URL+"/api/v1/swipes", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokens[who])
			resp, err := client.Do(req)
			if err != nil {
				failed.Add(1)
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed.Add(1)
			}
		}
	})
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d swipes failed", f, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "swipes/s")
	if st := e.App.SwipeBatches(); st.Batches > 0 {
		b.ReportMetric(float64(st.Requests)/float64(st.Batches), "swipes/batch")
	}
}

// BenchmarkDeckHistory compares GET /api/v1/recommendations for a viewer
// with 100 past swipes and one with 10,000, among 60,000 users of one city
// (the exclusion check must not scan the history).
func BenchmarkDeckHistory(b *testing.B) {
	e := apptest.New(b, func(c *config.Config, o *app.Options) { c.OTPIPLimit = 0 })
	ctx := context.Background()
	st := e.App.Store
	now := e.Clock.Now()
	const n = 60000
	users := make([]model.User, n)
	profiles := make([]model.Profile, n)
	for i := range users {
		id := int64(i + 1)
		g, dg := "female", "male"
		if i < 2 {
			g, dg = "male", "female" // the two viewers
		}
		users[i] = model.User{ID: id, Phone: fmt.Sprintf("+861360%07d", i), Nickname: "u", Gender: g,
			Birthday: "1995-05-05", City: "北京", CreatedAt: now, ActiveAt: now}
		profiles[i] = model.Profile{UserID: id, DatingGender: dg, DatingCity: "北京", MaxDistance: 50,
			MinDatingAge: 18, MaxDatingAge: 60, OnlyMatched: true}
	}
	if err := st.InsertSeed(ctx, users, profiles); err != nil {
		b.Fatal(err)
	}
	swipes := func(viewer int64, count int) []model.Swipe {
		out := make([]model.Swipe, count)
		for i := range out {
			out[i] = model.Swipe{SwiperID: viewer, SwipedID: int64(3 + i), Action: 3, CreatedAt: now}
		}
		return out
	}
	batch := store.SeedBatch{Swipes: append(swipes(1, 100), swipes(2, 10000)...)}
	if err := st.InsertSeedBatch(ctx, batch, 2000); err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name string
		id   int64
	}{{"swipes=100", 1}, {"swipes=10000", 2}} {
		s, err := e.App.Auth.OpenSession(ctx, v.id)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/recommendations?limit=20", Token: s.Token})
				if r.Status != 200 {
					b.Fatalf("%d %s", r.Status, r.Body)
				}
			}
		})
	}
}
