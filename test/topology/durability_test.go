package topology_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/blob/qiniufake"
)

// Redis started from deploy/redis.conf (AOF, appendfsync everysec) is
// SIGKILLed and restarted: sessions, the hot rank and the tasks queued
// while no worker ran all survive; the worker then sends each SMS once.
func TestRedisAOFDurability(t *testing.T) {
	ctx := context.Background()
	users, tokens := seededLoadUsers(t)
	cl := c.newClient()
	cl.token = tokens[users[1]]
	// Scores exist from earlier swipes (or these).
	for _, v := range users[150:155] {
		cl.json("POST", c.url("/api/v1/swipes"), map[string]any{"user_id": v, "action": "like"})
	}
	rank := cl.json("GET", c.url("/api/v1/rank?limit=100"), nil)
	if rank.status != 200 {
		t.Fatalf("rank: %s", rank)
	}
	rankLen, err := c.rdb.ZCard(ctx, "{rank}:top").Result()
	if err != nil || rankLen == 0 {
		t.Fatalf("hot rank set: %d members, %v", rankLen, err)
	}
	sessions := countKeys(t, "sess:*")

	// Queue SMS tasks with no worker running.
	c.worker.stop(20 * time.Second)
	var phones []string
	for i := 0; i < 3; i++ {
		p := c.nextPhone()
		phones = append(phones, p)
		if r := c.newClient().json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": p}); r.status != 200 {
			t.Fatalf("code request: %s", r)
		}
	}
	pending, _ := c.rdb.LLen(ctx, "asynq:{swiper}:pending").Result()
	if pending < 3 {
		t.Fatalf("%d pending tasks, want ≥ 3", pending)
	}
	time.Sleep(1500 * time.Millisecond) // appendfsync everysec
	c.redis.signal(syscall.SIGKILL)
	c.redis.wait(5 * time.Second)
	if err := c.restartRedis(); err != nil {
		t.Fatal(err)
	}
	// Before any request could rebuild anything:
	if n, _ := c.rdb.ZCard(ctx, "{rank}:top").Result(); n != rankLen {
		t.Errorf("hot rank after SIGKILL: %d members, want %d", n, rankLen)
	}
	if n := countKeys(t, "sess:*"); n != sessions {
		t.Errorf("sessions after SIGKILL: %d, want %d", n, sessions)
	}
	if n, _ := c.rdb.LLen(ctx, "asynq:{swiper}:pending").Result(); n != pending {
		t.Errorf("pending tasks after SIGKILL: %d, want %d", n, pending)
	}
	if r := cl.json("GET", c.url("/api/v1/users/me"), nil); r.status != 200 {
		t.Errorf("session after the Redis crash: %s", r)
	}
	if err := c.worker.start(); err != nil {
		t.Fatal(err)
	}
	for _, p := range phones {
		waitCode(t, p, 1, 20*time.Second, c.worker)
	}
	time.Sleep(time.Second)
	codes := smsCodes(c.worker)
	for _, p := range phones {
		if n := len(codes[maskOf(p)]); n != 1 {
			t.Errorf("%s: %d SMS after the crash, want exactly 1", maskOf(p), n)
		}
	}
	t.Logf("after SIGKILL + restart from the AOF: %d sessions, %d rank members, %d queued tasks survived; each SMS sent once", sessions, rankLen, pending)
}

func countKeys(t *testing.T, pattern string) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	iter := c.rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

var leadingLine = regexp.MustCompile(`scheduler: leading`)

