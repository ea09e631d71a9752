// Package rediscluster starts a private Redis Cluster on loopback for a
// test (or a server watched by Sentinel): 3 masters and 3 replicas by default, `redis-server` processes with
// cluster mode on, private ports, their files in a temporary directory and
// no persistence, joined by `redis-cli --cluster create`. It needs
// Debian's redis-server and redis-tools; with CI=true their absence fails
// the test, otherwise it skips. It stops only what it started.
//
// make test-cluster starts one the same way for whole packages
// (scripts/redis-cluster.sh) and hands it to the tests as
// SWIPER_TEST_REDIS_URL=redis+cluster://…
package rediscluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// Options shape a cluster.
type Options struct {
	Masters  int // at least 1 (3 would be the smallest production cluster)
	Replicas int // per master
	// NodeTimeout is cluster-node-timeout: how long a node may be
	// unreachable before it counts as failed.
	NodeTimeout time.Duration
}

// Default is 3 masters with one replica each, nodes failed after 5 s (a
// loaded test machine must not look like a failed node).
func Default() Options { return Options{Masters: 3, Replicas: 1, NodeTimeout: 5 * time.Second} }

// Cluster is a running Redis Cluster.
type Cluster struct {
	// Addrs are the nodes' 127.0.0.1:port, masters first as created.
	Addrs []string
	dir   string
	nodes map[string]*exec.Cmd
}

// Start starts a cluster for t and waits until every node sees it ok with
// all 16384 slots served and every replica in sync. It is stopped when t
// ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Masters <= 0 || opts.Replicas < 0 || opts.NodeTimeout <= 0 {
		t.Fatalf("rediscluster: bad options %+v", opts)
	}
	c := newCluster(t)
	n := opts.Masters * (1 + opts.Replicas)
	ports, err := testenv.FreePorts(2 * n) // client port and cluster bus port of each node
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		port, bus := strconv.Itoa(ports[2*i]), strconv.Itoa(ports[2*i+1])
		c.startNode(t, port, "--cluster-enabled", "yes", "--cluster-port", bus,
			"--cluster-config-file", filepath.Join(c.dir, "nodes-"+port+".conf"),
			"--cluster-node-timeout", strconv.FormatInt(opts.NodeTimeout.Milliseconds(), 10))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.waitNodes(t, ctx)
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(opts.Replicas), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		c.dumpLogs(t)
		t.Fatalf("rediscluster: redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		c.dumpLogs(t)
		t.Fatalf("rediscluster: %v", err)
	}
	return c
}

// StartSentinel starts, for t, a Redis server and a Sentinel watching it
// as master, and returns the redis+sentinel:// URL of its database db.
// Both are stopped when t ends.
func StartSentinel(t testing.TB, master string, db int) string {
	t.Helper()
	c := newCluster(t)
	ports, err := testenv.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	server, sentinel := strconv.Itoa(ports[0]), strconv.Itoa(ports[1])
	c.startNode(t, server)
	conf := filepath.Join(c.dir, "sentinel.conf")
	body := "sentinel monitor " + master + " 127.0.0.1 " + server + " 1\n"
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c.startNode(t, sentinel, conf, "--sentinel")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.waitNodes(t, ctx)
	return "redis+sentinel://127.0.0.1:" + sentinel + "/" + strconv.Itoa(db) + "?master_name=" + master
}

// newCluster checks that the Redis programs are installed (skipping or,
// with CI=true, failing t when not) and makes the directory of the nodes;
// everything is stopped and removed when t ends.
func newCluster(t testing.TB) *Cluster {
	t.Helper()
	for _, need := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(need); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("rediscluster: %s not found (apt-get install redis-server redis-tools)", need)
			}
			t.Skipf("rediscluster: %s not found (apt-get install redis-server redis-tools)", need)
		}
	}
	dir, err := os.MkdirTemp("", "swiper-redis-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{dir: dir, nodes: map[string]*exec.Cmd{}}
	t.Cleanup(c.stop)
	return c
}

