package apptest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// BenchmarkSendMessage measures POST /api/v1/conversations/{id}/messages
// (a durable message, its rolling send limit and its two events) over
// loopback HTTP with 64 parallel clients, each iteration one accepted
// message of a distinct client_id. Senders send at most 20 each (the
// limit holds: the clock does not move). Besides msgs/s it reports the CPU
// time per message of this process and, on the production path, of
// mariadbd and redis-server (/proc; shared with whatever else runs on the
// machine), and their statements and commands per message (MariaDB
// Questions, Redis INFO commandstats calls, scripts' inner commands
// included; server-wide counters, so other clients of the servers count
// too).
func BenchmarkSendMessage(b *testing.B) {
	e := apptest.New(b, func(c *config.Config, o *app.Options) { c.OTPIPLimit = 0 })
	ctx := context.Background()
	st := e.App.Store
	now := e.Clock.Now()
	pairs := b.N/20 + 1
	users := make([]model.User, 2*pairs)
	profiles := make([]model.Profile, len(users))
	for i := range users {
		id := int64(i + 1)
		users[i] = model.User{ID: id, Phone: fmt.Sprintf("+861350%07d", i), Nickname: "u", Gender: "male",
			Birthday: "1995-05-05", City: "北京", CreatedAt: now, ActiveAt: now}
		profiles[i] = model.Profile{UserID: id, DatingGender: "female", DatingCity: "北京", MaxDistance: 50,
			MinDatingAge: 18, MaxDatingAge: 60}
	}
	if err := st.InsertSeed(ctx, users, profiles); err != nil {
		b.Fatal(err)
	}
	var seed store.SeedBatch
	for p := range pairs {
		seed.Matches = append(seed.Matches, [2]int64{int64(2*p + 1), int64(2*p + 2)})
		seed.MatchAt = append(seed.MatchAt, now)
	}
	if err := st.InsertSeedBatch(ctx, seed, 1000); err != nil {
		b.Fatal(err)
	}
	tokens := make([]string, pairs)
	for p := range tokens {
		s, err := e.App.Auth.OpenSession(ctx, int64(2*p+1))
		if err != nil {
			b.Fatal(err)
		}
		tokens[p] = s.Token
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	var next, failed atomic.Int64
	var firstErr atomic.Value
	before := sample(b, e)
	b.SetParallelism(32) // × GOMAXPROCS(2) = 64 clients
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := next.Add(1) - 1
			p := int(k) % pairs
			body := `{"text":"hello there","client_id":"b` + strconv.FormatInt(k, 10) + `"}`
			req, _ := http.NewRequest("POST", e.URL+"/api/v1/conversations/"+strconv.Itoa(2*p+2)+"/messages", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokens[p])
			resp, err := client.Do(req)
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				continue
			}
			rb, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, rb))
			}
		}
	})
	b.StopTimer()
	after := sample(b, e)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d sends failed, first: %v", f, b.N, firstErr.Load())
	}
	n := float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "msgs/s")
	if st := e.App.SendBatches(); st.Batches > 0 {
		b.ReportMetric(float64(st.Requests)/float64(st.Batches), "msgs/batch")
	}
	b.ReportMetric(float64(after.self-before.self)/n/1e6, "app-cpu-ms/msg")
	if after.db > 0 {
		b.ReportMetric(float64(after.db-before.db)/n/1e6, "mariadbd-cpu-ms/msg")
		b.ReportMetric(float64(after.redis-before.redis)/n/1e6, "redis-cpu-ms/msg")
		b.ReportMetric(float64(after.questions-before.questions)/n, "sql/msg")
		b.ReportMetric(float64(after.commands-before.commands)/n, "redis-cmds/msg")
		var per []string
		for name, c := range after.byCommand {
			if d := c - before.byCommand[name]; float64(d) >= n/20 {
				per = append(per, fmt.Sprintf("%s %.2f", name, float64(d)/n))
			}
		}
		slices.Sort(per)
		b.Logf("Redis commands per message: %s", strings.Join(per, ", "))
	}
}

// usage is a sample of the CPU time (ns) of this process, mariadbd and
// redis-server, and of the servers' statement and command counters.
type usage struct {
	self, db, redis     int64
	questions, commands int64
	byCommand           map[string]int64
}

func sample(b *testing.B, e *apptest.Env) usage {
	b.Helper()
	u := usage{self: cpuOf("self")}
	if !testenv.Production() {
		return u
	}
	u.db, u.redis = cpuOfNamed("mariadbd"), cpuOfNamed("redis-server")
	db := e.DB()
	var name string
	if err := db.QueryRow("SHOW GLOBAL STATUS LIKE 'Questions'").Scan(&name, &u.questions); err != nil {
		b.Fatal(err)
	}
	opt, err := redis.ParseURL(testenv.RedisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	rc := redis.NewClient(opt)
	defer rc.Close()
	info, err := rc.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		// cmdstat_get:calls=12,usec=...
		_, rest, ok := strings.Cut(line, ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		c, _ := strconv.ParseInt(calls, 10, 64)
		u.commands += c
		if u.byCommand == nil {
			u.byCommand = map[string]int64{}
		}
		u.byCommand[strings.TrimPrefix(strings.SplitN(line, ":", 2)[0], "cmdstat_")] = c
	}
	return u
}

// cpuOf is the user + system CPU time of /proc/<pid> in ns.
func cpuOf(pid string) int64 {
	raw, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return 0
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return (ut + st) * int64(time.Second/100) // USER_HZ = 100
}

// cpuOfNamed sums cpuOf over the processes named comm.
func cpuOfNamed(comm string) int64 {
	ds, _ := os.ReadDir("/proc")
	var total int64
	for _, d := range ds {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		c, err := os.ReadFile(filepath.Join("/proc", d.Name(), "comm"))
		if err != nil || strings.TrimSpace(string(c)) != comm {
			continue
		}
		total += cpuOf(d.Name())
	}
	return total
}
