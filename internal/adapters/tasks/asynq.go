package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// DefaultAsynqQueue is the asynq queue name production uses.
const DefaultAsynqQueue = "swiper"

// Connection timeouts applied by RedisConnOpt unless already set, so that
// Enqueue fails fast when Redis is down.
const (
	asynqDialTimeout  = 2 * time.Second
	asynqReadTimeout  = time.Second
	asynqWriteTimeout = time.Second
)

// RedisConnOpt turns SWIPER_REDIS_URL into the connection options of
// NewAsynqQueue, NewAsynqWorker and NewScheduler:
//
//   - redis+cluster:// (config.RedisCluster) gives asynq.RedisClusterClientOpt
//     (asynq keeps each queue's keys under one hash tag, {queue});
//   - redis+sentinel:// (config.RedisSentinel) gives asynq.RedisFailoverClientOpt;
//   - a redis://, rediss://, redis-socket:// or redis-sentinel:// URL is
//     read by asynq.ParseRedisURI, keeping the URL's user name (which
//     ParseRedisURI ignores).
//
// Timeouts the URL leaves unset are fail-fast: dial 2 s, read/write 1 s.
func RedisConnOpt(rawURL string) (asynq.RedisConnOpt, error) {
	if scheme, _, _ := strings.Cut(rawURL, "://"); strings.Contains(scheme, "+") {
		target, err := config.ParseRedisURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("tasks: %w", err)
		}
		switch target.Mode {
		case config.RedisCluster:
			o, err := kv.ClusterOptions(target)
			if err != nil {
				return nil, fmt.Errorf("tasks: %w", err)
			}
			return asynq.RedisClusterClientOpt{Addrs: o.Addrs, MaxRedirects: o.MaxRedirects,
				Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
				DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout}, nil
		case config.RedisSentinel:
			o, err := kv.FailoverOptions(target)
			if err != nil {
				return nil, fmt.Errorf("tasks: %w", err)
			}
			return asynq.RedisFailoverClientOpt{MasterName: o.MasterName, SentinelAddrs: o.SentinelAddrs,
				Username: o.Username, Password: o.Password, DB: o.DB, PoolSize: o.PoolSize, TLSConfig: o.TLSConfig,
				DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout}, nil
		}
	}
	opt, err := asynq.ParseRedisURI(rawURL)
	if err != nil {
		return nil, fmt.Errorf("tasks: parse redis url: %w", err)
	}
	var user string
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		user = u.User.Username()
	}
	switch o := opt.(type) {
	case asynq.RedisClientOpt:
		if o.Username == "" {
			o.Username = user
		}
		o.DialTimeout = orDefault(o.DialTimeout, asynqDialTimeout)
		o.ReadTimeout = orDefault(o.ReadTimeout, asynqReadTimeout)
		o.WriteTimeout = orDefault(o.WriteTimeout, asynqWriteTimeout)
		return o, nil
	case asynq.RedisFailoverClientOpt:
		if o.Username == "" {
			o.Username = user
		}
		o.DialTimeout = orDefault(o.DialTimeout, asynqDialTimeout)
		o.ReadTimeout = orDefault(o.ReadTimeout, asynqReadTimeout)
		o.WriteTimeout = orDefault(o.WriteTimeout, asynqWriteTimeout)
		return o, nil
	}
	return opt, nil
}

// orDefault returns d, or def when d is zero.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// AsynqQueue enqueues tasks into one asynq queue on Redis; an AsynqWorker
// (usually in `swiper worker`) runs them. Tasks default to DefaultMaxRetry
// retries and a DefaultTimeout per attempt. Asynq counts timeouts in whole
// seconds, so a Task.Timeout is rounded up to the next second.
type AsynqQueue struct {
	rdb       redis.UniversalClient
	client    *asynq.Client
	inspector *asynq.Inspector
	queue     string
}

var _ Queue = (*AsynqQueue)(nil)

// NewAsynqQueue returns a queue that enqueues into queueName (production
// uses DefaultAsynqQueue). It opens its own Redis connection pool lazily;
// Close releases it. Like asynq.NewClient it panics if redisOpt does not
// make a go-redis v9 client, which only a custom RedisConnOpt can cause.
func NewAsynqQueue(redisOpt asynq.RedisConnOpt, queueName string) *AsynqQueue {
	rdb := makeRedis(redisOpt)
	return &AsynqQueue{
		rdb:       rdb,
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		queue:     queueName,
	}
}

func makeRedis(redisOpt asynq.RedisConnOpt) redis.UniversalClient {
	rdb, ok := redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		panic(fmt.Sprintf("tasks: unsupported asynq.RedisConnOpt %T", redisOpt))
	}
	return rdb
}

