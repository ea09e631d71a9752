package tasks

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Periodic is a task enqueued every Every (the role of Celery Beat). Its
// payload is empty: a periodic task looks at the database when it runs, so
// every run is idempotent and a skipped or doubled run is harmless.
type Periodic struct {
	Type    string
	Every   time.Duration
	Timeout time.Duration // per attempt (default DefaultTimeout)
}

// SchedulerOptions configures NewScheduler. Zero values select defaults.
type SchedulerOptions struct {
	// LockKey is the Redis key of the leader lock (default
	// "swiper:scheduler:leader"); schedulers sharing it elect one leader.
	LockKey string
	// LockTTL is how long a lock lives without renewal (default 15 s). The
	// leader renews it every LockTTL/3; a follower tries to take it as often.
	LockTTL time.Duration
	// Log receives the scheduler's messages (default slog.Default()).
	Log *slog.Logger
}

// Scheduler runs an asynq.Scheduler in at most one process at a time.
//
// asynq's scheduler has no leader election: every process running one
// would enqueue every entry. Scheduler adds it with a Redis lock: SET key
// token NX PX ttl to acquire, a Lua compare-and-PEXPIRE to renew and a Lua
// compare-and-DEL to release, the token being random per process. Only the
// holder runs an asynq.Scheduler; when a renewal fails (lock lost or Redis
// unreachable for a whole TTL) it stops it before another process can take
// over. During such a handover two schedulers may overlap for less than one
// renewal interval, so every entry is also enqueued with asynq.Unique(Every):
// a second copy of a run that is still queued or running is refused by
// Redis itself. Periodic handlers are idempotent in any case.
type Scheduler struct {
	redisOpt asynq.RedisConnOpt
	rdb      redis.UniversalClient
	queue    string
	entries  []Periodic
	opts     SchedulerOptions
	token    string
	log      *slog.Logger
	leading  atomic.Bool
}

var (
	renewScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("PEXPIRE", KEYS[1], ARGV[2])
end
return 0`)
	releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then
  return redis.call("DEL", KEYS[1])
end
return 0`)
)

// NewScheduler returns a scheduler enqueueing entries into queueName
// through redisOpt; rdb holds the leader lock (usually the same Redis).
func NewScheduler(redisOpt asynq.RedisConnOpt, rdb redis.UniversalClient, queueName string, entries []Periodic, opts SchedulerOptions) *Scheduler {
	if opts.LockKey == "" {
		opts.LockKey = "swiper:scheduler:leader"
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = 15 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Scheduler{
		redisOpt: redisOpt, rdb: rdb, queue: queueName, entries: entries, opts: opts,
		token: rand.Text(),
		log:   opts.Log.With("component", "scheduler", "queue", queueName),
	}
}

// Leading reports whether this process currently holds the lock.
func (s *Scheduler) Leading() bool { return s.leading.Load() }

// Run competes for the lock and, while holding it, runs the asynq scheduler,
// until ctx is done; it then stops the scheduler and releases the lock so
// that another process takes over at once. It returns nil after ctx is done.
func (s *Scheduler) Run(ctx context.Context) error {
	if len(s.entries) == 0 {
		<-ctx.Done()
		return nil
	}
	every := s.opts.LockTTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	var sched *asynq.Scheduler
	stop := func(reason string) {
		if sched != nil {
			sched.Shutdown()
			sched = nil
			s.leading.Store(false)
			s.log.Info("scheduler: no longer leading", "reason", reason)
		}
	}
	defer func() {
		stop("shutting down")
		// Release so that a follower takes over without waiting for the TTL.
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = releaseScript.Run(rctx, s.rdb, []string{s.opts.LockKey}, s.token).Err()
	}()
	lastRenewed := time.Time{}
	for {
		if sched == nil {
			ok, err := s.acquire(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				s.log.Warn("scheduler: cannot reach redis for the leader lock", "err", err)
			case ok:
				lastRenewed = time.Now()
				sched, err = s.start()
				if err != nil {
					s.log.Error("scheduler: cannot start", "err", err)
					s.release()
				} else {
					s.leading.Store(true)
					s.log.Info("scheduler: leading; periodic tasks are enqueued from this process", "entries", len(s.entries))
				}
			}
		} else {
			ok, err := s.renew(ctx)
			switch {
			case ok:
				lastRenewed = time.Now()
			case err == nil:
				stop("lock taken by another process")
			case time.Since(lastRenewed) >= s.opts.LockTTL-every/2:
				// The lock may expire before Redis answers again: step down
				// before another process can take it.
				stop("lock not renewed: " + err.Error())
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Scheduler) acquire(ctx context.Context) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, s.opts.LockTTL/3)
	defer cancel()
	ok, err := s.rdb.SetNX(cctx, s.opts.LockKey, s.token, s.opts.LockTTL).Result()
	if err != nil {
		return false, err
	}
	return ok, nil
}

func (s *Scheduler) renew(ctx context.Context) (bool, error) {
	cctx, cancel := context.WithTimeout(ctx, s.opts.LockTTL/3)
	defer cancel()
	n, err := renewScript.Run(cctx, s.rdb, []string{s.opts.LockKey}, s.token, s.opts.LockTTL.Milliseconds()).Int64()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

func (s *Scheduler) release() {
	rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = releaseScript.Run(rctx, s.rdb, []string{s.opts.LockKey}, s.token).Err()
}

// start builds and starts a fresh asynq scheduler (one cannot be restarted
// after Shutdown).
func (s *Scheduler) start() (*asynq.Scheduler, error) {
	sched := asynq.NewScheduler(s.redisOpt, &asynq.SchedulerOpts{
		Logger:   slogAdapter{log: s.log},
		LogLevel: asynq.WarnLevel,
		PostEnqueueFunc: func(info *asynq.TaskInfo, err error) {
			if err == nil {
				s.log.Debug("scheduler: enqueued", "type", info.Type, "id", info.ID)
			}
		},
		EnqueueErrorHandler: func(task *asynq.Task, _ []asynq.Option, err error) {
			if errors.Is(err, asynq.ErrDuplicateTask) {
				s.log.Info("scheduler: previous run still queued or running; skipped", "type", task.Type())
				return
			}
			s.log.Warn("scheduler: enqueue failed", "type", task.Type(), "err", err)
		},
	})
	for _, e := range s.entries {
		timeout := e.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		spec := fmt.Sprintf("@every %s", e.Every)
		_, err := sched.Register(spec, asynq.NewTask(e.Type, nil),
			asynq.Queue(s.queue), asynq.MaxRetry(0), asynq.Timeout(ceilSecond(timeout)),
			asynq.Unique(max(e.Every, time.Second)))
		if err != nil {
			return nil, fmt.Errorf("tasks: schedule %s: %w", e.Type, err)
		}
	}
	if err := sched.Start(); err != nil {
		return nil, err
	}
	return sched, nil
}

// RunPeriodic enqueues entries into q on their own tickers until ctx is
// done: the embedded path's scheduler (one process, so no election).
func RunPeriodic(ctx context.Context, q Queue, entries []Periodic, log *slog.Logger) {
	done := make(chan struct{})
	for _, e := range entries {
		go func() {
			defer func() { done <- struct{}{} }()
			t := time.NewTicker(e.Every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := q.Enqueue(ctx, Task{Type: e.Type, Timeout: e.Timeout, MaxRetry: 1}); err != nil && ctx.Err() == nil {
						log.Warn("periodic task not enqueued", "type", e.Type, "err", err)
					}
				}
			}
		}()
	}
	for range entries {
		<-done
	}
}
