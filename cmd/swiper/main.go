// Command swiper is the one binary of Swiper: serve, worker, migrate, seed
// and vip grant, all configured by the environment (API.md §4).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // the default zone (Asia/Shanghai) loads on an image without zoneinfo

	"github.com/qiniu/go-sdk/v7/storagev2/uplog"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/phone"
	"github.com/swiper-social/swiper/internal/domain/vip"
	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/platform/logging"
	"github.com/swiper-social/swiper/internal/platform/seed"
	"github.com/swiper-social/swiper/web"
)

func main() {
	// The Qiniu SDK would otherwise report upload telemetry to Qiniu.
	uplog.DisableUplog()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "swiper:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// errHelpShown ends a command whose --help was printed: exit status 0.
var errHelpShown = errors.New("help shown")

// parseFlags parses a command's flags. -h or --help prints the command's
// synopsis and flags to stdout and returns errHelpShown; a bad flag is a
// usageError that says how to get the list.
func parseFlags(fs *flag.FlagSet, synopsis string, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, "usage: swiper %s\n\nflags:\n", synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return errHelpShown
	}
	if err != nil {
		return usageError{fmt.Sprintf("%s: %v (see `swiper %s --help`)", fs.Name(), err, fs.Name())}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected arguments: %s", fs.Name(), strings.Join(fs.Args(), " "))}
	}
	return nil
}

const usage = `usage: swiper <command> [flags]

commands:
  serve [--workers=N]     HTTP server; runs N task workers in-process (default 4; 0 = none, needs Redis)
  worker [--concurrency=N] task workers only (asynq on SWIPER_REDIS_URL)
  migrate                 apply database migrations
  seed --users N [--swipes-per-user M] [--random-seed S] [--tokens K --tokens-file F]
                          realistic demo users with profiles, swipes and matches
  vip grant --phone P --level L [--days D]
                          set a user's VIP level for D days (level 0 removes VIP)
  reports list [--status open|resolved|all]
                          reported users, one line per user (open reports by default)
  reports resolve --id N --action dismiss|ban [--note TEXT]
                          resolve a user's open reports: back into decks, or banned
  ban --phone P [--reason TEXT]
                          suspend a user: sessions revoked, no login, unknown to everyone
  unban --phone P         lift a ban (the revoked sessions stay revoked)

configuration is by environment variables (SWIPER_ADDR, SWIPER_DATABASE_URL, SWIPER_REDIS_URL, ...); see README.md.`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := runCommand(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		return usageError{usage}
	}
	cmd, rest := args[1], args[2:]
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	// The access log's lines are written at most a second late, in one
	// write each time (logging.Output); everything else at once.
	logs := logging.NewOutput(stderr, 64<<10)
	defer logs.Start(time.Second)()
	load := newLoader(getenv, logs)
	switch cmd {
	case "serve":
		return runServe(ctx, load, rest, stdout)
	case "worker":
		return runWorker(ctx, load, rest, stdout)
	case "migrate":
		return runMigrate(ctx, load, rest, stdout)
	case "seed":
		return runSeed(ctx, load, rest, stdout, stderr)
	case "vip":
		return runVIP(ctx, load, rest, stdout)
	case "reports":
		return runReports(ctx, load, rest, stdout)
	case "ban", "unban":
		return runBan(ctx, load, rest, stdout, cmd == "ban")
	default:
		return usageError{fmt.Sprintf("unknown command %q\n\n%s", cmd, usage)}
	}
}

// loader reads the configuration and makes the logger, once a command's
// flags are known to be good.
type loader func() (config.Config, *slog.Logger, error)

// newLoader returns the loader of the commands: the configuration from
// getenv and a logger on stderr (JSON with MySQL, text with SQLite).
// Flags are parsed before the configuration is read, so that --help
// works whatever the environment holds.
func newLoader(getenv func(string) string, stderr io.Writer) loader {
	return func() (config.Config, *slog.Logger, error) {
		cfg, err := config.Load(getenv)
		if err != nil {
			return cfg, nil, fmt.Errorf("configuration: %w", err)
		}
		dialect, _, _ := cfg.Database()
		return cfg, logging.New(stderr, dialect == config.MySQL, slog.LevelInfo), nil
	}
}

// runServe is `swiper serve`: the HTTP server, with task workers in-process.
func runServe(ctx context.Context, load loader, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	workers := fs.Int("workers", 4, "task workers in this process (0 = none; needs SWIPER_REDIS_URL)")
	if err := parseFlags(fs, "serve [--workers=N]", args, stdout); err != nil {
		return err
	}
	cfg, log, err := load()
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, log, app.Options{Web: web.Dist()})
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(ctx, nil, *workers)
}

// runWorker is `swiper worker`: task workers only, on the Redis queue.
func runWorker(ctx context.Context, load loader, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	conc := fs.Int("concurrency", 10, "tasks processed at once")
	if err := parseFlags(fs, "worker [--concurrency=N]", args, stdout); err != nil {
		return err
	}
	cfg, log, err := load()
	if err != nil {
		return err
	}
	if cfg.RedisURL == "" {
		return usageError{"worker needs SWIPER_REDIS_URL: without Redis, `swiper serve` runs the tasks itself"}
	}
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("worker started", "concurrency", *conc)
	return a.RunWorkers(ctx, *conc)
}

