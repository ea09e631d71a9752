// Package topology runs the production shape on loopback — Debian's nginx
// (configured from deploy/nginx.conf) in front of two `swiper serve
// --workers=0` replicas and a `swiper worker`, on a private MariaDB and a
// private Redis (started from deploy/redis.conf) — and drives it through a
// user journey, dependency faults and the invariant checker.
//
// It runs only with SWIPER_TOPOLOGY=1 (`make test-topology`); then a missing
// nginx, mariadbd or redis-server skips it locally and fails it with
// CI=true. Every process is started here, on its own loopback ports and
// temporary directories, and stopped by its pid; the machine's shared
// services are never touched.
package topology_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

// ------------------------------------------------------------ processes

type proc struct {
	name    string
	args    []string
	env     []string
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func newProc(name, logPath string, env []string, args ...string) *proc {
	return &proc{name: name, args: args, env: env, logPath: logPath}
}

// start runs the process, appending its stdout and stderr to logPath.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	// Pdeathsig: if the test binary itself dies (a fatal error cannot run
	// cleanups), its private services die with it instead of lingering.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	p.cmd, p.done = cmd, done
	return nil
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// signal sends sig to this process only (its pid, never a name).
func (p *proc) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// wait waits for the process to exit and reports whether it did in time.
func (p *proc) wait(d time.Duration) bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// stop sends SIGTERM, then SIGKILL after grace.
func (p *proc) stop(grace time.Duration) {
	if !p.running() {
		return
	}
	p.signal(syscall.SIGTERM)
	if !p.wait(grace) {
		p.signal(syscall.SIGKILL)
		p.wait(5 * time.Second)
	}
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *proc) tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.logText(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ------------------------------------------------------------ the cluster

// cluster is the shared topology every test in this package drives.
type cluster struct {
	dir      string
	bin      string
	mediaDir string

	dbPort, redisPort, nginxPort int
	replicaPorts                 []int

	mariadb, redis, nginx *proc
	replicas              []*proc
	worker                *proc
	mysqlArgs             []string
	redisArgs             []string

	db  *sql.DB
	rdb *redis.Client

	env []string // every swiper process's environment

	likeLimit int
	ipSeq     atomic.Int64
	phoneSeq  atomic.Int64
}

var c *cluster

const likeLimit = 20

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestMain(m *testing.M) {
	if os.Getenv("SWIPER_TOPOLOGY") != "1" {
		fmt.Println("topology tests skipped: set SWIPER_TOPOLOGY=1 (make test-topology)")
		os.Exit(0)
	}
	var missing []string
	for _, b := range []string{"nginx", "mariadbd", "mariadb-install-db", "redis-server"} {
		if _, err := lookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			fmt.Printf("FAIL: topology tests need %s (apt-get install nginx-light mariadb-server redis-server)\n", strings.Join(missing, ", "))
			os.Exit(1)
		}
		fmt.Printf("topology tests skipped: %s not installed\n", strings.Join(missing, ", "))
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "swiper-topology-")
	if err != nil {
		panic(err)
	}
	c = &cluster{dir: dir, likeLimit: likeLimit}
	if os.Getenv("SWIPER_BENCH") == "1" {
		c.likeLimit = 100 // the production default
	}
	code := 1
	func() {
		defer func() {
			if v := recover(); v != nil {
				fmt.Println("FAIL: topology setup:", v)
				c.dumpLogs()
				code = 1
			}
		}()
		start := time.Now()
		if err := c.up(); err != nil {
			panic(err)
		}
		fmt.Printf("topology up in %s: nginx :%d → replicas %v, worker; MariaDB :%d, Redis :%d (dir %s)\n",
			time.Since(start).Round(time.Millisecond), c.nginxPort, c.replicaPorts, c.dbPort, c.redisPort, c.dir)
		code = m.Run()
	}()
	if code != 0 {
		c.dumpLogs()
	}
	c.down()
	if code == 0 && os.Getenv("SWIPER_TOPOLOGY_KEEP") == "" {
		_ = os.RemoveAll(dir)
	} else {
		fmt.Println("topology: logs kept in", dir)
	}
	os.Exit(code)
}

func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

func (c *cluster) path(name string) string { return filepath.Join(c.dir, name) }

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

func (c *cluster) up() error {
	c.bin = c.path("swiper")
	args := []string{"build", "-o", c.bin}
	if os.Getenv("SWIPER_TOPOLOGY_RACE") == "1" {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/swiper")...)
	build.Dir = repoRoot()
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	c.mediaDir = c.path("media")
	if err := os.MkdirAll(c.mediaDir, 0o755); err != nil {
		return err
	}
	if err := c.startMariaDB(); err != nil {
		return err
	}
	if err := c.startRedis(); err != nil {
		return err
	}
	c.replicaPorts = []int{freePort(), freePort()}
	c.env = []string{
		"SWIPER_DATABASE_URL=" + fmt.Sprintf("mysql://swiper:swiper@127.0.0.1:%d/swiper", c.dbPort),
		"SWIPER_REDIS_URL=" + fmt.Sprintf("redis://127.0.0.1:%d/0", c.redisPort),
		"SWIPER_MEDIA_DIR=" + c.mediaDir,
		"SWIPER_TRUSTED_PROXIES=127.0.0.1/32",
		"SWIPER_OTP_IP_LIMIT=5",
		"SWIPER_FREE_DAILY_LIKES=" + strconv.Itoa(c.likeLimit),
		"SWIPER_SWEEP_INTERVAL=" + map[bool]string{true: "1m", false: "2s"}[os.Getenv("SWIPER_BENCH") == "1"],
		"SWIPER_SCHEDULER_LOCK_TTL=3s",
		"SWIPER_SMS_PROVIDER=console",
		"SWIPER_STORAGE=local",
	}
	// Migrate once (replicas would too), then the replicas and the worker.
	if out, err := c.swiperCmd("migrate"); err != nil {
		return fmt.Errorf("migrate: %v\n%s", err, out)
	}
	for i, port := range c.replicaPorts {
		p := newProc(fmt.Sprintf("replica%d", i+1), c.path(fmt.Sprintf("replica%d.log", i+1)),
			append(append([]string{}, c.env...), fmt.Sprintf("SWIPER_ADDR=127.0.0.1:%d", port)), c.bin, "serve", "--workers=0")
		c.replicas = append(c.replicas, p)
		if err := p.start(); err != nil {
			return err
		}
	}
	c.worker = newProc("worker", c.path("worker.log"), c.env, c.bin, "worker", "--concurrency=10")
	if err := c.worker.start(); err != nil {
		return err
	}
	for i := range c.replicas {
		if err := c.waitReady(i, 30*time.Second); err != nil {
			return err
		}
	}
	return c.startNginx()
}

func (c *cluster) startMariaDB() error {
	datadir := c.path("mariadb")
	install := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+datadir,
		"--auth-root-authentication-method=normal", "--skip-test-db", "--user="+currentUser())
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb-install-db: %v\n%s", err, out)
	}
	c.dbPort = freePort()
	bin, _ := lookPath("mariadbd")
	c.mysqlArgs = []string{bin, "--no-defaults", "--datadir=" + datadir, "--socket=" + c.path("mariadb.sock"),
		"--pid-file=" + c.path("mariadb.pid"), "--port=" + strconv.Itoa(c.dbPort), "--bind-address=127.0.0.1",
		"--log-error=" + c.path("mariadb.err"), "--innodb-buffer-pool-size=256M", "--max-connections=600",
		"--skip-name-resolve", "--innodb-flush-log-at-trx-commit=1"}
	if os.Geteuid() == 0 {
		c.mysqlArgs = append(c.mysqlArgs, "--user=root")
	}
	c.mariadb = newProc("mariadbd", c.path("mariadb.log"), nil, c.mysqlArgs...)
	if err := c.mariadb.start(); err != nil {
		return err
	}
	root, err := sql.Open("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/?timeout=2s", c.dbPort))
	if err != nil {
		return err
	}
	defer root.Close()
	if err := waitFor(30*time.Second, func() error { return root.Ping() }); err != nil {
		return fmt.Errorf("mariadbd did not start: %w", err)
	}
	for _, q := range []string{
		"CREATE USER 'swiper'@'%' IDENTIFIED BY 'swiper'",
		"GRANT ALL PRIVILEGES ON *.* TO 'swiper'@'%'",
		"CREATE DATABASE swiper CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"CREATE DATABASE swiper_q CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
	} {
		if _, err := root.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	c.db, err = sql.Open("mysql", fmt.Sprintf("swiper:swiper@tcp(127.0.0.1:%d)/swiper?parseTime=true&loc=UTC&timeout=2s", c.dbPort))
	if err != nil {
		return err
	}
	c.db.SetMaxOpenConns(4)
	return nil
}

