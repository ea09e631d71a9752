package app

// Periodic tasks (the role of Celery Beat): the VIP-expiry sweep and the
// retry sweep for images whose Qiniu upload is still pending. They run on
// asynq's scheduler in whichever process runs tasks (`swiper worker`, or
// `swiper serve` with workers), behind a Redis leader lock so that exactly
// one scheduler is active across all processes (tasks.Scheduler); embedded
// they run on plain tickers.

import (
	"context"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/tasks"
)

// Task types of the periodic sweeps.
const (
	TaskSweepVIP   = "sweep:vip-expiry"
	TaskSweepMedia = "sweep:media-retry"
)

// sweepBatch is how many rows one sweep step handles.
const sweepBatch = 500

// registerSweeps adds the sweep handlers and their schedule.
func (a *App) registerSweeps(remote bool) {
	every := a.Cfg.SweepInterval
	a.mux.Handle(TaskSweepVIP, a.sweepVIP)
	a.periodic = append(a.periodic, tasks.Periodic{Type: TaskSweepVIP, Every: every, Timeout: time.Minute})
	a.mux.Handle(TaskSweepDeleted, a.sweepDeleted) // safety.go
	a.periodic = append(a.periodic, tasks.Periodic{Type: TaskSweepDeleted, Every: every, Timeout: 5 * time.Minute})
	if remote {
		retryAfter := a.Cfg.MediaRetryAfter
		a.mux.Handle(TaskSweepMedia, func(ctx context.Context, _ []byte) error { return a.sweepMedia(ctx, retryAfter) })
		a.periodic = append(a.periodic, tasks.Periodic{Type: TaskSweepMedia, Every: every, Timeout: 5 * time.Minute})
	}
}

// runPeriodic schedules the sweeps until ctx is done.
func (a *App) runPeriodic(ctx context.Context) {
	if a.inproc != nil {
		tasks.RunPeriodic(ctx, a.queue, a.periodic, a.Log)
		return
	}
	s := tasks.NewScheduler(a.connOpt, a.redis, a.opts.QueueName, a.periodic, tasks.SchedulerOptions{
		LockKey: a.opts.RedisPrefix + "swiper:scheduler:leader:" + a.opts.QueueName,
		LockTTL: a.Cfg.SchedulerLockTTL,
		Log:     a.Log,
	})
	_ = s.Run(ctx)
}

// sweepVIP resets expired VIP levels and drops the users' cached copies.
func (a *App) sweepVIP(ctx context.Context, _ []byte) error {
	total := 0
	for {
		ids, err := a.Store.ExpireVIP(ctx, a.opts.Clock.Now().UTC(), sweepBatch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := a.InvalidateUserCache(ctx, id); err != nil {
				return err // retried next period; the row is already level 0
			}
		}
		total += len(ids)
		if len(ids) < sweepBatch {
			break
		}
	}
	a.Log.Info("periodic sweep ran", "task", TaskSweepVIP, "expired", total)
	return nil
}

// sweepMedia queues again the Qiniu upload of the images still served
// locally whose file is older than retryAfter (profile.RetryUploads).
func (a *App) sweepMedia(ctx context.Context, retryAfter time.Duration) error {
	pending, queued, err := a.Profile.RetryUploads(ctx, retryAfter, sweepBatch)
	if err != nil {
		return err
	}
	a.Log.Info("periodic sweep ran", "task", TaskSweepMedia, "pending", pending, "queued", queued)
	return nil
}
