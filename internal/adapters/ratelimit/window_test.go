package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/ratelimit"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// windows are the three Window backends, each on a fresh state.
func windows(t *testing.T) map[string]func(t *testing.T) ratelimit.Window {
	return map[string]func(t *testing.T) ratelimit.Window{
		"memory": func(t *testing.T) ratelimit.Window { return ratelimit.NewMemoryWindow() },
		"sqlite": func(t *testing.T) ratelimit.Window {
			path := filepath.Join(t.TempDir(), "kv.db")
			ctx := context.Background()
			st, err := store.Open(ctx, config.SQLite, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if err := st.Migrate(ctx, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
				t.Fatal(err)
			}
			db, err := kv.OpenSQLiteDB(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return ratelimit.NewSQLiteWindow(db)
		},
		"redis": func(t *testing.T) ratelimit.Window {
			rc, prefix := testenv.RedisClient(t)
			return ratelimit.NewRedisWindow(rc, prefix)
		},
	}
}

// The rolling window: at most Max in any Per, refused takes record
// nothing, the same member counts once, Release gives an entry back, and
// RetryAfter runs until the oldest entry leaves the window.
func TestRollingContract(t *testing.T) {
	for name, open := range windows(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := clock.NewFake(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
			l := ratelimit.NewRolling(open(t), c, "t:")
			r := ratelimit.Rule{Name: "messages", Max: 3, Per: 10 * time.Second}
			take := func(member string) (ratelimit.Taken, error) { return l.Take(ctx, r, "u1", member) }
			for i, m := range []string{"a", "b"} {
				tk, err := take(m)
				if err != nil || !tk.Counted {
					t.Fatalf("take %d: %v counted=%v", i, err, tk.Counted)
				}
				c.Advance(3 * time.Second) // a at 0 s, b at 3 s
			}
			// The same member again passes and is not counted.
			if tk, err := take("a"); err != nil || tk.Counted {
				t.Fatalf("retaken member: %v counted=%v", err, tk.Counted)
			}
			if _, err := take("c"); err != nil { // at 6 s: 3 in the window
				t.Fatal(err)
			}
			c.Advance(time.Second) // 7 s
			_, err := take("d")
			var le *ratelimit.Error
			if !errors.As(err, &le) {
				t.Fatalf("4th in the window: %v, want *ratelimit.Error", err)
			}
			if le.RetryAfter != 3*time.Second {
				t.Fatalf("RetryAfter = %s, want 3s (a leaves at 10 s)", le.RetryAfter)
			}
			// Refused takes record nothing: hammering does not push the
			// window.
			for i := 0; i < 5; i++ {
				if _, err := take(fmt.Sprint("x", i)); !errors.As(err, &le) {
					t.Fatalf("hammer %d: %v", i, err)
				}
			}
			if _, err := l.Take(ctx, r, "u2", "a"); err != nil {
				t.Fatalf("another subject: %v", err)
			}
			c.Advance(3 * time.Second) // 10 s: a left (rolling, not a fixed window)
			tk, err := take("d")
			if err != nil || !tk.Counted {
				t.Fatalf("after the oldest left: %v", err)
			}
			if _, err := take("e"); !errors.As(err, &le) {
				t.Fatalf("full again: %v", err)
			}
			// Giving d back frees its place.
			if err := l.Release(ctx, tk); err != nil {
				t.Fatal(err)
			}
			if _, err := take("e"); err != nil {
				t.Fatalf("after a release: %v", err)
			}
			if _, err := l.Take(ctx, ratelimit.Rule{Name: "off", Per: time.Second}, "u1", "z"); err != nil {
				t.Fatalf("Max 0 is no limit: %v", err)
			}
		})
	}
}

// Concurrent takes of distinct members never let more than Max through;
// concurrent takes of one member count it once.
func TestRollingConcurrent(t *testing.T) {
	for name, open := range windows(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := clock.NewFake(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
			l := ratelimit.NewRolling(open(t), c, "t:")
			r := ratelimit.Rule{Name: "messages", Max: 20, Per: 10 * time.Second}
			var passed, counted atomic.Int64
			var wg sync.WaitGroup
			for i := 0; i < 50; i++ {
				wg.Add(2)
				go func() {
					defer wg.Done()
					_, err := l.Take(ctx, r, "u1", fmt.Sprint("m", i))
					var le *ratelimit.Error
					switch {
					case err == nil:
						passed.Add(1)
					case !errors.As(err, &le):
						t.Error(err)
					}
				}()
				go func() {
					defer wg.Done()
					tk, err := l.Take(ctx, r, "u2", "same")
					if err != nil {
						t.Error(err)
					}
					if tk.Counted {
						counted.Add(1)
					}
				}()
			}
			wg.Wait()
			if passed.Load() != 20 {
				t.Fatalf("%d distinct takes passed, want 20", passed.Load())
			}
			if counted.Load() != 1 {
				t.Fatalf("one member counted %d times, want 1", counted.Load())
			}
		})
	}
}

// TakeMany takes as Take would in turn, on every backend: within the
// limit counted, a member repeated in the batch passes without counting,
// beyond the limit refused with the wait; subjects count apart.
func TestRollingTakeMany(t *testing.T) {
	for name, open := range windows(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := clock.NewFake(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
			l := ratelimit.NewRolling(open(t), c, "t:")
			r := ratelimit.Rule{Name: "m", Max: 3, Per: 10 * time.Second}
			if _, err := l.Take(ctx, r, "a", "old"); err != nil {
				t.Fatal(err)
			}
			c.Advance(time.Second)
			as := []ratelimit.Action{{Subject: "a", Member: "1"}, {Subject: "a", Member: "1"}, {Subject: "b", Member: "1"}, {Subject: "a", Member: "2"}, {Subject: "a", Member: "3"}, {Subject: "a", Member: "old"}}
			taken, refused, err := l.TakeMany(ctx, r, as)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []struct{ counted, refused bool }{{true, false}, {false, false}, {true, false}, {true, false}, {false, true}, {false, false}} {
				if taken[i].Counted != want.counted || (refused[i] != nil) != want.refused {
					t.Errorf("action %v: counted %v refused %v; want %+v", as[i], taken[i].Counted, refused[i], want)
				}
			}
			var le *ratelimit.Error
			if !errors.As(refused[4], &le) || le.RetryAfter != 9*time.Second {
				t.Fatalf("refusal %v, want a wait of 9s", refused[4])
			}
		})
	}
}
