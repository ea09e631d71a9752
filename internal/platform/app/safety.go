package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/adapters/cache"
	"github.com/swiper-social/swiper/internal/adapters/deckstate"
	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/rank"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/auth"
	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/domain/safety"
	"github.com/swiper-social/swiper/internal/domain/social"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// TaskSweepDeleted finishes account deletions (safety.Service.PurgeDeleted).
const TaskSweepDeleted = "sweep:deleted-accounts"

// newSafety wires the safety module.
func (a *App) newSafety(board rank.Board) *safety.Service {
	return safety.New(safety.Deps{
		Store: a.Store, Sessions: revoker{caches: a, sessions: a.kv}, DeckState: a.deckState, Rank: board, Events: a.Events,
		Media: a.Profile, Accounts: a.Profile, Caches: a, Streams: a.events,
		Clock: a.opts.Clock, TZ: a.Cfg.Timezone, HideAt: a.Cfg.ReportHideThreshold, Log: a.Log,
	})
}

// sweepDeleted removes the tombstones of accounts deleted a while ago.
func (a *App) sweepDeleted(ctx context.Context, _ []byte) error {
	n, err := a.Safety.PurgeDeleted(ctx, safety.TombstoneDelay, sweepBatch)
	if n > 0 {
		a.Log.Info("periodic sweep ran", "task", TaskSweepDeleted, "purged", n)
	}
	return err
}

// PurgeDeleted finishes at once the deletion of every account deleted so
// far (tests; the sweep waits safety.TombstoneDelay).
func (a *App) PurgeDeleted(ctx context.Context) (int, error) {
	return a.Safety.PurgeDeleted(ctx, -safety.TombstoneDelay, 1<<20)
}

// usersChanged is what the embedded path's caches follow (store.UsersChanged):
// a user changed by another process (`swiper ban`) may change who is in a
// deck, so the deck index is told as well.
func (a *App) usersChanged(ctx context.Context) ([]int64, error) {
	ids, err := a.Store.UsersChanged(ctx)
	if len(ids) > 0 {
		if cerr := a.deckState.Changed(ctx); cerr != nil {
			a.Log.WarnContext(ctx, "deck change not reported; the index catches up within its poll", "err", cerr)
		}
	}
	return ids, err
}

// watchedDeckState is the deck state the social module reads: embedded, a
// deck first checks for writes of other processes (one PRAGMA while there
// are none), so that a ban made by `swiper ban` shows on the next deck.
func (a *App) watchedDeckState() deckstate.Store {
	if a.watch == nil {
		return a.deckState
	}
	return watchedDeck{Store: a.deckState, w: a.watch}
}

type watchedDeck struct {
	deckstate.Store
	w *cache.Watch
}

func (d watchedDeck) Probe(ctx context.Context, viewer int64, ids []int64, limit int) (deckstate.Probe, error) {
	d.w.Check(ctx)
	return d.Store.Probe(ctx, viewer, ids, limit)
}

// Moderation is the safety module of an operator command (`swiper ban`,
// `swiper reports …`), running as its own process next to the servers.
type Moderation struct {
	*safety.Service
	Store   *store.Store
	closers []func() error
}

// Close releases the connections.
func (m *Moderation) Close() {
	for i := len(m.closers) - 1; i >= 0; i-- {
		_ = m.closers[i]()
	}
}

// OpenModeration connects to the database of cfg (migrating it) and to
// what the servers share: with Redis the sessions, caches, deck state and
// hot rank, which it updates itself; embedded the sessions in the
// database file (the servers notice the other changes themselves, see
// usersChanged). Every server sees a ban on its next request.
func OpenModeration(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *Moderation, err error) {
	dialect, dsn, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	m := &Moderation{}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if m.Store, err = store.Open(ctx, dialect, dsn); err != nil {
		return nil, err
	}
	m.closers = append(m.closers, m.Store.Close)
	if err := m.Store.Migrate(ctx, log); err != nil {
		return nil, err
	}
	d := safety.Deps{Store: m.Store, Clock: clock.Real{}, TZ: cfg.Timezone, HideAt: cfg.ReportHideThreshold, Log: log}
	switch {
	case cfg.RedisURL != "":
		rc, err := kv.OpenRedis(ctx, cfg.RedisURL)
		if err != nil {
			return nil, err
		}
		m.closers = append(m.closers, rc.Close)
		prefix := redisPrefix(cfg)
		sessions := kv.NewRedis(rc, prefix)
		d.DeckState = deckstate.NewRedis(rc, prefix, deckstate.DefaultTTL)
		d.Rank = rank.NewRedis(rc, prefix, social.RankTop(m.Store), social.RankScores(m.Store), rank.Options{})
		users, profiles := cache.ForProfiles(sessions, cache.NewMetrics(prometheus.NewRegistry()), CacheTTL(cfg), log)
		d.Caches = userCaches{users, profiles}
		d.Sessions = revoker{caches: d.Caches, sessions: sessions}
		// Events (a ban's `unmatch`) reach the sockets on every replica.
		streams := events.New(events.Deps{Log: events.NewRedis(rc, prefix, clock.Real{}, events.DefaultLimits()),
			Fanout: events.NewRedisFanout(rc, prefix), Logger: log})
		d.Events, d.Streams = streams, streams
	case dialect == config.SQLite:
		db, err := kv.OpenSQLiteDB(dsn)
		if err != nil {
			return nil, err
		}
		m.closers = append(m.closers, db.Close)
		sessions, err := kv.NewSQLite(ctx, db, clock.Real{})
		if err != nil {
			return nil, err
		}
		m.closers = append(m.closers, sessions.Close)
		// The servers' caches are in their memory: they drop a user's
		// entries on their next read after the ban's commit (usersChanged).
		d.Sessions = revoker{sessions: sessions}
		// Events (a ban's `unmatch`) go to the log in the database file:
		// clients get them when they reconnect with `since`.
		streams := events.New(events.Deps{Log: events.NewSQLite(db, clock.Real{}, events.DefaultLimits()), Logger: log})
		d.Events, d.Streams = streams, streams
	default:
		log.Warn("no Redis: the sessions live in the servers' memory, which this command cannot reach; a ban takes effect on their sessions after a restart")
	}
	m.Service = safety.New(d)
	return m, nil
}

// userCaches are the servers' user caches, reached from an operator command.
type userCaches struct {
	users    *cache.Cache[profile.Record]
	profiles *cache.Cache[model.Profile]
}

func (c userCaches) InvalidateUserCache(ctx context.Context, id int64) error {
	return errors.Join(c.users.Invalidate(ctx, id), c.profiles.Invalidate(ctx, id))
}

// revoker is the safety module's Sessions: it drops a user's cached rows,
// then revokes the user's sessions in the servers' session store — in this
// order, which a login relies on: it judges a suspension from the user's
// row, possibly read from the cache, after it read the session generation
// the revocation bumps (auth.Service.Login).
type revoker struct {
	caches   safety.Caches // nil: none this process can reach
	sessions auth.Sessions
}

func (r revoker) RevokeAll(ctx context.Context, uid int64) error {
	if r.caches != nil {
		if err := r.caches.InvalidateUserCache(ctx, uid); err != nil {
			return fmt.Errorf("app: revoke sessions of %d: %w", uid, err)
		}
	}
	if err := auth.RevokeSessions(ctx, r.sessions, uid); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}
