// Package galera starts a private MariaDB Galera cluster on loopback for a
// test: n `mariadbd` processes with their own directories and ports, joined
// by rsync state transfer, each accepting writes (multi-writer). It needs
// Debian's mariadb-server, galera-4 and rsync; with CI=true their absence
// fails the test, otherwise it skips. It stops only what it started.
package galera

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the nodes' driver

	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// Provider is where Debian's galera-4 puts the wsrep provider.
const Provider = "/usr/lib/galera/libgalera_smm.so"

// Cluster is a running Galera cluster.
type Cluster struct {
	// URLs are mysql:// URLs of database Database on each node, for user
	// swiper/swiper.
	URLs  []string
	dir   string
	nodes []*exec.Cmd
}

// Database is the database Start creates on the cluster.
const Database = "swiper"

// Start starts an n-node cluster and waits until every node is synced. The
// cluster is stopped when t ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	requireTools(t)
	dir, err := os.MkdirTemp("", "swiper-galera-")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{dir: dir}
	t.Cleanup(c.stop)
	root := os.Geteuid() == 0
	runAs := ""
	if root {
		runAs = "mysql"
	} else if u, err := user.Current(); err == nil {
		runAs = u.Username
	}
	// Each node has four ports: client, group communication, IST and SST.
	ports, err := testenv.FreePorts(4 * n)
	if err != nil {
		t.Fatal(err)
	}
	cnfs := c.configure(t, n, ports, runAs)
	if root {
		if out, err := exec.Command("chown", "-R", "mysql:mysql", dir).CombinedOutput(); err != nil {
			t.Fatalf("galera: chown: %v\n%s", err, out)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c.startNodes(ctx, t, cnfs)
	c.createDatabase(ctx, t)
	for i := range n {
		c.URLs = append(c.URLs, fmt.Sprintf("mysql://swiper:swiper@127.0.0.1:%d/%s", ports[4*i], Database))
	}
	return c
}

// requireTools fails t (with CI=true) or skips it when a program or the
// wsrep provider the cluster needs is missing.
func requireTools(t testing.TB) {
	t.Helper()
	for _, need := range []string{"mariadbd", "mariadb-install-db", "rsync", "wsrep_sst_rsync", Provider} {
		if _, err := exec.LookPath(need); err != nil {
			if _, serr := os.Stat(need); serr == nil {
				continue
			}
			if os.Getenv("CI") == "true" {
				t.Fatalf("galera: %s not found (apt-get install mariadb-server galera-4 rsync)", need)
			}
			t.Skipf("galera: %s not found (apt-get install mariadb-server galera-4 rsync)", need)
		}
	}
}

// configure makes the directory of each of the n nodes, n1…nN in c.dir, with
// an initialised data directory and a my.cnf running as runAs, and returns
// the my.cnf paths. ports holds four ports per node (see Start).
func (c *Cluster) configure(t testing.TB, n int, ports []int, runAs string) []string {
	t.Helper()
	var gcomm []string
	for i := range n {
		gcomm = append(gcomm, fmt.Sprintf("127.0.0.1:%d", ports[4*i+1]))
	}
	var cnfs []string
	for i := range n {
		nd := filepath.Join(c.dir, "n"+strconv.Itoa(i+1))
		if err := os.MkdirAll(nd, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("mariadb-install-db", "--no-defaults", "--datadir="+filepath.Join(nd, "data"),
			"--auth-root-authentication-method=normal", "--skip-test-db").CombinedOutput()
		if err != nil {
			t.Fatalf("galera: mariadb-install-db: %v\n%s", err, out)
		}
		cnf := filepath.Join(nd, "my.cnf")
		body := nodeConfig(nd, i+1, ports[4*i:4*i+4], runAs, strings.Join(gcomm, ","))
		if err := os.WriteFile(cnf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		cnfs = append(cnfs, cnf)
	}
	return cnfs
}

// nodeConfig is the my.cnf of node number node in directory nd: its four
// ports (client, group communication, IST, SST), the user it runs as and
// the group communication addresses of all the nodes.
func nodeConfig(nd string, node int, ports []int, runAs, gcomm string) string {
	return fmt.Sprintf(`[mariadbd]
datadir=%[1]s/data
socket=%[1]s/sock
port=%[2]d
bind-address=127.0.0.1
pid-file=%[1]s/pid
log-error=%[1]s/err.log
user=%[3]s
skip-name-resolve
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
innodb_buffer_pool_size=64M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=2
max_connections=300
wsrep_on=ON
wsrep_provider=%[4]s
wsrep_cluster_name=swipertest
wsrep_cluster_address=gcomm://%[5]s
wsrep_node_address=127.0.0.1:%[6]d
wsrep_node_name=n%[7]d
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:%[6]d;ist.recv_addr=127.0.0.1:%[8]d;gcache.size=32M"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:%[9]d
`, nd, ports[0], runAs, Provider, gcomm, ports[1], node, ports[2], ports[3])
}

// startNodes starts a mariadbd per my.cnf of cnfs and waits for each to be
// synced before starting the next.
func (c *Cluster) startNodes(ctx context.Context, t testing.TB, cnfs []string) {
	t.Helper()
	// The first node bootstraps the cluster; the others join it one by one
	// (each takes a full state transfer from a synced node).
	for i, cnf := range cnfs {
		args := []string{"--defaults-file=" + cnf}
		if i == 0 {
			args = append(args, "--wsrep-new-cluster")
		}
		cmd := exec.Command("mariadbd", args...)
		cmd.Dir = c.dir
		if err := cmd.Start(); err != nil {
			t.Fatalf("galera: start node %d: %v", i+1, err)
		}
		c.nodes = append(c.nodes, cmd)
		if err := waitSynced(ctx, filepath.Join(c.dir, "n"+strconv.Itoa(i+1), "sock"), i+1); err != nil {
			c.dumpLogs(t)
			t.Fatalf("galera: node %d: %v", i+1, err)
		}
	}
}

// createDatabase creates Database and the user swiper/swiper through the
// first node; Galera replicates them to the others.
func (c *Cluster) createDatabase(ctx context.Context, t testing.TB) {
	t.Helper()
	admin, err := sql.Open("mysql", "root@unix("+filepath.Join(c.dir, "n1", "sock")+")/")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, q := range []string{
		"CREATE DATABASE " + Database + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"CREATE USER 'swiper'@'127.0.0.1' IDENTIFIED BY 'swiper'",
		"GRANT ALL PRIVILEGES ON *.* TO 'swiper'@'127.0.0.1'",
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("galera: %s: %v", q, err)
		}
	}
}

// waitSynced waits until the node on socket sock is synced with a cluster of
// at least size nodes.
func waitSynced(ctx context.Context, sock string, size int) error {
	db, err := sql.Open("mysql", "root@unix("+sock+")/?timeout=1s")
	if err != nil {
		return err
	}
	defer db.Close()
	var last error
	for {
		var name, state, csize string
		err := db.QueryRowContext(ctx, "SHOW STATUS LIKE 'wsrep_local_state_comment'").Scan(&name, &state)
		if err == nil {
			err = db.QueryRowContext(ctx, "SHOW STATUS LIKE 'wsrep_cluster_size'").Scan(&name, &csize)
		}
		if err == nil && state == "Synced" && csize == strconv.Itoa(size) {
			return nil
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("state %s, cluster size %s", state, csize)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not synced: %w", last)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func (c *Cluster) dumpLogs(t testing.TB) {
	for i := range c.nodes {
		b, _ := os.ReadFile(filepath.Join(c.dir, "n"+strconv.Itoa(i+1), "err.log"))
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("node %d log tail:\n%s", i+1, b)
	}
}

// stop ends the nodes (last first) and removes their directories.
func (c *Cluster) stop() {
	for i := len(c.nodes) - 1; i >= 0; i-- {
		p := c.nodes[i].Process
		_ = p.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = c.nodes[i].Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = p.Kill()
			<-done
		}
	}
	_ = os.RemoveAll(c.dir)
}