func currentUser() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if os.Geteuid() == 0 {
		return "root"
	}
	return strconv.Itoa(os.Geteuid())
}

// startRedis runs redis-server from the shipped deploy/redis.conf, with only
// the port, directory, pid and log file overridden.
func (c *cluster) startRedis() error {
	c.redisPort = freePort()
	dir := c.path("redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bin, _ := lookPath("redis-server")
	c.redisArgs = []string{bin, filepath.Join(repoRoot(), "deploy", "redis.conf"),
		"--port", strconv.Itoa(c.redisPort), "--bind", "127.0.0.1", "--dir", dir,
		"--pidfile", c.path("redis.pid"), "--logfile", "", "--supervised", "no", "--daemonize", "no",
		"--maxmemory", "512mb"}
	c.redis = newProc("redis-server", c.path("redis.log"), nil, c.redisArgs...)
	if err := c.redis.start(); err != nil {
		return err
	}
	c.rdb = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", c.redisPort), DialTimeout: time.Second,
		ReadTimeout: time.Second, MaxRetries: -1})
	return waitFor(20*time.Second, func() error { return c.rdb.Ping(context.Background()).Err() })
}

// restartMariaDB/restartRedis start the same server again on the same data.
func (c *cluster) restartMariaDB() error {
	c.mariadb = newProc("mariadbd", c.path("mariadb.log"), nil, c.mysqlArgs...)
	if err := c.mariadb.start(); err != nil {
		return err
	}
	return waitFor(60*time.Second, func() error { return c.db.Ping() })
}

