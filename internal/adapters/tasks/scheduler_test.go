package tasks_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/tasks"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// Two schedulers on one Redis: exactly one leads and enqueues; when it
// stops, the other takes over within a renewal interval.
func TestSchedulerOneLeader(t *testing.T) {
	url := testenv.RedisURL(t)
	opt, err := tasks.RedisConnOpt(url)
	if err != nil {
		t.Fatal(err)
	}
	name := testQueueName()
	t.Cleanup(func() { deleteQueue(t, opt, name) })
	rdb := opt.MakeRedisClient().(redis.UniversalClient)
	defer rdb.Close()
	lockKey := "swiper-test:sched:" + name
	defer rdb.Del(context.Background(), lockKey)

	var runs atomic.Int64
	mux := tasks.NewMux()
	mux.Handle("test:tick", func(context.Context, []byte) error { runs.Add(1); return nil })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := tasks.NewAsynqWorker(opt, name, mux, tasks.WorkerOptions{Concurrency: 2, Log: log,
		PollInterval: 50 * time.Millisecond, ShutdownTimeout: time.Second})
	wctx, stopW := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.Run(wctx) }()
	defer func() { stopW(); wg.Wait() }()

	entries := []tasks.Periodic{{Type: "test:tick", Every: time.Second}}
	mk := func() *tasks.Scheduler {
		return tasks.NewScheduler(opt, rdb, name, entries, tasks.SchedulerOptions{LockKey: lockKey, LockTTL: 1500 * time.Millisecond, Log: log})
	}
	a, b := mk(), mk()
	actx, stopA := context.WithCancel(context.Background())
	bctx, stopB := context.WithCancel(context.Background())
	var sw sync.WaitGroup
	sw.Add(2)
	go func() { defer sw.Done(); _ = a.Run(actx) }()
	go func() { defer sw.Done(); _ = b.Run(bctx) }()
	defer func() { stopA(); stopB(); sw.Wait() }()

	deadline := time.Now().Add(6 * time.Second)
	sawLeader := false
	for time.Now().Before(deadline) {
		if a.Leading() && b.Leading() {
			t.Fatal("both schedulers lead at once")
		}
		sawLeader = sawLeader || a.Leading() || b.Leading()
		time.Sleep(20 * time.Millisecond)
	}
	if !sawLeader {
		t.Fatal("no scheduler became the leader")
	}
	n := runs.Load()
	// 6 s with one active scheduler at 1/s: about 5 runs; two active would give ~10.
	if n < 3 || n > 7 {
		t.Fatalf("periodic task ran %d times in 6 s, want about 5 (one active scheduler)", n)
	}
	leader, follower, stopLeader := a, b, stopA
	if b.Leading() {
		leader, follower, stopLeader = b, a, stopB
	}
	stopLeader()
	deadline = time.Now().Add(3 * time.Second)
	for !follower.Leading() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !follower.Leading() || leader.Leading() {
		t.Fatalf("after the leader stopped: follower leading=%v, old leader leading=%v", follower.Leading(), leader.Leading())
	}
	before := runs.Load()
	time.Sleep(2500 * time.Millisecond)
	if runs.Load() <= before {
		t.Fatal("the new leader enqueued nothing")
	}
}
