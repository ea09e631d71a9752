// Package app is the composition root: it builds every adapter from the
// configuration, wires the services and owns start-up and shutdown.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/api"
	"github.com/swiper-social/swiper/internal/adapters/blob"
	"github.com/swiper-social/swiper/internal/adapters/cache"
	"github.com/swiper-social/swiper/internal/adapters/deckstate"
	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/otp"
	"github.com/swiper-social/swiper/internal/adapters/rank"
	"github.com/swiper-social/swiper/internal/adapters/ratelimit"
	"github.com/swiper-social/swiper/internal/adapters/sms"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/tasks"
	"github.com/swiper-social/swiper/internal/domain/activity"
	"github.com/swiper-social/swiper/internal/domain/auth"
	"github.com/swiper-social/swiper/internal/domain/chat"
	"github.com/swiper-social/swiper/internal/domain/deck"
	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/domain/media"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/domain/safety"
	"github.com/swiper-social/swiper/internal/domain/social"
	"github.com/swiper-social/swiper/internal/platform/batch"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/platform/httpapi"
)

// Options are the knobs tests (and only tests) turn; production uses the zero value.
type Options struct {
	Clock       clock.Clock                   // default clock.Real
	SMSSink     func(phone, code string)      // also receives every code sent through the console provider
	SMSSender   sms.Sender                    // replaces the configured provider
	RedisPrefix string                        // prefix of every Redis key (isolates tests)
	QueueName   string                        // asynq queue, default "swiper"
	HTTPClient  *http.Client                  // for Yunzhixun and Qiniu
	Web         fs.FS                         // the built web client
	OTPPolicy   func(p otp.Policy) otp.Policy // adjusts the code policy
	DeckSource  func(deck.Source) deck.Source // wraps what the deck index reads (tests hold its load)
	Rank        rank.Options                  // the hot rank's Redis board (tests shrink its size)
	Events      events.Limits                 // what the event logs keep per user (tests shrink it)
	EventsPing  time.Duration                 // ping interval of the events socket (default 30 s)
}

// App is a wired Swiper.
type App struct {
	Cfg      config.Config
	Log      *slog.Logger
	Store    *store.Store
	Auth     *auth.Service
	Profile  *profile.Service
	Social   *social.Service
	Chat     *chat.Service   // conversations of matched users
	Safety   *safety.Service // blocks, reports, bans, account deletion and export
	Handler  http.Handler
	Registry *prometheus.Registry
	Activity *activity.Tracker // batched "last active" stamps; Serve runs it
	Deck     *deck.Index       // recommendation index; Serve keeps it fresh
	Events   events.Publisher  // per-user event streams (chat, matches), fanned out to sockets

	opts    Options
	redis   redis.UniversalClient
	kv      kv.Store // sessions, rate limits: Redis, or embedded the SQLite file (embedded.go)
	caches  kv.Store // the user caches: a.kv on Redis, in memory embedded
	queue   tasks.Queue
	mux     *tasks.Mux
	inproc  *tasks.InProcess
	asynqQ  *tasks.AsynqQueue
	connOpt asynq.RedisConnOpt
	closers []func() error

	// social module: the hot rank's Redis board (nil embedded) and the
	// user caches, for InvalidateUserCache.
	rankRedis *rank.Redis
	deckState *deckstate.Retrying
	users     *cache.Cache[profile.Record]
	profiles  *cache.Cache[model.Profile]
	limiter   *ratelimit.Limiter // the 2008 limits of every module
	watch     *cache.Watch       // embedded: writes of other processes (safety.go)

	events  *events.Service  // the event streams behind Events and the events socket
	sockets *httpapi.Sockets // the open events sockets, closed with 1012 on shutdown

	// periodic tasks (sweeps.go in this package)
	periodic []tasks.Periodic
}