func (c *cluster) restartRedis() error {
	c.redis = newProc("redis-server", c.path("redis.log"), nil, c.redisArgs...)
	if err := c.redis.start(); err != nil {
		return err
	}
	return waitFor(30*time.Second, func() error {
		if err := c.rdb.Ping(context.Background()).Err(); err != nil {
			return err
		}
		// Loading the AOF answers -LOADING; wait until it is done.
		info, err := c.rdb.Info(context.Background(), "persistence").Result()
		if err != nil {
			return err
		}
		if strings.Contains(info, "loading:1") {
			return errors.New("loading")
		}
		return nil
	})
}

// renderNginx turns the shipped deploy/nginx.conf into this test's config:
// only machine-specific values change, and each must be found verbatim.
func (c *cluster) renderNginx() (string, error) {
	b, err := os.ReadFile(filepath.Join(repoRoot(), "deploy", "nginx.conf"))
	if err != nil {
		return "", err
	}
	s := string(b)
	tmp := c.path("nginx")
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			return "", err
		}
	}
	userLine := "user root;"
	if os.Geteuid() != 0 {
		userLine = "# user: not root, nginx runs as the current user"
	}
	var ups strings.Builder
	for i, port := range c.replicaPorts {
		if i > 0 {
			ups.WriteString("\n")
		}
		fmt.Fprintf(&ups, "        server 127.0.0.1:%d max_fails=1 fail_timeout=5s;", port)
	}
	for _, r := range []struct{ old, new string }{
		{"user www-data;", userLine},
		{"pid /run/nginx.pid;", "pid " + c.path("nginx.pid") + ";"},
		{"/var/log/nginx/error.log", c.path("nginx-error.log")},
		{"/var/log/nginx/access.log", c.path("nginx-access.log")},
		{"/var/lib/nginx/", tmp + "/"},
		{"listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", c.nginxPort)},
		{"        server 127.0.0.1:8081 max_fails=1 fail_timeout=5s;\n        server 127.0.0.1:8082 max_fails=1 fail_timeout=5s;", ups.String()},
		{"alias /var/lib/swiper/media/;", "alias " + c.mediaDir + "/;"},
	} {
		if !strings.Contains(s, r.old) {
			return "", fmt.Errorf("deploy/nginx.conf no longer contains %q: update the test's rendering", r.old)
		}
		s = strings.ReplaceAll(s, r.old, r.new)
	}
	return s, nil
}