// runMigrate is `swiper migrate`: apply the database migrations.
func runMigrate(ctx context.Context, load loader, args []string, stdout io.Writer) error {
	if err := parseFlags(flag.NewFlagSet("migrate", flag.ContinueOnError), "migrate", args, stdout); err != nil {
		return err
	}
	cfg, log, err := load()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx, log); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

// runVIP is `swiper vip`, whose one subcommand is grant.
func runVIP(ctx context.Context, load loader, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "grant" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "usage: swiper vip grant --phone P --level L [--days D]\n\nrun `swiper vip grant --help` for its flags")
			return nil
		}
		return usageError{"usage: swiper vip grant --phone P --level L [--days D]"}
	}
	return runVIPGrant(ctx, load, args[1:], stdout)
}

func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	dialect, dsn, err := cfg.Database()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, dialect, dsn)
}

func runVIPGrant(ctx context.Context, load loader, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("vip grant", flag.ContinueOnError)
	ph := fs.String("phone", "", "the user's phone number")
	level := fs.Int("level", -1, "VIP level 0-3")
	days := fs.Int("days", 0, "days from now (required unless level is 0)")
	if err := parseFlags(fs, "vip grant --phone P --level L [--days D]", args, stdout); err != nil {
		return err
	}
	e164, err := phone.Parse(*ph)
	if err != nil {
		return usageError{fmt.Sprintf("--phone %q is not a valid phone number", *ph)}
	}
	if *level < 0 || *level > vip.MaxLevel {
		return usageError{"--level must be 0, 1, 2 or 3"}
	}
	if *level > 0 && (*days < 1 || *days > 3650) {
		return usageError{"--days must be from 1 to 3650 for levels 1-3"}
	}
	cfg, log, err := load()
	if err != nil {
		return err
	}
	var exp *time.Time
	if *level > 0 {
		t := time.Now().UTC().Add(time.Duration(*days) * 24 * time.Hour)
		exp = &t
	}
	id, err := app.GrantVIP(ctx, cfg, log, e164, *level, exp)
	if err != nil {
		return err
	}
	if *level == 0 {
		fmt.Fprintf(stdout, "user %d: VIP removed\n", id)
	} else {
		fmt.Fprintf(stdout, "user %d: VIP level %d (%s) until %s\n", id, *level, vip.PlanOf(*level).Name, exp.Format(time.RFC3339))
	}
	return nil
}

func runSeed(ctx context.Context, load loader, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	users := fs.Int("users", 0, "how many users to create")
	swipes := fs.Int("swipes-per-user", 0, "swipes each seeded user makes (with the matches and scores they imply)")
	rs := fs.Uint64("random-seed", 1, "random seed (same seed, same data)")
	tokens := fs.Int("tokens", 0, "write this many session tokens of seeded users (with MySQL, needs SWIPER_REDIS_URL)")
	tokensFile := fs.String("tokens-file", "", "file for --tokens, one token per line")
	if err := parseFlags(fs, "seed --users N [--swipes-per-user M] [--random-seed S] [--tokens K --tokens-file F]", args, stdout); err != nil {
		return err
	}
	cfg, log, err := load()
	if err != nil {
		return err
	}
	if *users < 1 || *users > 50_000_000 {
		return usageError{"--users must be from 1 to 50000000"}
	}
	if *swipes < 0 || *swipes > 1000 {
		return usageError{"--swipes-per-user must be from 0 to 1000"}
	}
	if *tokens < 0 || *tokens > *users {
		return usageError{"--tokens must be from 0 to --users"}
	}
	if *tokens > 0 && *tokensFile == "" {
		return usageError{"--tokens needs --tokens-file"}
	}
	if dialect, _, _ := cfg.Database(); *tokens > 0 && cfg.RedisURL == "" && dialect != config.SQLite {
		// Sessions are kept in Redis, or in the SQLite file; MySQL without
		// Redis keeps them inside the `swiper serve` process.
		return usageError{"--tokens with MySQL needs SWIPER_REDIS_URL: without Redis the sessions live inside the `swiper serve` process"}
	}
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	first, last, err := seed.Users(ctx, a.Store, time.Now().UTC(), seed.Options{Users: *users, Seed: *rs, Progress: stderr})
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "seeded users %d-%d in %s (%.0f users/s)\n", first, last, took.Round(time.Millisecond), float64(*users)/took.Seconds())
	if *swipes > 0 {
		start := time.Now()
		st, err := seed.Swipes(ctx, a.Store, first, last, time.Now().UTC(), seed.SwipeOptions{PerUser: *swipes, Seed: *rs, Progress: stderr})
		if err != nil {
			return err
		}
		if err := a.RebuildRank(ctx); err != nil {
			return fmt.Errorf("seed: hot rank: %w", err)
		}
		if err := a.ResetDeckState(ctx); err != nil {
			return fmt.Errorf("seed: deck state: %w", err)
		}
		took := time.Since(start)
		fmt.Fprintf(stdout, "seeded %d swipes, %d matches, %d scores in %s (%.0f swipes/s)\n",
			st.Swipes, st.Matches, st.Scores, took.Round(time.Millisecond), float64(st.Swipes)/took.Seconds())
	}
	if *tokens > 0 {
		if err := a.WriteTokens(ctx, first, *tokens, *tokensFile); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d session tokens to %s\n", *tokens, *tokensFile)
	}
	return nil
}
