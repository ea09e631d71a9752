package app

// Periodic tasks (the role of Celery Beat): the VIP-expiry sweep and the
// retry sweep for images whose Qiniu upload is still pending. They run on
// asynq's scheduler in whichever process runs tasks (`swiper worker`, or
// `swiper serve` with workers), behind a Redis leader lock so that exactly
// one scheduler is active across all processes (tasks.Scheduler); embedded
// they run on plain tickers.

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/swiper-social/swiper/internal/blob"
	"github.com/swiper-social/swiper/internal/profile"
	"github.com/swiper-social/swiper/internal/tasks"
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

// uploadPayload is the payload of profile.TaskUploadMedia (profile's
// uploadTask): the sweep re-enqueues uploads with the same shape.
type uploadPayload struct {
	Key         string `json:"key"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// sweepMedia re-enqueues the upload of every image that is still served
// locally although storage is Qiniu, once its local file is older than
// retryAfter (its upload was never queued — Redis was down — or its retries
// ran out). The task id is the one the upload path uses ("upload:"+key), so
// an upload still queued or retrying is not duplicated.
func (a *App) sweepMedia(ctx context.Context, retryAfter time.Duration) error {
	keys, err := a.Store.LocalMediaKeys(ctx, "/media/", sweepBatch)
	if err != nil {
		return err
	}
	now := time.Now()
	queued := 0
	for _, key := range keys {
		if strings.Contains(key, "..") {
			continue
		}
		fi, err := os.Stat(filepath.Join(a.Cfg.MediaDir, filepath.FromSlash(key)))
		if err != nil || now.Sub(fi.ModTime()) < retryAfter {
			continue // fresh (its upload is probably running) or gone
		}
		data, err := a.local.Get(ctx, key)
		if errors.Is(err, blob.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		payload, _ := json.Marshal(uploadPayload{Key: key, ContentType: contentTypeOf(key), Data: data})
		if err := a.queue.Enqueue(ctx, tasks.Task{Type: profile.TaskUploadMedia, Payload: payload,
			ID: "upload:" + key, MaxRetry: 20, Timeout: time.Minute}); err != nil {
			return err
		}
		queued++
	}
	a.Log.Info("periodic sweep ran", "task", TaskSweepMedia, "pending", len(keys), "queued", queued)
	return nil
}

func contentTypeOf(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".png":
		return "image/png"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	default:
		return "image/jpeg"
	}
}
