package apptest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

// BenchmarkMessagesPage measures GET /api/v1/conversations/{id}/messages
// ?limit=50 (a conversation of 60 messages) over loopback HTTP with 4
// parallel clients, as bench-chat's page phase does: pages/s, latency
// p50/p99, SQL statements and CPU per page (this process, mariadbd and
// redis-server; shared with whatever else runs on the machine).
func BenchmarkMessagesPage(b *testing.B) {
	e := apptest.New(b)
	ctx := context.Background()
	st := e.App.Store
	now := e.Clock.Now()
	users := make([]model.User, 2)
	profiles := make([]model.Profile, 2)
	for i := range users {
		id := int64(i + 1)
		users[i] = model.User{ID: id, Phone: fmt.Sprintf("+861360%07d", i), Nickname: "u", Gender: "male",
			Birthday: "1995-05-05", City: "北京", CreatedAt: now, ActiveAt: now}
		profiles[i] = model.Profile{UserID: id, DatingGender: "female", DatingCity: "北京", MaxDistance: 50,
			MinDatingAge: 18, MaxDatingAge: 60}
	}
	if err := st.InsertSeed(ctx, users, profiles); err != nil {
		b.Fatal(err)
	}
	if err := st.InsertSeedBatch(ctx, store.SeedBatch{Matches: [][2]int64{{1, 2}}, MatchAt: []time.Time{now}}, 1000); err != nil {
		b.Fatal(err)
	}
	for i := range 60 {
		m := model.NewMessage{From: int64(1 + i%2), To: int64(2 - i%2), ClientID: fmt.Sprintf("c%d", i),
			Text: "a message of a few words, as people write them", SentAt: now}
		if _, err := st.SendMessage(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	s, err := e.App.Auth.OpenSession(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	get := func() error {
		req, _ := http.NewRequest("GET", e.URL+"/api/v1/conversations/2/messages?limit=50", nil)
		req.Header.Set("Authorization", "Bearer "+s.Token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("page: %d", resp.StatusCode)
		}
		return nil
	}
	if err := get(); err != nil {
		b.Fatal(err)
	}
	var failed atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(2) // × GOMAXPROCS(2) = 4 clients
	sql, cpu := st.Queries(), newCPUMeter()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t := time.Now()
			if get() != nil {
				failed.Add(1)
			}
			mine = append(mine, time.Since(t))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d pages failed", f, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	reportStatements(b, e, sql, b.N)
	cpu.report(b, b.N)
}