// New builds the application: it opens the database (and migrates it),
// Redis when configured, and every adapter.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (_ *App, err error) {
	opts = opts.withDefaults(cfg)
	a := &App{Cfg: cfg, Log: log, opts: opts, Registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	dialect, dsn, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	if err := a.openDatabase(ctx, dialect, dsn); err != nil {
		return nil, err
	}
	policy := otp.DefaultPolicy()
	policy.IPLimit = cfg.OTPIPLimit
	if opts.OTPPolicy != nil {
		policy = opts.OTPPolicy(policy)
	}
	codes, err := a.openState(ctx, dialect, dsn, policy)
	if err != nil {
		return nil, err
	}
	key, err := a.Store.Secret(ctx, "otp_hmac", func() []byte {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return b
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	local, remote, err := a.openMedia()
	if err != nil {
		return nil, err
	}
	if err := a.openShared(ctx); err != nil {
		return nil, err
	}
	if err := a.newProfile(ctx, local, remote); err != nil {
		return nil, err
	}
	board := a.newBoard(ctx)
	a.newSocial(board)
	if err := a.newChat(dialect, dsn); err != nil {
		return nil, err
	}
	a.Auth = auth.New(auth.Deps{
		Codes: codes, Policy: policy, Sessions: a.kv, Queue: a.queue, Users: a.Profile,
		Clock: opts.Clock, TZ: cfg.Timezone, Key: key, Log: log,
	})
	a.Safety = a.newSafety(board) // safety.go
	a.mux.Handle(auth.TaskSendSMS, a.Auth.SMSHandler(a.smsSender()))
	a.mux.Handle(profile.TaskUploadMedia, a.Profile.UploadHandler())
	a.mux.Handle(profile.TaskDeleteMedia, a.Profile.DeleteHandler())
	a.registerSweeps(remote != nil) // periodic tasks: sweeps.go
	a.Activity = activity.New(a.Store, opts.Clock, 10*time.Second, log)
	if err := a.newHandler(local); err != nil {
		return nil, err
	}
	return a, nil
}

// withDefaults fills the options left unset.
func (opts Options) withDefaults(cfg config.Config) Options {
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.RedisPrefix == "" {
		opts.RedisPrefix = redisPrefix(cfg)
	}
	if opts.QueueName == "" {
		opts.QueueName = "swiper"
		if cfg.RedisNamespace != "" {
			opts.QueueName = cfg.RedisNamespace + "-swiper"
		}
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return opts
}

// openDatabase opens the store, counts its statements (metric
// swiper_db_statements_total) and migrates it.
func (a *App) openDatabase(ctx context.Context, dialect, dsn string) (err error) {
	a.Store, err = store.Open(ctx, dialect, dsn)
	if err != nil {
		return fmt.Errorf("app: database: %w", err)
	}
	a.closers = append(a.closers, a.Store.Close)
	for kind, n := range map[string]func(store.QueryCounts) int64{
		"read":  func(c store.QueryCounts) int64 { return c.Reads },
		"write": func(c store.QueryCounts) int64 { return c.Writes },
		"other": func(c store.QueryCounts) int64 { return c.Other },
	} {
		a.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "swiper_db_statements_total",
			Help: "Statements sent to the database, by kind (read, write, other: transaction control).", ConstLabels: prometheus.Labels{"kind": kind}},
			func() float64 { return float64(n(a.Store.Queries())) }))
	}
	if err := a.Store.Migrate(ctx, a.Log); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}

