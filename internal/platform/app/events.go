package app

import (
	"context"
	"fmt"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/platform/httpapi"
)

// openEvents builds the per-user event streams: log and fan-out in Redis
// on the production path (every replica sees every event); embedded, the
// log in the SQLite file (seqs and the replay horizon survive a restart)
// or, on MySQL without Redis, in memory, with the fan-out in-process. It
// starts the fan-out's receiver and makes the registry of open sockets;
// Close closes the sockets (1012) and stops the receiver.
func (a *App) openEvents(_ context.Context) (*events.Service, error) {
	m := events.NewMetrics(a.Registry)
	hub := events.NewHub(m)
	limits := events.DefaultLimits()
	if a.opts.Events != (events.Limits{}) {
		limits = a.opts.Events
	}
	d := events.Deps{Hub: hub, Metrics: m, Logger: a.Log}
	dialect, dsn, err := a.Cfg.Database()
	switch {
	case err != nil:
		return nil, err
	case a.redis != nil:
		d.Log = events.NewRedis(a.redis, a.opts.RedisPrefix, a.opts.Clock, limits)
		d.Fanout = events.NewRedisFanout(a.redis, a.opts.RedisPrefix)
	case dialect == config.SQLite:
		db, err := kv.OpenSQLiteDB(dsn)
		if err != nil {
			return nil, fmt.Errorf("app: events: %w", err)
		}
		a.closers = append(a.closers, db.Close)
		d.Log = events.NewSQLite(db, a.opts.Clock, limits)
	default:
		d.Log = events.NewMemory(a.opts.Clock, limits)
	}
	svc := events.New(d)

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	a.closers = append(a.closers, func() error { stop(); <-done; return nil })
	a.sockets = httpapi.NewSockets()
	a.closers = append(a.closers, func() error { return a.closeSockets() })
	return svc, nil
}

// closeSockets closes every open events socket with 1012 (clients
// reconnect with since to another replica) and waits for their handlers,
// at most 5 s.
func (a *App) closeSockets() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.sockets.Shutdown(ctx); err != nil {
		return fmt.Errorf("app: events sockets: %w", err)
	}
	return nil
}
