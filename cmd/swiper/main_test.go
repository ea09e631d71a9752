package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/phone"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// testEnv returns a getenv for a fresh database on the path under test.
func testEnv(t *testing.T, extra map[string]string) func(string) string {
	t.Helper()
	env := map[string]string{
		"SWIPER_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "swiper.db"),
		"SWIPER_MEDIA_DIR":    filepath.Join(t.TempDir(), "media"),
	}
	if testenv.Production() {
		env["SWIPER_DATABASE_URL"] = testenv.MySQLDatabase(t)
		env["SWIPER_REDIS_URL"] = testenv.RedisURL(t)
		env["SWIPER_REDIS_NAMESPACE"] = testenv.RedisNamespace(t)
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"swiper"}, func(string) string { return "" }, &out, &errb)
	var u usageError
	if !errors.As(err, &u) {
		t.Fatalf("no command: %v, want usage error", err)
	}
	err = run(context.Background(), []string{"swiper", "frobnicate"}, func(string) string { return "" }, &out, &errb)
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
	err = run(context.Background(), []string{"swiper", "serve"}, func(k string) string {
		if k == "SWIPER_DATABASE_URL" {
			return "postgres://x"
		}
		return ""
	}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "SWIPER_DATABASE_URL") {
		t.Fatalf("bad config: %v", err)
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	getenv := testEnv(t, nil)
	for i := 0; i < 2; i++ {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"swiper", "migrate"}, getenv, &out, &bytes.Buffer{}); err != nil {
			t.Fatalf("migrate #%d: %v", i+1, err)
		}
		if !strings.Contains(out.String(), "migrations applied") {
			t.Fatalf("output %q", out.String())
		}
	}
}

func TestSeedAndVIPGrant(t *testing.T) {
	getenv := testEnv(t, nil)
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"swiper", "seed", "--users", "300", "--random-seed", "7"}, getenv, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	if !strings.Contains(out.String(), "seeded users 1-300") {
		t.Fatalf("seed output %q", out.String())
	}
	st := openTestStore(t, getenv)
	u, err := st.User(ctx, 42)
	if err != nil {
		t.Fatal(err)
	}
	if u.Nickname == "" || (u.Gender != "male" && u.Gender != "female") || u.City == "" {
		t.Fatalf("seeded user looks wrong: %+v", u)
	}
	p, err := st.Profile(ctx, 42, model.Profile{})
	if err != nil || p.MinDatingAge < 18 || p.MaxDatingAge < p.MinDatingAge || p.DatingCity == "" {
		t.Fatalf("seeded profile looks wrong: %+v %v", p, err)
	}

	// The seeded phone of user 42, in the mainland short form.
	short := strings.TrimPrefix(u.Phone, "+86")
	out.Reset()
	if err := run(ctx, []string{"swiper", "vip", "grant", "--phone", short, "--level", "3", "--days", "30"}, getenv, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("vip grant: %v", err)
	}
	u, _ = st.User(ctx, 42)
	if u.VIPLevel != 3 || u.VIPExpiresAt == nil || time.Until(*u.VIPExpiresAt) < 29*24*time.Hour {
		t.Fatalf("after grant: level %d expires %v", u.VIPLevel, u.VIPExpiresAt)
	}
	if strings.Contains(out.String(), u.Phone) {
		t.Fatalf("output shows the full phone: %q", out.String())
	}
	if err := run(ctx, []string{"swiper", "vip", "grant", "--phone", u.Phone, "--level", "0"}, getenv, &out, &bytes.Buffer{}); err != nil {
		t.Fatalf("vip remove: %v", err)
	}
	u, _ = st.User(ctx, 42)
	if u.VIPLevel != 0 || u.VIPExpiresAt != nil {
		t.Fatalf("after removal: level %d expires %v", u.VIPLevel, u.VIPExpiresAt)
	}

	bad := [][]string{
		{"--phone", "12345", "--level", "1", "--days", "3"},
		{"--phone", short, "--level", "4", "--days", "3"},
		{"--phone", short, "--level", "2"},
		{"--phone", short, "--level", "2", "--days", "0"},
		{"--level", "2", "--days", "1"},
		{"--phone", short, "--level", "2", "--days", "1", "extra"},
	}
	for _, args := range bad {
		err := run(ctx, append([]string{"swiper", "vip", "grant"}, args...), getenv, &out, &bytes.Buffer{})
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("vip grant %v: %v, want a usage error", args, err)
		}
	}
	err = run(ctx, []string{"swiper", "vip", "grant", "--phone", "13900000000", "--level", "1", "--days", "1"}, getenv, &out, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no user") || strings.Contains(err.Error(), "13900000000") {
		t.Fatalf("unknown phone: %v", err)
	}
	if _, err := phone.Parse(short); err != nil {
		t.Fatal(err)
	}
}