// openState opens what the modules keep outside the database: Redis (the
// key-value store, the codes, the task queue) when configured; otherwise
// in process, and in the SQLite file what must survive a restart. It
// returns the codes' store.
func (a *App) openState(ctx context.Context, dialect, dsn string, policy otp.Policy) (codes otp.Store, err error) {
	cfg, opts, log := a.Cfg, a.opts, a.Log
	a.mux = tasks.NewMux()
	if cfg.RedisURL != "" {
		a.redis, err = kv.OpenRedis(ctx, cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("app: redis: %w", err)
		}
		a.closers = append(a.closers, a.redis.Close)
		kvs := kv.NewRedis(a.redis, opts.RedisPrefix)
		a.kv, a.caches = kvs, kvs
		// The codes among the same keys: a login's session is stored, and
		// the user's cached record read, in the code's script (kv.Redis.Key).
		codes = otp.NewRedis(kvs, policy)
		a.connOpt, err = tasks.RedisConnOpt(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("app: redis: %w", err)
		}
		a.asynqQ = tasks.NewAsynqQueue(a.connOpt, opts.QueueName)
		a.closers = append(a.closers, a.asynqQ.Close)
		a.queue = a.asynqQ
	} else {
		a.kv = kv.NewMemory(opts.Clock)
		a.caches = a.kv
		codes = otp.NewMemory(policy)
		if dialect == config.SQLite {
			// What must survive a restart lives in the database file.
			if a.kv, codes, err = a.embeddedState(ctx, dsn, policy); err != nil {
				return nil, err
			}
		}
		a.inproc = tasks.NewInProcess(a.mux, tasks.InProcessOptions{Workers: 4, Log: log})
		a.queue = a.inproc
	}
	return codes, nil
}

// openMedia opens the local media dir and, when configured, the remote
// storage (Qiniu).
func (a *App) openMedia() (local *blob.Local, remote blob.Storage, err error) {
	cfg, opts := a.Cfg, a.opts
	local, err = blob.NewLocal(cfg.MediaDir, blob.DefaultLocalBaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("app: media dir: %w", err)
	}
	a.closers = append(a.closers, local.Close)
	if cfg.Storage == "qiniu" {
		q := cfg.Qiniu
		remote, err = blob.NewQiniu(blob.QiniuConfig{AccessKey: q.AccessKey, SecretKey: q.SecretKey, Bucket: q.Bucket,
			Domain: q.Domain, UpHost: q.UpHost}, opts.HTTPClient)
		if err != nil {
			return nil, nil, fmt.Errorf("app: qiniu: %w", err)
		}
	}
	return local, remote, nil
}

// openShared builds what every module shares: the deck state, the rate
// limiter and the event streams.
func (a *App) openShared(ctx context.Context) (err error) {
	opts, log := a.opts, a.Log
	// The deck state: per-viewer exclusions and superlikers, shared by the
	// replicas through Redis on the production path.
	var ds deckstate.Store = deckstate.NewMemory(opts.Clock, deckstate.DefaultTTL)
	if a.redis != nil {
		ds = deckstate.NewRedis(a.redis, opts.RedisPrefix, deckstate.DefaultTTL)
	}
	a.deckState = deckstate.NewRetrying(ds, 100_000, log)

	// The "too many requests" limits (2008) of every module, on the kv
	// store: shared by the replicas through Redis on the production path.
	a.limiter = ratelimit.New(a.kv, opts.Clock, "")

	// The per-user event streams (events.go in this package): every module
	// publishes through a.Events; the events socket streams from a.events.
	if a.events, err = a.openEvents(ctx); err != nil {
		return err
	}
	a.Events = a.events
	return nil
}