func (c *cluster) startNginx() error {
	c.nginxPort = freePort()
	conf, err := c.renderNginx()
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.path("nginx.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	bin, _ := lookPath("nginx")
	test := exec.Command(bin, "-t", "-c", c.path("nginx.conf"), "-p", c.dir, "-e", c.path("nginx-error.log"))
	if out, err := test.CombinedOutput(); err != nil {
		return fmt.Errorf("nginx -t: %v\n%s", err, out)
	}
	c.nginx = newProc("nginx", c.path("nginx.log"), nil, bin, "-c", c.path("nginx.conf"), "-p", c.dir,
		"-e", c.path("nginx-error.log"), "-g", "daemon off;")
	if err := c.nginx.start(); err != nil {
		return err
	}
	return waitFor(20*time.Second, func() error {
		resp, err := http.Get(c.url("/healthz"))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz %d", resp.StatusCode)
		}
		return nil
	})
}

func (c *cluster) url(path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.nginxPort, path)
}

func (c *cluster) replicaURL(i int, path string) string {
	return fmt.Sprintf("http://127.0.0.1:%d%s", c.replicaPorts[i], path)
}

func (c *cluster) waitReady(i int, d time.Duration) error {
	err := waitFor(d, func() error {
		if !c.replicas[i].running() {
			return errors.New("exited")
		}
		resp, err := http.Get(c.replicaURL(i, "/readyz"))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replica%d not ready: %w\n%s", i+1, err, c.replicas[i].tail(20))
	}
	return nil
}

// restartReplica starts replica i again on its port.
func (c *cluster) restartReplica(i int) error {
	if err := c.replicas[i].start(); err != nil {
		return err
	}
	return c.waitReady(i, 30*time.Second)
}

// swiperCmd runs a one-shot command of the binary with the cluster's env.
func (c *cluster) swiperCmd(args ...string) (string, error) {
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), c.env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *cluster) down() {
	// Clients first, then the servers they use; each by its own pid.
	if c.nginx != nil {
		c.nginx.stop(5 * time.Second)
	}
	for _, r := range c.replicas {
		r.stop(30 * time.Second)
	}
	if c.worker != nil {
		c.worker.stop(15 * time.Second)
	}
	for _, p := range extraProcs {
		p.stop(15 * time.Second)
	}
	if c.db != nil {
		c.db.Close()
	}
	if c.rdb != nil {
		c.rdb.Close()
	}
	if c.redis != nil {
		c.redis.stop(10 * time.Second)
	}
	if c.mariadb != nil {
		c.mariadb.stop(30 * time.Second)
	}
}

// extraProcs are processes tests start beside the cluster (stopped at the end).
var (
	extraMu    sync.Mutex
	extraProcs []*proc
)

func addExtra(p *proc) {
	extraMu.Lock()
	defer extraMu.Unlock()
	extraProcs = append(extraProcs, p)
}

func (c *cluster) dumpLogs() {
	if c == nil {
		return
	}
	all := append([]*proc{c.nginx, c.worker, c.redis, c.mariadb}, c.replicas...)
	all = append(all, extraProcs...)
	for _, p := range all {
		if p == nil {
			continue
		}
		fmt.Printf("---- last lines of %s (%s)\n%s\n", p.name, p.logPath, p.tail(15))
	}
	if b, err := os.ReadFile(c.path("nginx-error.log")); err == nil {
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		fmt.Printf("---- nginx error.log\n%s\n", strings.Join(lines, "\n"))
	}
}