// startNode starts redis-server on port with extra arguments first (a
// config file) and last (options), without persistence.
func (c *Cluster) startNode(t testing.TB, port string, extra ...string) {
	t.Helper()
	var args []string
	if len(extra) > 0 && !strings.HasPrefix(extra[0], "--") {
		args, extra = append(args, extra[0]), extra[1:]
	}
	args = append(args, "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--dir", c.dir, "--logfile", filepath.Join(c.dir, "redis-"+port+".log"))
	cmd := exec.Command("redis-server", append(args, extra...)...)
	// Should the test binary die, its nodes die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("rediscluster: start redis-server: %v", err)
	}
	addr := "127.0.0.1:" + port
	c.nodes[addr] = cmd
	c.Addrs = append(c.Addrs, addr)
}

// waitNodes waits until every node answers PING.
func (c *Cluster) waitNodes(t testing.TB, ctx context.Context) {
	t.Helper()
	for _, a := range c.Addrs {
		if err := waitPing(ctx, a); err != nil {
			c.dumpLogs(t)
			t.Fatalf("rediscluster: node %s: %v", a, err)
		}
	}
}

// URL is the cluster's SWIPER_REDIS_URL: redis+cluster:// with every node.
func (c *Cluster) URL() string { return "redis+cluster://" + strings.Join(c.Addrs, ",") }

// Node returns a client of the node at addr (closed when t ends).
func (c *Cluster) Node(t testing.TB, addr string) *redis.Client {
	t.Helper()
	n := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, MaxRetries: -1})
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// WaitHealthy waits until every running node reports cluster_state:ok,
// all 16384 slots ok and every node known, and every replica's link to its
// master is up.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	var last error
	for {
		if last = c.healthy(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy: %w", last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) healthy(ctx context.Context) error {
	for _, a := range c.Addrs {
		if c.nodes[a] == nil {
			continue
		}
		n := redis.NewClient(&redis.Options{Addr: a, DialTimeout: time.Second, MaxRetries: -1})
		info, err := n.ClusterInfo(ctx).Result()
		var repl string
		if err == nil {
			repl, err = n.Info(ctx, "replication").Result()
		}
		_ = n.Close()
		if err != nil {
			return fmt.Errorf("node %s: %w", a, err)
		}
		f := fields(info)
		if f["cluster_state"] != "ok" || f["cluster_slots_ok"] != "16384" || f["cluster_known_nodes"] != strconv.Itoa(len(c.Addrs)) {
			return fmt.Errorf("node %s: cluster_state %s, slots ok %s, known nodes %s", a,
				f["cluster_state"], f["cluster_slots_ok"], f["cluster_known_nodes"])
		}
		if r := fields(repl); r["role"] == "slave" && r["master_link_status"] != "up" {
			return fmt.Errorf("replica %s: link to its master %s", a, r["master_link_status"])
		}
	}
	return nil
}

// fields reads the "key:value" lines of an INFO-style answer.
func fields(info string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok {
			m[k] = v
		}
	}
	return m
}

// Kill stops the node at addr at once (SIGKILL), as a crash would.
func (c *Cluster) Kill(addr string) error {
	cmd := c.nodes[addr]
	if cmd == nil {
		return fmt.Errorf("rediscluster: no running node %s", addr)
	}
	delete(c.nodes, addr)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil
}

// waitPing waits until the node at addr answers PING.
func waitPing(ctx context.Context, addr string) error {
	n := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	defer n.Close()
	for {
		err := n.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) dumpLogs(t testing.TB) {
	for _, a := range c.Addrs {
		_, port, _ := net.SplitHostPort(a)
		b, _ := os.ReadFile(filepath.Join(c.dir, "redis-"+port+".log"))
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		t.Logf("node %s log tail:\n%s", a, b)
	}
}

// stop ends the nodes it started and removes their directory.
func (c *Cluster) stop() {
	for a, cmd := range c.nodes {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		delete(c.nodes, a)
	}
	_ = os.RemoveAll(c.dir)
}