// newProfile builds the user caches and the profile module.
func (a *App) newProfile(ctx context.Context, local *blob.Local, remote blob.Storage) error {
	cfg, opts, log := a.Cfg, a.opts, a.Log
	cm := cache.NewMetrics(a.Registry)
	users, profiles := cache.ForProfiles(a.caches, cm, CacheTTL(cfg), log)
	a.users, a.profiles = users, profiles
	if a.Store.FollowsOutsideWrites() {
		// Operator commands (`swiper vip grant`) write the database from
		// another process: the caches drop the users they changed on the
		// next read (store.UsersChanged).
		if _, err := a.Store.UsersChanged(ctx); err != nil { // starts following
			return fmt.Errorf("app: %w", err)
		}
		w := cache.NewWatch(a.usersChanged, log)
		a.watch = w
		users.Follow(w)
		profiles.Follow(w)
	}
	// Quota reads of concurrent Me answers share statements (closed after
	// the HTTP server drained, before the database).
	quotas := profile.NewSharedQuotas(a.Store, func(t time.Time) string { return social.Day(t, cfg.Timezone) })
	a.closers = append(a.closers, func() error { quotas.Close(); return nil })
	a.Profile = profile.New(profile.Deps{
		Store: a.Store, Users: users, Profiles: profiles, Local: local, Remote: remote, Queue: a.queue,
		Clock: opts.Clock, TZ: cfg.Timezone, Media: media.NewProcessor(media.DefaultLimits()), FreeDailyLikes: cfg.FreeDailyLikes, Log: log,
		Quotas: quotas, Changed: a.deckState.Changed, Limiter: a.limiter,
		UploadLimit:   ratelimit.Rule{Name: "uploads", Max: int64(cfg.UploadsPerHour), Per: time.Hour},
		LocationLimit: ratelimit.Rule{Name: "location", Max: int64(cfg.LocationsPerHour), Per: time.Hour},
		ViewLimit:     ratelimit.Rule{Name: "profile_views", Max: int64(cfg.ViewsPer10Min), Per: 10 * time.Minute},
	})
	return nil
}

// newBoard builds the hot rank's board: a bounded Redis list of the top on
// the production path (refilled from the scores table), the table itself
// embedded.
func (a *App) newBoard(ctx context.Context) rank.Board {
	opts, log := a.opts, a.Log
	var board rank.Board = rank.NewTable(social.RankTop(a.Store))
	if a.redis != nil {
		a.rankRedis = rank.NewRedis(a.redis, opts.RedisPrefix, social.RankTop(a.Store), social.RankScores(a.Store), opts.Rank)
		if err := a.rankRedis.EnsureReady(ctx); err != nil {
			log.Warn("hot rank not rebuilt at start; the first read retries", "err", err)
		}
		board = a.rankRedis
	}
	return board
}

// newSocial builds the deck index and the social module.
func (a *App) newSocial(board rank.Board) {
	cfg, opts, log := a.Cfg, a.opts, a.Log
	// Recommendations: the in-memory deck index (loaded by Serve, or on the
	// first deck or readiness check; decks answer 503 until it is loaded).
	var src deck.Source = a.Store
	if opts.DeckSource != nil {
		src = opts.DeckSource(src)
	}
	a.Deck = deck.New(src, opts.Clock.Now)
	a.closers = append(a.closers, func() error { a.Deck.Close(); return nil }) // before the database
	// Swipes share transactions: the social module's committer (closed
	// after the HTTP server drained, before the database).
	a.Social = social.New(social.Deps{
		Store: a.Store, Profile: a.Profile, Rank: board, Clock: opts.Clock, TZ: cfg.Timezone,
		FreeDailyLikes: cfg.FreeDailyLikes, Log: log, Deck: a.Deck, DeckState: a.watchedDeckState(),
		SwipeBatchSize: social.SwipeBatchSize, SwipeCommitters: cfg.SwipeCommitters, Metrics: a.Registry, CachedUser: a.cachedUser, Events: a.Events,
	})
	a.closers = append(a.closers, func() error { a.Social.Close(); return nil })
}

