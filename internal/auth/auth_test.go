package auth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/auth"
	"github.com/swiper-social/swiper/internal/clock"
	"github.com/swiper-social/swiper/internal/kv"
	"github.com/swiper-social/swiper/internal/otp"
	"github.com/swiper-social/swiper/internal/tasks"
	"github.com/swiper-social/swiper/internal/testenv"
)

// rig is an auth service on memory stores or on Redis, with a queue that
// keeps the SMS tasks and a user module whose memory the test sets.
type rig struct {
	t        *testing.T
	svc      *auth.Service
	sessions kv.Store
	clk      *clock.Fake
	redis    *redis.Client // nil on memory stores
	prefix   string
	users    *users

	mu    sync.Mutex
	tasks []tasks.Task
}

func (r *rig) Enqueue(_ context.Context, t tasks.Task) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks = append(r.tasks, t)
	return nil
}

// users is the user module as login sees it: what it remembers, and the
// record keys of a remembered id.
type users struct {
	mu  sync.Mutex
	ids map[string]int64
}

func (u *users) Remembered(phone string) (int64, []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	id := u.ids[phone]
	if id == 0 {
		return 0, nil
	}
	return id, []string{"rec:" + phone}
}

func newRig(t *testing.T, onRedis bool) *rig {
	t.Helper()
	r := &rig{t: t, clk: clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)), users: &users{ids: map[string]int64{}}}
	var codes otp.Store
	if onRedis {
		opt, err := redis.ParseURL(testenv.RedisURL(t))
		if err != nil {
			t.Fatal(err)
		}
		r.redis = redis.NewClient(opt)
		r.prefix = "test:auth:" + rand.Text() + ":"
		t.Cleanup(func() {
			if keys := r.scan(r.prefix + "*"); len(keys) > 0 {
				r.redis.Del(context.Background(), keys...)
			}
			_ = r.redis.Close()
		})
		codes = otp.NewRedis(r.redis, r.prefix, otp.DefaultPolicy())
		r.sessions = kv.NewRedis(r.redis, r.prefix)
	} else {
		codes = otp.NewMemory(otp.DefaultPolicy())
		r.sessions = kv.NewMemory(r.clk)
	}
	r.svc = auth.New(auth.Deps{Codes: codes, Policy: otp.DefaultPolicy(), Sessions: r.sessions, Queue: r,
		Users: r.users, Clock: r.clk, TZ: time.UTC, Key: []byte("0123456789abcdef0123456789abcdef"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return r
}

// code requests a code for phone and returns it as the SMS would carry it.
func (r *rig) code(phone string) string {
	r.t.Helper()
	ctx := context.Background()
	r.clk.Advance(time.Minute) // past the resend interval
	if _, err := r.svc.RequestCode(ctx, phone, "203.0.113.1"); err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	task := r.tasks[len(r.tasks)-1]
	r.mu.Unlock()
	var got string
	if err := r.svc.SMSHandler(senderFunc(func(_ context.Context, _, code string) error { got = code; return nil }))(ctx, task.Payload); err != nil {
		r.t.Fatal(err)
	}
	return got
}

type senderFunc func(ctx context.Context, phone, code string) error

func (f senderFunc) Send(ctx context.Context, phone, code string) error { return f(ctx, phone, code) }

// sessionCount is the number of sessions stored (Redis only).
func (r *rig) sessionCount() int { return len(r.scan(r.prefix + "sess:*")) }

// scan lists the keys matching pattern with SCAN (KEYS would block a test
// Redis holding many keys for everyone).
func (r *rig) scan(pattern string) []string {
	r.t.Helper()
	ctx := context.Background()
	var keys []string
	iter := r.redis.Scan(ctx, 0, pattern, 10_000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		r.t.Fatal(err)
	}
	return keys
}

func (r *rig) wantUser(sess auth.Session, id int64) {
	r.t.Helper()
	got, err := r.svc.Authenticate(context.Background(), sess.Token)
	if err != nil || got != id || sess.UserID != id {
		r.t.Fatalf("session %+v authenticates as %d (%v), want %d", sess, got, err, id)
	}
}

func forEachStore(t *testing.T, f func(t *testing.T, r *rig)) {
	t.Run("Memory", func(t *testing.T) { f(t, newRig(t, false)) })
	t.Run("Redis", func(t *testing.T) { f(t, newRig(t, true)) })
}

// A phone nobody remembers: the user function gets nothing read and its
// answer gets the session.
func TestLoginUnknownPhone(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		const phone = "+8613800000001"
		sess, err := r.svc.Login(context.Background(), phone, r.code(phone), func(_ context.Context, remembered int64, read [][]byte) (int64, error) {
			if remembered != 0 || read != nil {
				t.Errorf("user func got %d, %q for an unknown phone", remembered, read)
			}
			return 42, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r.wantUser(sess, 42)
		if len(sess.Token) != 43 || sess.ExpiresAt != r.clk.Now().Add(auth.SessionTTL) {
			t.Errorf("session %+v", sess)
		}
	})
}

// A remembered id the user function confirms: on Redis its session was
// stored by the verification, along with the reads, and no other is made.
func TestLoginRememberedConfirmed(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		const phone = "+8613800000002"
		ctx := context.Background()
		r.users.ids[phone] = 7
		if err := r.sessions.Set(ctx, "rec:"+phone, []byte("record of 7"), time.Hour); err != nil {
			t.Fatal(err)
		}
		sess, err := r.svc.Login(ctx, phone, r.code(phone), func(_ context.Context, remembered int64, read [][]byte) (int64, error) {
			if remembered != 7 {
				t.Errorf("remembered %d, want 7", remembered)
			}
			if r.redis != nil && (len(read) != 1 || string(read[0]) != "record of 7") {
				t.Errorf("read %q, want the record read with the verification", read)
			}
			if r.redis == nil && read != nil {
				t.Errorf("read %q without a chaining code store", read)
			}
			return 7, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r.wantUser(sess, 7)
		if r.redis != nil && r.sessionCount() != 1 {
			t.Errorf("%d sessions stored, want 1", r.sessionCount())
		}
	})
}

// A remembered id gone stale: the session goes to the user the user
// function found, and the one stored with the verification is deleted.
func TestLoginRememberedStale(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		const phone = "+8613800000003"
		r.users.ids[phone] = 7
		sess, err := r.svc.Login(context.Background(), phone, r.code(phone), func(context.Context, int64, [][]byte) (int64, error) {
			return 8, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		r.wantUser(sess, 8)
		if r.redis != nil && r.sessionCount() != 1 {
			t.Errorf("%d sessions stored, want only the one of user 8", r.sessionCount())
		}
	})
}

// When the user function fails, no session is left and the error comes
// back; a wrong code never reaches it.
func TestLoginUserFails(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		const phone = "+8613800000004"
		r.users.ids[phone] = 7
		boom := errors.New("database down")
		code := r.code(phone)
		called := false
		_, err := r.svc.Login(context.Background(), phone, wrong(code), func(context.Context, int64, [][]byte) (int64, error) {
			called = true
			return 7, nil
		})
		if !errors.Is(err, auth.ErrCodeWrong) || called {
			t.Fatalf("wrong code: %v (user func called: %v)", err, called)
		}
		_, err = r.svc.Login(context.Background(), phone, code, func(context.Context, int64, [][]byte) (int64, error) {
			return 0, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err %v, want the user func's", err)
		}
		if r.redis != nil && r.sessionCount() != 0 {
			t.Errorf("%d sessions left after a failed login", r.sessionCount())
		}
		// The code was used: it cannot log in again.
		_, err = r.svc.Login(context.Background(), phone, code, func(context.Context, int64, [][]byte) (int64, error) { return 7, nil })
		if !errors.Is(err, auth.ErrCodeInvalid) {
			t.Fatalf("reused code: %v", err)
		}
	})
}

func wrong(code string) string {
	if strings.HasPrefix(code, "0") {
		return "1" + code[1:]
	}
	return "0" + code[1:]
}
