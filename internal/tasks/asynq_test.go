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

	"github.com/swiper-social/swiper/internal/backend"
	"github.com/swiper-social/swiper/internal/tasks"
	"github.com/swiper-social/swiper/internal/tasks/taskstest"
	"github.com/swiper-social/swiper/internal/testenv"
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
	rdb := opt.MakeRedisClient().(redis.UniversalClient)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pattern := "asynq:{" + name + "}:*"
	iter := rdb.Scan(ctx, 0, pattern, 10000).Iterator()
	for iter.Next(ctx) {
		if err := rdb.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("del %s: %v", iter.Val(), err)
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s: %v", pattern, err)
	}
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