// Enqueue adds t to the queue. With an ID, asynq keeps one task per ID:
// enqueueing an ID that is pending, running, scheduled or waiting for a
// retry is a no-op, while a dead (archived) task with that ID is replaced,
// so the ID is reusable once its task has finished either way. Errors from
// an unreachable Redis satisfy errors.Is(err, backend.ErrUnavailable).
func (q *AsynqQueue) Enqueue(ctx context.Context, t Task) error {
	if t.Type == "" {
		return errors.New("tasks: enqueue: empty task type")
	}
	maxRetry := t.MaxRetry
	if maxRetry <= 0 {
		maxRetry = DefaultMaxRetry
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	opts := []asynq.Option{
		asynq.Queue(q.queue),
		asynq.MaxRetry(maxRetry),
		asynq.Timeout(ceilSecond(timeout)),
	}
	if t.ID != "" {
		opts = append(opts, asynq.TaskID(t.ID))
	}
	task := asynq.NewTask(t.Type, t.Payload)
	_, err := q.client.EnqueueContext(ctx, task, opts...)
	if t.ID != "" && errors.Is(err, asynq.ErrTaskIDConflict) {
		if !q.replaceFinished(t.ID) {
			return nil // the live task with this ID stands
		}
		_, err = q.client.EnqueueContext(ctx, task, opts...)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil // someone else enqueued it meanwhile
		}
	}
	if err != nil {
		return fmt.Errorf("tasks: enqueue %q: %w", t.Type, q.classify(ctx, err))
	}
	return nil
}

// ceilSecond rounds d up to whole seconds, the unit asynq stores.
func ceilSecond(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

// replaceFinished deletes the task with id when it is archived (dead) or
// completed, and reports whether the ID is free again.
func (q *AsynqQueue) replaceFinished(id string) bool {
	info, err := q.inspector.GetTaskInfo(q.queue, id)
	if errors.Is(err, asynq.ErrTaskNotFound) {
		return true // it finished between the two calls
	}
	if err != nil {
		return false // keep the conservative answer: treat it as live
	}
	if info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted {
		return false
	}
	err = q.inspector.DeleteTask(q.queue, id)
	return err == nil || errors.Is(err, asynq.ErrTaskNotFound)
}

// classify marks err as an outage when it is one. Asynq flattens some Redis
// errors (script failures) into text, so when the error chain says nothing
// a ping decides — on a Redis Cluster the readiness check, since a cluster
// that does not serve the queue's slot answers CLUSTERDOWN, not a
// connection error.
func (q *AsynqQueue) classify(ctx context.Context, err error) error {
	err = kv.Classify(err)
	if errors.Is(err, backend.ErrUnavailable) || ctx.Err() != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), asynqDialTimeout)
	defer cancel()
	if perr := kv.NewRedis(q.rdb, "").Ping(pctx); errors.Is(perr, backend.ErrUnavailable) {
		return backend.Unavailable(err)
	}
	return err
}

// Close releases the Redis connections.
func (q *AsynqQueue) Close() error {
	if err := q.rdb.Close(); err != nil {
		return fmt.Errorf("tasks: close asynq queue: %w", err)
	}
	return nil
}

// WorkerOptions configures NewAsynqWorker. Zero values select defaults.
type WorkerOptions struct {
	// Concurrency is the number of handlers run at once (default 10).
	Concurrency int
	// Log receives the worker's and asynq's messages (default slog.Default()).
	Log *slog.Logger
	// ShutdownTimeout is how long Run waits for running handlers after its
	// context is done (default DefaultShutdownTimeout); asynq then puts the
	// unfinished tasks back in the queue.
	ShutdownTimeout time.Duration
	// Backoff is the delay before the retry after the n-th failure, n from 1
	// (default Backoff). Asynq schedules retries with one-second precision.
	Backoff func(n int) time.Duration
	// PollInterval is how often an idle worker looks for new tasks
	// (default 1 s).
	PollInterval time.Duration
	// RetryCheckInterval is how often tasks whose retry delay has passed are
	// moved back to the queue (default 2 s, which keeps the first retry
	// within 10 s).
	RetryCheckInterval time.Duration
}

// AsynqWorker runs the handlers of a Mux on the tasks of one asynq queue.
type AsynqWorker struct {
	redisOpt asynq.RedisConnOpt
	queue    string
	mux      *Mux
	opts     WorkerOptions
	log      *slog.Logger
}

// NewAsynqWorker returns a worker for queueName running the handlers of mux.
// Call Run to start it.
func NewAsynqWorker(redisOpt asynq.RedisConnOpt, queueName string, mux *Mux, opts WorkerOptions) *AsynqWorker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 10
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.Backoff == nil {
		opts.Backoff = Backoff
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.RetryCheckInterval <= 0 {
		opts.RetryCheckInterval = 2 * time.Second
	}
	return &AsynqWorker{
		redisOpt: redisOpt,
		queue:    queueName,
		mux:      mux,
		opts:     opts,
		log:      opts.Log.With("component", "tasks", "queue", queueName),
	}
}