// Periodic tasks on a second, Qiniu-backed deployment (own database and
// Redis db, one replica, two workers): exactly one scheduler is active;
// the VIP-expiry sweep resets expired rows; a Qiniu upload that fails is
// retried until it lands once; the media sweep re-uploads an image whose
// upload was never queued; when the leader stops, the other worker leads.
func TestPeriodicTasksOneSchedulerQiniu(t *testing.T) {
	qf := qiniufake.New(t, "test-ak", "test-sk", "swiper-test")
	cfg := qf.Config()
	media := c.path("media-q")
	if err := os.MkdirAll(media, 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, e := range c.env {
		switch {
		case strings.HasPrefix(e, "SWIPER_DATABASE_URL="):
			e = fmt.Sprintf("SWIPER_DATABASE_URL=mysql://swiper:swiper@127.0.0.1:%d/swiper_q", c.dbPort)
		case strings.HasPrefix(e, "SWIPER_REDIS_URL="):
			e = fmt.Sprintf("SWIPER_REDIS_URL=redis://127.0.0.1:%d/1", c.redisPort)
		case strings.HasPrefix(e, "SWIPER_MEDIA_DIR="):
			e = "SWIPER_MEDIA_DIR=" + media
		case strings.HasPrefix(e, "SWIPER_STORAGE="), strings.HasPrefix(e, "SWIPER_SWEEP_INTERVAL="):
			continue
		}
		env = append(env, e)
	}
	env = append(env, "SWIPER_STORAGE=qiniu", "SWIPER_QINIU_ACCESS_KEY="+cfg.AccessKey, "SWIPER_QINIU_SECRET_KEY="+cfg.SecretKey,
		"SWIPER_QINIU_BUCKET="+cfg.Bucket, "SWIPER_QINIU_DOMAIN="+cfg.Domain, "SWIPER_QINIU_UP_HOST="+cfg.UpHost,
		"SWIPER_SWEEP_INTERVAL=1s", "SWIPER_MEDIA_RETRY_AFTER=2s")
	port := freePort()
	replica := newProc("q-replica", c.path("q-replica.log"), append(append([]string{}, env...), fmt.Sprintf("SWIPER_ADDR=127.0.0.1:%d", port)), c.bin, "serve", "--workers=0")
	w1 := newProc("q-worker1", c.path("q-worker1.log"), env, c.bin, "worker", "--concurrency=4")
	w2 := newProc("q-worker2", c.path("q-worker2.log"), env, c.bin, "worker", "--concurrency=4")
	for _, p := range []*proc{replica, w1, w2} {
		addExtra(p)
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.stop(15 * time.Second) })
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitFor(30*time.Second, func() error {
		r := c.newClient().do("GET", base+"/readyz", nil, "")
		if r.status != 200 {
			return fmt.Errorf("readyz: %s", r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("mysql", fmt.Sprintf("swiper:swiper@tcp(127.0.0.1:%d)/swiper_q?parseTime=true&loc=UTC", c.dbPort))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// One leader.
	leaders := func() []*proc {
		var l []*proc
		for _, w := range []*proc{w1, w2} {
			if w.running() && strings.Count(w.logText(), "scheduler: leading") > strings.Count(w.logText(), "scheduler: no longer leading") {
				l = append(l, w)
			}
		}
		return l
	}
	if err := waitFor(10*time.Second, func() error {
		if n := len(leaders()); n != 1 {
			return fmt.Errorf("%d leaders", n)
		}
		return nil
	}); err != nil {
		t.Fatalf("scheduler election: %v", err)
	}
	runs := func() int {
		return strings.Count(w1.logText(), `"task":"sweep:vip-expiry"`) + strings.Count(w2.logText(), `"task":"sweep:vip-expiry"`)
	}
	r0 := runs()
	time.Sleep(6 * time.Second)
	if n := runs() - r0; n < 3 || n > 8 {
		t.Errorf("VIP sweep ran %d times in 6 s across two workers at a 1 s interval: want ~6 (one active scheduler)", n)
	} else {
		t.Logf("VIP sweep ran %d times in 6 s across two workers (one active scheduler)", n)
	}
	if n := len(leaders()); n != 1 {
		t.Errorf("%d leaders", n)
	}

	// VIP expiry.
	cl := c.newClient()
	ph := c.nextPhone()
	if r := cl.json("POST", base+"/api/v1/verification-codes", map[string]string{"phone": ph}); r.status != 200 {
		t.Fatalf("code: %s", r)
	}
	code := waitCode(t, ph, 1, 15*time.Second, w1, w2)
	s := decode[struct {
		Token string `json:"token"`
		User  me     `json:"user"`
	}](t, cl.json("POST", base+"/api/v1/sessions", map[string]string{"phone": ph, "code": code}))
	cl.token = s.Token
	uid := s.User.ID
	grant := exec.Command(c.bin, "vip", "grant", "--phone", ph, "--level", "3", "--days", "1")
	grant.Env = append(os.Environ(), env...)
	if out, err := grant.CombinedOutput(); err != nil {
		t.Fatalf("vip grant: %v\n%s", err, out)
	}
	type vipStatus struct {
		Level int `json:"level"`
	}
	if v := decode[vipStatus](t, cl.json("GET", base+"/api/v1/vip", nil)); v.Level != 3 {
		t.Fatalf("vip level after grant: %d", v.Level)
	}
	if _, err := db.Exec("UPDATE users SET vip_expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE id = ?", uid); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(10*time.Second, func() error {
		var level int
		var exp sql.NullTime
		if err := db.QueryRow("SELECT vip_level, vip_expires_at FROM users WHERE id = ?", uid).Scan(&level, &exp); err != nil {
			return err
		}
		if level != 0 || exp.Valid {
			return fmt.Errorf("level %d, expires %v", level, exp)
		}
		return nil
	}); err != nil {
		t.Fatalf("VIP-expiry sweep: %v", err)
	}
	// The sweep drops the user's cached record right after its UPDATE
	// commits: the API shows the expiry once that is done.
	if err := waitFor(5*time.Second, func() error {
		if v := decode[vipStatus](t, cl.json("GET", base+"/api/v1/vip", nil)); v.Level != 0 {
			return fmt.Errorf("vip level %d", v.Level)
		}
		return nil
	}); err != nil {
		t.Errorf("vip level after expiry sweep: %v", err)
	}

	// An upload that fails twice at Qiniu is retried and lands once.
	qf.FailUploads(2)
	body, ct := multipartBody("avatar", pngImage(200, 200, false))
	av := decode[struct {
		Avatar string `json:"avatar"`
	}](t, cl.do("PUT", base+"/api/v1/users/me/avatar", body, ct))
	key := strings.TrimPrefix(av.Avatar, "/media/")
	if err := waitFor(30*time.Second, func() error {
		var url string
		if err := db.QueryRow("SELECT avatar FROM users WHERE id = ?", uid).Scan(&url); err != nil {
			return err
		}
		if url != cfg.Domain+"/"+key {
			return fmt.Errorf("avatar still %s", url)
		}
		return nil
	}); err != nil {
		t.Fatalf("Qiniu upload after 2 failures: %v", err)
	}
	if _, ok := qf.Object(key); !ok {
		t.Errorf("object %s not in the bucket", key)
	}

	// An image whose upload was never queued (e.g. Redis was down at the
	// time) is picked up by the media sweep.
	lost := "avatars/swept0123456789abcdef0123456789.png"
	if err := os.WriteFile(filepath.Join(media, lost), pngImage(50, 50, false), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	_ = os.Chtimes(filepath.Join(media, lost), old, old)
	if _, err := db.Exec("UPDATE users SET avatar = ?, avatar_key = ? WHERE id = ?", "/media/"+lost, lost, uid); err != nil {
		t.Fatal(err)
	}
	if err := waitFor(15*time.Second, func() error {
		var url string
		if err := db.QueryRow("SELECT avatar FROM users WHERE id = ?", uid).Scan(&url); err != nil {
			return err
		}
		if url != cfg.Domain+"/"+lost {
			return fmt.Errorf("avatar still %s", url)
		}
		return nil
	}); err != nil {
		t.Fatalf("media retry sweep: %v", err)
	}
	if o, ok := qf.Object(lost); !ok || o.ContentType != "image/png" {
		t.Errorf("swept object: %v %+v", ok, o.ContentType)
	}

	// Failover: the leader stops; the other worker leads within a TTL.
	leader := leaders()[0]
	leader.stop(20 * time.Second)
	if err := waitFor(6*time.Second, func() error {
		if l := leaders(); len(l) != 1 || l[0] == leader {
			return fmt.Errorf("%d leaders", len(l))
		}
		return nil
	}); err != nil {
		t.Fatalf("no takeover after the leader stopped: %v", err)
	}
	r1 := runs()
	time.Sleep(3 * time.Second)
	if runs() == r1 {
		t.Error("no sweep ran after the takeover")
	}
	uploads, _, _ := qf.Stats()
	t.Logf("one leader; VIP expired by the sweep; upload retried past 2 failures; lost upload re-sent by the media sweep; takeover after SIGTERM; %d upload attempts at the fake Qiniu", uploads)
}
