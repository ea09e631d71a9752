package tasks_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/tasks"
	"github.com/swiper-social/swiper/internal/adapters/tasks/taskstest"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
	"github.com/swiper-social/swiper/internal/testkit/testenv/rediscluster"
)

// testQueueName returns a queue name no other test uses.
func testQueueName() string { return "swiper-test-" + strings.ToLower(rand.Text()) }

func TestAsynqContract(t *testing.T) {
	opt, err := tasks.RedisConnOpt(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	taskstest.Run(t, func(t *testing.T, mux *tasks.Mux) (tasks.Queue, taskstest.Runner) {
		name := testQueueName()
		t.Cleanup(func() { deleteQueue(t, opt, name) }) // runs after the runner stopped
		q := tasks.NewAsynqQueue(opt, name)
		t.Cleanup(func() {
			if err := q.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		w := tasks.NewAsynqWorker(opt, name, mux, tasks.WorkerOptions{
			Concurrency:        4,
			Log:                quietLog(),
			ShutdownTimeout:    5 * time.Second,
			Backoff:            tinyBackoff,
			PollInterval:       20 * time.Millisecond,
			RetryCheckInterval: 100 * time.Millisecond,
		})
		return q, w
	})
}

// deleteQueue removes a test queue, its tasks and its stats from the shared
// Redis DB, touching nothing else.
func deleteQueue(t *testing.T, opt asynq.RedisConnOpt, name string) {
	insp := asynq.NewInspector(opt)
	defer insp.Close()
	if err := insp.DeleteQueue(name, true); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Errorf("delete queue %s: %v", name, err)
	}
	// Every key of the queue, on whichever node of a cluster holds them.
	testenv.DeleteRedisKeys(t, testenv.RedisURL(t), "asynq:{"+name+"}:*")
}

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestAsynqUnavailable(t *testing.T) {
	opt, err := tasks.RedisConnOpt("redis://" + closedAddr(t) + "/0")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Enqueue", func(t *testing.T) {
		q := tasks.NewAsynqQueue(opt, "swiper-test")
		defer q.Close()
		start := time.Now()
		err := q.Enqueue(t.Context(), tasks.Task{Type: "t", ID: "x"})
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("Enqueue on a closed port = %v, want backend.ErrUnavailable", err)
		}
		t.Logf("failed after %v", time.Since(start))
	})
	t.Run("WorkerRun", func(t *testing.T) {
		w := tasks.NewAsynqWorker(opt, "swiper-test", tasks.NewMux(), tasks.WorkerOptions{Log: quietLog()})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		err := w.Run(ctx)
		if !errors.Is(err, backend.ErrUnavailable) {
			t.Fatalf("Run on a closed port = %v, want backend.ErrUnavailable", err)
		}
	})
}

func TestRedisConnOpt(t *testing.T) {
	opt, err := tasks.RedisConnOpt("redis://swiper:secret@10.0.0.5:6380/3")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := opt.(asynq.RedisClientOpt)
	if !ok {
		t.Fatalf("RedisConnOpt = %T, want asynq.RedisClientOpt", opt)
	}
	if c.Addr != "10.0.0.5:6380" || c.DB != 3 || c.Username != "swiper" || c.Password != "secret" {
		t.Fatalf("parsed %+v", c)
	}
	if c.DialTimeout != 2*time.Second || c.ReadTimeout != time.Second || c.WriteTimeout != time.Second {
		t.Fatalf("timeouts = %v/%v/%v, want 2s/1s/1s", c.DialTimeout, c.ReadTimeout, c.WriteTimeout)
	}
	if _, err := tasks.RedisConnOpt("http://example.com"); err == nil {
		t.Fatal("RedisConnOpt accepted an http URL")
	}
}

// A cluster URL gives asynq's cluster options (every seed node, the
// credentials, fail-fast timeouts), a Sentinel URL its failover options;
// a bad one is an error.
func TestRedisConnOptCluster(t *testing.T) {
	opt, err := tasks.RedisConnOpt("redis+cluster://app:pw@10.0.0.1:7000,10.0.0.2:7001?read_timeout=3s")
	if err != nil {
		t.Fatal(err)
	}
	c, ok := opt.(asynq.RedisClusterClientOpt)
	if !ok {
		t.Fatalf("RedisConnOpt = %T, want asynq.RedisClusterClientOpt", opt)
	}
	if strings.Join(c.Addrs, ",") != "10.0.0.1:7000,10.0.0.2:7001" || c.Username != "app" || c.Password != "pw" ||
		c.DialTimeout != 2*time.Second || c.ReadTimeout != 3*time.Second || c.WriteTimeout != time.Second {
		t.Fatalf("parsed %+v", c)
	}
	if _, ok := c.MakeRedisClient().(*redis.ClusterClient); !ok {
		t.Fatal("the options do not make a cluster client")
	}
	opt, err = tasks.RedisConnOpt("redis+sentinel://:pw@s1:26379,s2:26380/4?master_name=main")
	if err != nil {
		t.Fatal(err)
	}
	f, ok := opt.(asynq.RedisFailoverClientOpt)
	if !ok {
		t.Fatalf("RedisConnOpt = %T, want asynq.RedisFailoverClientOpt", opt)
	}
	if f.MasterName != "main" || strings.Join(f.SentinelAddrs, ",") != "s1:26379,s2:26380" || f.DB != 4 || f.Password != "pw" ||
		f.DialTimeout != 2*time.Second {
		t.Fatalf("parsed %+v", f)
	}
	for _, bad := range []string{"redis+cluster://h1:7000/2", "redis+sentinel://s1:26379", "redis+cluster://h1:7000?bogus=1"} {
		if _, err := tasks.RedisConnOpt(bad); err == nil {
			t.Errorf("RedisConnOpt(%q) accepted", bad)
		}
	}
}

// The queue and a worker reach Redis through Sentinel (redis+sentinel://).
func TestAsynqThroughSentinel(t *testing.T) {
	opt, err := tasks.RedisConnOpt(rediscluster.StartSentinel(t, "swipermain", 0))
	if err != nil {
		t.Fatal(err)
	}
	name := testQueueName()
	q := tasks.NewAsynqQueue(opt, name)
	defer q.Close()
	ran := make(chan string, 1)
	mux := tasks.NewMux()
	mux.Handle("test:hello", func(_ context.Context, p []byte) error { ran <- string(p); return nil })
	w := tasks.NewAsynqWorker(opt, name, mux, tasks.WorkerOptions{Log: quietLog(), PollInterval: 20 * time.Millisecond, ShutdownTimeout: time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		// The sentinel may take a moment to name its master.
		if err = q.Enqueue(t.Context(), tasks.Task{Type: "test:hello", Payload: []byte("hi")}); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-ran:
		if p != "hi" {
			t.Fatalf("payload %q", p)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the task did not run")
	}
}