// newChat builds the conversations module and its send committer.
func (a *App) newChat(dialect, dsn string) error {
	opts, log := a.opts, a.Log
	// Conversations: the send limit is a rolling window, shared by the
	// replicas in Redis, embedded in the SQLite file (its own pool).
	var window ratelimit.Window = ratelimit.NewMemoryWindow()
	switch {
	case a.redis != nil:
		window = ratelimit.NewRedisWindow(a.redis, opts.RedisPrefix)
	case dialect == config.SQLite:
		wdb, err := kv.OpenSQLiteDB(dsn)
		if err != nil {
			return fmt.Errorf("app: %w", err)
		}
		a.closers = append(a.closers, wdb.Close)
		window = ratelimit.NewSQLiteWindow(wdb)
	}
	// Messages share transactions and the publication of their events:
	// chat's committers (closed after the HTTP server drained, before the
	// database).
	a.Chat = chat.New(chat.Deps{
		Store: a.Store, Cards: a.Profile, User: a.cachedUser, Events: a.Events,
		Limiter: ratelimit.NewRolling(window, opts.Clock, ""), Limit: chat.DefaultLimit(), Clock: opts.Clock, Log: log,
	})
	a.closers = append(a.closers, func() error { a.Chat.Close(); return nil })
	return nil
}

// smsSender is the sender of the login codes: the one of the options, the
// configured provider, or the console.
func (a *App) smsSender() sms.Sender {
	cfg, opts, log := a.Cfg, a.opts, a.Log
	sender := opts.SMSSender
	if sender == nil {
		switch cfg.SMSProvider {
		case "yunzhixun":
			y := cfg.Yunzhixun
			sender = sms.NewYunzhixun(sms.YunzhixunConfig{URL: y.URL, SID: y.SID, Token: y.Token, AppID: y.AppID, TemplateID: y.TemplateID}, opts.HTTPClient)
		default:
			sender = sms.NewConsole(log, opts.SMSSink)
		}
	}
	return sender
}

// newHandler builds the HTTP handler.
func (a *App) newHandler(local *blob.Local) error {
	cfg, opts, log := a.Cfg, a.opts, a.Log
	openapiJSON, err := api.JSON()
	if err != nil {
		return fmt.Errorf("app: openapi: %w", err)
	}
	// The deck index: 503 until loaded, a new replica gets no traffic before.
	ready := map[string]httpapi.Pinger{"database": a.Store, "deck index": a.Deck}
	if a.redis != nil {
		ready["redis"] = a.kv
	}
	a.Handler = httpapi.New(httpapi.Deps{
		Auth: a.Auth, Profile: a.Profile, Social: a.Social, Chat: a.Chat, Safety: a.Safety, Ready: ready, Gatherer: a.Registry,
		Metrics: httpapi.NewMetrics(a.Registry), OpenAPIJSON: openapiJSON, Media: local.FS(),
		Web: opts.Web, TrustedProxies: cfg.TrustedProxies, Activity: a.Activity, Log: log,
		Events: a.events, Sockets: a.sockets, PingInterval: opts.EventsPing,
		MeWithSession: a.redis != nil, // the caches are a.kv, the sessions' store
	})
	return nil
}

// Close releases every connection.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.Log.Warn("close", "err", err)
		}
	}
	a.closers = nil
}

// Embedded reports whether the task queue runs in this process only.
func (a *App) Embedded() bool { return a.inproc != nil }

// RunWorkers processes tasks until ctx is done, then drains them.
func (a *App) RunWorkers(ctx context.Context, concurrency int) error {
	// Periodic tasks run wherever tasks run: on asynq's scheduler behind a
	// Redis leader lock (one active scheduler across processes), embedded on
	// plain tickers. See sweeps.go.
	pctx, stopPeriodic := context.WithCancel(ctx)
	defer stopPeriodic()
	var pwg sync.WaitGroup
	defer pwg.Wait()
	pwg.Add(1)
	go func() { defer pwg.Done(); a.runPeriodic(pctx) }()
	if a.inproc != nil {
		return a.inproc.RunWorkers(ctx, concurrency)
	}
	w := tasks.NewAsynqWorker(a.connOpt, a.opts.QueueName, a.mux, tasks.WorkerOptions{Concurrency: concurrency, Log: a.Log})
	err := w.Run(ctx)
	stopPeriodic()
	return err
}