func openTestStore(t *testing.T, getenv func(string) string) *store.Store {
	t.Helper()
	u := getenv("SWIPER_DATABASE_URL")
	var st *store.Store
	var err error
	if strings.HasPrefix(u, "sqlite://") {
		st, err = store.Open(context.Background(), "sqlite", strings.TrimPrefix(u, "sqlite://"))
	} else {
		rest := strings.TrimPrefix(u, "mysql://")
		at := strings.LastIndex(rest, "@")
		slash := strings.Index(rest[at:], "/")
		dsn := fmt.Sprintf("%s@tcp(%s)/%s?parseTime=true&loc=UTC&charset=utf8mb4", rest[:at], rest[at+1:at+slash], rest[at+slash+1:])
		st, err = store.Open(context.Background(), "mysql", dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestServeGracefulShutdown starts the real `serve`, keeps a slow request in
// flight, cancels (as SIGTERM does) and checks the request completes and
// serve returns cleanly.
func TestServeGracefulShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	getenv := testEnv(t, map[string]string{"SWIPER_ADDR": addr})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"swiper", "serve"}, getenv, io.Discard, io.Discard) }()
	var resp *http.Response
	for i := 0; i < 100; i++ {
		resp, err = http.Get("http://" + addr + "/healthz")
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server did not come up: %v", err)
	}
	resp.Body.Close()
	// A request whose body arrives slowly is in flight when shutdown starts.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"phone":"13812345678"}`
	fmt.Fprintf(conn, "POST /api/v1/verification-codes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:5])
	time.Sleep(100 * time.Millisecond)
	cancel()
	time.Sleep(200 * time.Millisecond)
	fmt.Fprint(conn, body[5:])
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 200") {
		t.Fatalf("in-flight request during shutdown got %q", buf[:n])
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

// TestHelp checks that --help of the binary and of each command prints to
// stdout and succeeds (exit 0), even with a broken configuration, and that a
// bad flag says where the flags are listed.
func TestHelp(t *testing.T) {
	broken := func(k string) string {
		if k == "SWIPER_DATABASE_URL" {
			return "postgres://x"
		}
		return ""
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "commands:"},
		{[]string{"-h"}, "commands:"},
		{[]string{"help"}, "commands:"},
		{[]string{"serve", "--help"}, "-workers"},
		{[]string{"worker", "-h"}, "-concurrency"},
		{[]string{"migrate", "--help"}, "usage: swiper migrate"},
		{[]string{"seed", "--help"}, "-swipes-per-user"},
		{[]string{"vip", "grant", "--help"}, "-level"},
		{[]string{"vip", "--help"}, "vip grant"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"swiper"}, c.args...), broken, &out, &errb)
		if err != nil {
			t.Errorf("%v: %v, want success", c.args, err)
			continue
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("%v: stdout %q lacks %q", c.args, out.String(), c.want)
		}
		if strings.Contains(out.String()+errb.String(), "help requested") {
			t.Errorf("%v: printed flag's \"help requested\"", c.args)
		}
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"swiper", "serve", "--wrokers=2"}, broken, &out, &errb)
	var u usageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "swiper serve --help") {
		t.Fatalf("bad flag: %v, want a usage error naming `swiper serve --help`", err)
	}
}

// TestEmbedsTimeZones checks that the binary carries its own zone database:
// the default SWIPER_TIMEZONE (Asia/Shanghai) must load on a minimal image
// that has no /usr/share/zoneinfo.
func TestEmbedsTimeZones(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !strings.Contains("\n"+string(out), "\ntime/tzdata\n") {
		t.Fatal("cmd/swiper does not import time/tzdata")
	}
}

// lockedBuffer is a goroutine-safe log sink.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSeedTokensThenServe checks that `seed --tokens` works on the default
// embedded path too (sessions are kept in the SQLite file), that a later
// `serve` accepts those tokens, and that `serve --workers=N` runs N task
// workers there.
func TestSeedTokensThenServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	getenv := testEnv(t, map[string]string{"SWIPER_ADDR": addr})
	file := filepath.Join(t.TempDir(), "tokens.txt")
	if err := run(t.Context(), []string{"swiper", "seed", "--users", "5", "--tokens", "3", "--tokens-file", file}, getenv, io.Discard, io.Discard); err != nil {
		t.Fatalf("seed --tokens: %v", err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tokens := strings.Fields(string(b))
	if len(tokens) != 3 {
		t.Fatalf("%d tokens written, want 3", len(tokens))
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs lockedBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"swiper", "serve", "--workers=3"}, getenv, io.Discard, &logs) }()
	defer func() { cancel(); <-done }()
	var resp *http.Response
	for range 200 {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+tokens[0])
		resp, err = http.DefaultClient.Do(req)
		if err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("server did not come up: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /users/me with a seeded token: %d, want 200", resp.StatusCode)
	}
	if !testenv.Production() {
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(logs.String(), "workers=3") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(logs.String(), "workers=3") {
			t.Fatalf("serve --workers=3 did not start 3 workers; log:\n%s", logs.String())
		}
	}
}