// Run checks that Redis answers, processes tasks until ctx is done, then
// shuts down gracefully: it stops taking tasks and waits for running
// handlers up to ShutdownTimeout. Handlers run with a context that keeps
// ctx's values but not its cancellation, bounded by the task's timeout.
// Run returns nil after a shutdown and an error if it cannot start.
func (w *AsynqWorker) Run(ctx context.Context) error {
	base := context.WithoutCancel(ctx)
	level := asynq.InfoLevel
	if w.log.Enabled(ctx, slog.LevelDebug) {
		level = asynq.DebugLevel
	}
	rdb := makeRedis(w.redisOpt)
	defer rdb.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		return fmt.Errorf("tasks: start asynq worker: ping redis: %w", backend.Classify(err))
	}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:    w.opts.Concurrency,
		BaseContext:    func() context.Context { return base },
		Queues:         map[string]int{w.queue: 1},
		RetryDelayFunc: w.retryDelay,
		// Every error counts toward MaxRetry, outages included: a task
		// such as an SMS must not be retried for ever while a provider is down.
		IsFailure:                func(err error) bool { return err != nil },
		ErrorHandler:             asynq.ErrorHandlerFunc(w.logFailure),
		Logger:                   slogAdapter{log: w.log},
		LogLevel:                 level,
		ShutdownTimeout:          w.opts.ShutdownTimeout,
		TaskCheckInterval:        w.opts.PollInterval,
		DelayedTaskCheckInterval: w.opts.RetryCheckInterval,
		HealthCheckFunc: func(err error) {
			if err != nil {
				w.log.Error("asynq worker cannot reach redis", "err", err)
			}
		},
	})
	if err := srv.Start(asynq.HandlerFunc(w.process)); err != nil {
		return fmt.Errorf("tasks: start asynq worker: %w", err)
	}
	w.log.InfoContext(ctx, "asynq worker started", "concurrency", w.opts.Concurrency)
	<-ctx.Done()
	w.log.InfoContext(ctx, "asynq worker shutting down", "shutdown_timeout", w.opts.ShutdownTimeout)
	srv.Shutdown()
	w.log.InfoContext(ctx, "asynq worker stopped")
	return nil
}

// retryDelay adapts Backoff to asynq, which counts earlier retries from 0.
func (w *AsynqWorker) retryDelay(retried int, _ error, _ *asynq.Task) time.Duration {
	return w.opts.Backoff(retried + 1)
}

// process runs the handler of t's type, recovering panics, and turns
// ErrSkipRetry into asynq.SkipRetry.
func (w *AsynqWorker) process(ctx context.Context, t *asynq.Task) error {
	h, ok := w.mux.Handler(t.Type())
	if !ok {
		// Retried: during a rolling deploy a newer worker may know the type.
		return fmt.Errorf("tasks: no handler registered for %q", t.Type())
	}
	err := call(ctx, h, t.Payload())
	if err == nil {
		return nil
	}
	if pe, ok := errors.AsType[*PanicError](err); ok {
		id, _ := asynq.GetTaskID(ctx)
		w.log.ErrorContext(ctx, "task handler panicked", "type", t.Type(), "id", id,
			"panic", pe.Value, "stack", string(pe.Stack))
	}
	if errors.Is(err, ErrSkipRetry) {
		return fmt.Errorf("%w (%w)", err, asynq.SkipRetry)
	}
	return err
}

func (w *AsynqWorker) logFailure(ctx context.Context, t *asynq.Task, err error) {
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	id, _ := asynq.GetTaskID(ctx)
	args := []any{"type", t.Type(), "id", id, "attempt", retried + 1, "err", err}
	switch {
	case errors.Is(err, asynq.SkipRetry):
		w.log.WarnContext(ctx, "task failed; not retried", args...)
	case retried >= maxRetry:
		w.log.ErrorContext(ctx, "task failed; retries exhausted", append(args, "max_retry", maxRetry)...)
	default:
		w.log.WarnContext(ctx, "task failed; will retry", append(args, "retry_in", w.opts.Backoff(retried+1))...)
	}
}

// slogAdapter lets asynq log through slog.
type slogAdapter struct{ log *slog.Logger }

var _ asynq.Logger = slogAdapter{}

func (a slogAdapter) Debug(args ...any) { a.log.Debug(fmt.Sprint(args...), "source", "asynq") }
func (a slogAdapter) Info(args ...any)  { a.log.Info(fmt.Sprint(args...), "source", "asynq") }
func (a slogAdapter) Warn(args ...any)  { a.log.Warn(fmt.Sprint(args...), "source", "asynq") }
func (a slogAdapter) Error(args ...any) { a.log.Error(fmt.Sprint(args...), "source", "asynq") }

// Fatal logs at error level. Asynq does not call it; a library must not
// exit the process, so it does not.
func (a slogAdapter) Fatal(args ...any) {
	a.log.Error(fmt.Sprint(args...), "source", "asynq", "fatal", true)
}