// Serve listens on cfg.Addr (or ln when given) and runs the task workers
// in-process unless workers is 0. On ctx done it stops accepting, drains
// in-flight requests, then drains tasks.
func (a *App) Serve(ctx context.Context, ln net.Listener, workers int) error {
	if workers == 0 && a.inproc != nil {
		return errors.New("serve --workers=0 needs SWIPER_REDIS_URL: without Redis the task queue lives in this process")
	}
	if ln == nil {
		var err error
		ln, err = net.Listen("tcp", a.Cfg.Addr)
		if err != nil {
			return fmt.Errorf("app: listen: %w", err)
		}
	}
	duck := &lameDuck{h: a.Handler}
	srv := &http.Server{
		Handler: duck, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var wg sync.WaitGroup
	workErr := make(chan error, 1)
	if workers != 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			workErr <- a.RunWorkers(workCtx, max(workers, 1))
		}()
	}
	defer a.runBackground(ctx)()
	if a.Cfg.PprofAddr != "" {
		stop, err := servePprof(a.Cfg.PprofAddr, a.Log)
		if err != nil {
			return err
		}
		defer stop()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.banner(ln.Addr().String(), workers)

	select {
	case err := <-serveErr:
		stopWork()
		wg.Wait()
		return fmt.Errorf("app: serve: %w", err)
	case err := <-workErr:
		_ = srv.Close()
		return fmt.Errorf("app: workers: %w", err)
	case <-ctx.Done():
	}
	// Event sockets close at once with 1012 (hijacked, Shutdown would not
	// see them): their clients reconnect to another replica while this one
	// drains its HTTP requests.
	socketsClosed := make(chan struct{})
	go func() {
		if err := a.closeSockets(); err != nil {
			a.Log.Warn("events sockets still open", "err", err)
		}
		close(socketsClosed)
	}()
	defer func() { <-socketsClosed }()
	if err := duck.stop(srv, ln, a.Cfg.DrainDelay, 25*time.Second, a.Log); err != nil {
		a.Log.Warn("shutdown deadline passed", "err", err)
	}
	a.Social.Close() // answers the swipes still queued; later ones get 503
	a.Chat.Close()   // the same for messages, and their events
	a.Log.Info("requests drained; draining tasks")
	stopWork()
	wg.Wait()
	a.Log.Info("stopped")
	return nil
}

// runBackground runs the loops of a serving replica: the activity stamps,
// the deck index refresh and the deck state's retries. The function it
// returns stops them and waits for them.
func (a *App) runBackground(ctx context.Context) (stop func()) {
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.Activity.Run(bgCtx) })
	wg.Go(func() { a.Deck.Run(bgCtx, time.Second, a.Log) })
	wg.Go(func() { a.deckState.Run(bgCtx, time.Second) })
	return func() { cancel(); wg.Wait() }
}

func (a *App) banner(addr string, workers int) {
	dialect, _, _ := a.Cfg.Database()
	mode := "embedded (sessions, codes and rate limits in the database file; in-process cache and task queue)"
	if dialect != config.SQLite {
		mode = "in-process (cache, sessions, codes, rate limits and task queue: a restart forgets them)"
	}
	if a.redis != nil {
		mode = "Redis (cache, sessions, rate limits) + asynq task queue"
	}
	tasksWhere := "in this process"
	if workers == 0 {
		tasksWhere = "in separate `swiper worker` processes"
	}
	a.Log.Info("Swiper is running", "url", "http://"+addr, "database", dialect, "state", mode,
		"tasks", tasksWhere, "storage", a.Cfg.Storage, "sms", a.Cfg.SMSProvider)
	if a.Cfg.SMSProvider == "console" {
		a.Log.Warn("SMS provider is `console`: verification codes are written to this log instead of being sent (development only)")
	}
	if a.Cfg.OTPIPLimit == 0 {
		a.Log.Warn("SWIPER_OTP_IP_LIMIT=0: the per-IP verification code limit is OFF (load tests only)")
	}
}