func waitFor(d time.Duration, f func() error) error {
	deadline := time.Now().Add(d)
	var err error
	for {
		if err = f(); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ------------------------------------------------------------ clients

// client is an HTTP client whose connections come from one loopback
// address, so nginx sees it as a distinct client IP.
type client struct {
	ip    string
	http  *http.Client
	token string
}

// newClient returns a client with a fresh source address 127.0.x.y.
func (c *cluster) newClient() *client {
	n := c.ipSeq.Add(1)
	ip := fmt.Sprintf("127.0.%d.%d", 1+n/250, 2+n%250)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16, DisableCompression: true}
	return &client{ip: ip, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// result is one HTTP exchange as the tests see it.
type result struct {
	status     int
	code       int
	data       json.RawMessage
	header     http.Header
	body       []byte
	err        error
	start, end time.Time
}

func (r result) latency() time.Duration { return r.end.Sub(r.start) }

func (r result) String() string {
	if r.err != nil {
		return "transport error: " + r.err.Error()
	}
	b := r.body
	if len(b) > 200 {
		b = b[:200]
	}
	return fmt.Sprintf("HTTP %d %s", r.status, b)
}

func (cl *client) do(method, url string, body io.Reader, contentType string, hdr ...string) result {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return result{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r := result{start: time.Now()}
	resp, err := cl.http.Do(req)
	if err != nil {
		r.err, r.end = err, time.Now()
		return r
	}
	r.body, r.err = io.ReadAll(resp.Body)
	resp.Body.Close()
	r.end = time.Now()
	r.status, r.header = resp.StatusCode, resp.Header
	var env struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && json.Unmarshal(r.body, &env) == nil {
		r.code, r.data = env.Code, env.Data
	} else {
		r.code = -1
	}
	return r
}

func (cl *client) json(method, url string, v any, hdr ...string) result {
	var body io.Reader
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	ct := ""
	if v != nil {
		ct = "application/json"
	}
	return cl.do(method, url, body, ct, hdr...)
}

func decode[T any](t testing.TB, r result) T {
	t.Helper()
	var v T
	if r.err != nil || r.status != 200 || r.code != 0 {
		t.Fatalf("request failed: %s", r)
	}
	if err := json.Unmarshal(r.data, &v); err != nil {
		t.Fatalf("decode %s: %v", r.data, err)
	}
	return v
}

// nextPhone returns a mainland number whose masked form (+86 and the last
// 4 digits) is unique among the first 10,000 of this run, so the worker's
// log line identifies it.
func (c *cluster) nextPhone() string {
	n := c.phoneSeq.Add(1)
	return fmt.Sprintf("%d%04d%04d", 130+n%70, (n*7919)%10000, n%10000)
}

func maskOf(phone string) string { return "+86*******" + phone[7:] }

var smsLine = regexp.MustCompile(`"msg":"sms \(console provider\): verification code","phone":"([^"]+)","code":"(\d{6})"`)

// smsCodes returns every code the console provider logged, per masked phone,
// in order, from the given logs.
func smsCodes(logs ...*proc) map[string][]string {
	out := map[string][]string{}
	for _, p := range logs {
		sc := bufio.NewScanner(strings.NewReader(p.logText()))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if m := smsLine.FindStringSubmatch(sc.Text()); m != nil {
				out[m[1]] = append(out[m[1]], m[2])
			}
		}
	}
	return out
}

// waitCode waits until the worker(s) logged the n-th code for phone.
func waitCode(t testing.TB, phone string, n int, d time.Duration, logs ...*proc) string {
	t.Helper()
	var code string
	err := waitFor(d, func() error {
		codes := smsCodes(logs...)[maskOf(phone)]
		if len(codes) < n {
			return fmt.Errorf("%d codes for %s so far", len(codes), maskOf(phone))
		}
		code = codes[n-1]
		return nil
	})
	if err != nil {
		t.Fatalf("no SMS code for %s: %v", phone, err)
	}
	return code
}

// login requests a code, reads it from the worker log and logs in; the
// client keeps the token.
func (c *cluster) login(t testing.TB, cl *client, phone string) (id int64) {
	t.Helper()
	r := cl.json("POST", c.url("/api/v1/verification-codes"), map[string]string{"phone": phone})
	if r.status != 200 {
		t.Fatalf("code request for %s: %s", phone, r)
	}
	code := waitCode(t, phone, 1, 15*time.Second, c.worker)
	var s struct {
		Token string `json:"token"`
		User  struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	s = decode[struct {
		Token string `json:"token"`
		User  struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}](t, cl.json("POST", c.url("/api/v1/sessions"), map[string]string{"phone": phone, "code": code}))
	cl.token = s.Token
	return s.User.ID
}

// metric returns the sum of swiper_http_requests_total samples of a route
// on replica i (read directly from the replica, not through nginx).
func (c *cluster) metric(t testing.TB, i int, route string) int {
	t.Helper()
	resp, err := http.Get(c.replicaURL(i, "/metrics"))
	if err != nil {
		t.Fatalf("metrics of replica%d: %v", i+1, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	total := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "swiper_http_requests_total{") && strings.Contains(line, `route="`+route+`"`) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			total += int(v)
		}
	}
	return total
}

func rss(pid int) string {
	if pid == 0 {
		return "-"
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "-"
	}
	var cur, peak string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			cur = strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
		if strings.HasPrefix(l, "VmHWM:") {
			peak = strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return cur + " (peak " + peak + ")"
}

var _ = runtime.NumCPU