// CacheTTL is how long cached users and profiles live: long with Redis,
// where every process invalidates the shared cache; short embedded, where
// the cache lives in the server's memory (what another process, such as
// `swiper vip grant`, changes shows at once all the same: the caches
// follow store.UsersChanged).
func CacheTTL(cfg config.Config) time.Duration {
	if cfg.RedisURL != "" {
		return time.Hour
	}
	return 5 * time.Second
}

// redisPrefix is the prefix of every Redis key of the deployment.
func redisPrefix(cfg config.Config) string {
	if cfg.RedisNamespace == "" {
		return ""
	}
	return cfg.RedisNamespace + ":"
}

// InvalidateUser drops the cached copies of user id in Redis after an
// out-of-band write (the CLI). Embedded, the server's own caches drop them
// on its next request (they follow store.UsersChanged).
func InvalidateUser(ctx context.Context, cfg config.Config, log *slog.Logger, id int64) error {
	if cfg.RedisURL == "" {
		return nil
	}
	rc, err := kv.OpenRedis(ctx, cfg.RedisURL)
	if err != nil {
		return err
	}
	defer rc.Close()
	users, profiles := cache.ForProfiles(kv.NewRedis(rc, redisPrefix(cfg)), cache.NewMetrics(prometheus.NewRegistry()), CacheTTL(cfg), log)
	if err := users.Invalidate(ctx, id); err != nil {
		return err
	}
	return profiles.Invalidate(ctx, id)
}

// SwipeBatches counts the transactions that recorded swipes and the swipes
// they carried.
func (a *App) SwipeBatches() batch.Stats { return a.Social.SwipeBatches() }

// SendBatches counts the transactions that stored messages and the
// messages they carried.
func (a *App) SendBatches() batch.Stats { return a.Chat.SendBatches() }

// cachedUser reads user id through the user cache of the profile module,
// filling it as the profile module does (the row and its album): the
// social module checks VIP levels on it, and every VIP change (`swiper
// vip grant`, the expiry sweep) invalidates it.
func (a *App) cachedUser(ctx context.Context, id int64) (model.User, error) {
	r, err := a.users.Get(ctx, id, func(ctx context.Context) (profile.Record, error) {
		u, err := a.Store.User(ctx, id)
		if errors.Is(err, model.ErrNotFound) {
			return profile.Record{}, fmt.Errorf("%w: %d", profile.ErrUserNotFound, id)
		}
		if err != nil {
			return profile.Record{}, err
		}
		ps, err := a.Store.Photos(ctx, id)
		if err != nil {
			return profile.Record{}, err
		}
		return profile.Record{User: u, Photos: ps}, nil
	})
	return r.User, err
}

// InvalidateUserCache drops this app's cached copies of user id after a
// write that bypassed the services (tests granting VIP through the store).
func (a *App) InvalidateUserCache(ctx context.Context, id int64) error {
	if err := a.users.Invalidate(ctx, id); err != nil {
		return err
	}
	return a.profiles.Invalidate(ctx, id)
}

// RebuildRank refills the hot rank's Redis list from the scores table
// (after seeding); embedded, the rank reads the table and needs nothing.
func (a *App) RebuildRank(ctx context.Context) error {
	if a.rankRedis == nil {
		return nil
	}
	return a.rankRedis.Rebuild(ctx)
}

// ResetDeckState drops every cached deck state (after seeding swipes
// straight into the database).
func (a *App) ResetDeckState(ctx context.Context) error { return a.deckState.Reset(ctx) }

// WriteTokens opens sessions for n users from id first on and writes their
// tokens to path, one per line (load tests).
func (a *App) WriteTokens(ctx context.Context, first int64, n int, path string) error {
	var b strings.Builder
	for i := 0; i < n; i++ {
		s, err := a.Auth.OpenSession(ctx, first+int64(i))
		if err != nil {
			return err
		}
		b.WriteString(s.Token)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("app: tokens file: %w", err)
	}
	return nil
}
