package auth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/otp"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/tasks"
	"github.com/swiper-social/swiper/internal/domain/auth"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/clock"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// rig is an auth service on memory stores, Redis or SQLite, with a queue that
// keeps the SMS tasks and a user module whose memory the test sets.
type rig struct {
	t        *testing.T
	svc      *auth.Service
	sessions kv.Store
	clk      *clock.Fake
	codes    otp.Store
	redis    *redis.Client // nil but on Redis
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
// record keys of a remembered id; what its database holds (db, banned),
// which Lookup reads (lookups counts them) and then remembers.
type users struct {
	mu      sync.Mutex
	ids     map[string]int64
	db      map[string]int64
	banned  map[string]bool
	lookups int
}

func (u *users) Lookup(_ context.Context, phone string) (int64, bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lookups++
	id := u.db[phone]
	if id > 0 {
		u.ids[phone] = id
	}
	return id, id > 0 && u.banned[phone], nil
}

func (u *users) lookupCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.lookups
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

// Backends of a rig.
const (
	onMemory = "Memory"
	onRedis  = "Redis"
	onSQLite = "SQLite"
)

func newRig(t *testing.T, backend string) *rig {
	t.Helper()
	r := &rig{t: t, clk: clock.NewFake(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)), users: &users{ids: map[string]int64{}, db: map[string]int64{}, banned: map[string]bool{}}}
	var codes otp.Store
	switch backend {
	case onRedis:
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
		kvs := kv.NewRedis(r.redis, r.prefix)
		codes, r.sessions = otp.NewRedis(kvs, otp.DefaultPolicy()), kvs
	case onSQLite:
		codes, r.sessions = sqliteStores(t, r.clk)
	default:
		codes = otp.NewMemory(otp.DefaultPolicy())
		r.sessions = kv.NewMemory(r.clk)
	}
	r.codes = codes
	r.svc = r.service(r.sessions)
	return r
}

// service is an auth service on the rig's code store and sessions.
func (r *rig) service(sessions auth.Sessions) *auth.Service {
	return auth.New(auth.Deps{Codes: r.codes, Policy: otp.DefaultPolicy(), Sessions: sessions, Queue: r,
		Users: r.users, Clock: r.clk, TZ: time.UTC, Key: []byte("0123456789abcdef0123456789abcdef"),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// sqliteStores makes the embedded path's stores on a fresh database file.
func sqliteStores(t *testing.T, clk clock.Clock) (otp.Store, kv.Store) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "auth.db")
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
	sessions, err := kv.NewSQLite(ctx, db, clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sessions.Close() })
	codes, err := otp.NewSQLite(ctx, db, sessions, otp.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = codes.Close() })
	return codes, sessions
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
	for _, b := range []string{onMemory, onRedis, onSQLite} {
		t.Run(b, func(t *testing.T) { f(t, newRig(t, b)) })
	}
}

// sessionCount is the number of sessions stored (Redis only).
func (r *rig) sessionCount() int { return len(r.scan(r.prefix + "sess:*")) }

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
		if !strings.HasPrefix(sess.Token, "42.") || len(sess.Token) != 46 || sess.ExpiresAt != r.clk.Now().Add(auth.SessionTTL) {
			t.Errorf("session %+v", sess)
		}
	})
}

// A remembered id the user function confirms: on Redis its record was
// read with the check of the code, and one session is stored.
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
				t.Errorf("read %q, want the record read with the check", read)
			}
			if r.redis == nil && read != nil {
				t.Errorf("read %q without a reading code store", read)
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
// function found, and no other is stored.
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

// When the user function fails (the database is down), the error comes
// back, no session is left, and the code is not consumed: the same code
// logs in afterwards (API.md §1: a 503 consumed nothing). A wrong code
// never reaches the user function.
func TestLoginUserFailsConsumesNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		const phone = "+8613800000004"
		ctx := context.Background()
		r.users.ids[phone] = 7
		down := backend.Unavailable(errors.New("database down"))
		code := r.code(phone)
		called := false
		_, err := r.svc.Login(ctx, phone, wrong(code), func(context.Context, int64, [][]byte) (int64, error) {
			called = true
			return 7, nil
		})
		if !errors.Is(err, auth.ErrCodeWrong) || called {
			t.Fatalf("wrong code: %v (user func called: %v)", err, called)
		}
		for range 3 {
			_, err = r.svc.Login(ctx, phone, code, func(context.Context, int64, [][]byte) (int64, error) {
				return 0, down
			})
			if !errors.Is(err, backend.ErrUnavailable) {
				t.Fatalf("err %v, want the user func's", err)
			}
		}
		if r.redis != nil && r.sessionCount() != 0 {
			t.Errorf("%d sessions left after failed logins", r.sessionCount())
		}
		sess, err := r.svc.Login(ctx, phone, code, func(context.Context, int64, [][]byte) (int64, error) { return 7, nil })
		if err != nil {
			t.Fatalf("the same code after the outage: %v, want a session", err)
		}
		r.wantUser(sess, 7)
		// Now it was used: it cannot log in again.
		_, err = r.svc.Login(ctx, phone, code, func(context.Context, int64, [][]byte) (int64, error) { return 7, nil })
		if !errors.Is(err, auth.ErrCodeInvalid) {
			t.Fatalf("reused code: %v", err)
		}
	})
}

// A code used by another login between this login's check and its
// verification (here: during its user function) opens one session only:
// the later login answers 1005 and stores nothing.
func TestLoginCodeSpentMeanwhile(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		const phone = "+8613800000005"
		ctx := context.Background()
		code := r.code(phone)
		var inner auth.Session
		_, err := r.svc.Login(ctx, phone, code, func(context.Context, int64, [][]byte) (int64, error) {
			var err error
			inner, err = r.svc.Login(ctx, phone, code, func(context.Context, int64, [][]byte) (int64, error) { return 9, nil })
			if err != nil {
				t.Errorf("inner login: %v", err)
			}
			return 9, nil
		})
		if !errors.Is(err, auth.ErrCodeInvalid) {
			t.Fatalf("outer login: %v, want ErrCodeInvalid", err)
		}
		r.wantUser(inner, 9)
		if r.redis != nil && r.sessionCount() != 1 {
			t.Errorf("%d sessions stored, want the inner login's only", r.sessionCount())
		}
	})
}

// failingSet is a kv.Store whose Set fails while fail is true.
type failingSet struct {
	kv.Store
	fail bool
}

func (f *failingSet) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if f.fail {
		return backend.Unavailable(errors.New("session store down"))
	}
	return f.Store.Set(ctx, key, value, ttl)
}

// With a code store that does not chain the session (Memory), a session
// store that fails leaves the code usable too.
func TestLoginSessionStoreFailsConsumesNothing(t *testing.T) {
	r := newRig(t, onMemory)
	sessions := &failingSet{Store: r.sessions, fail: true}
	svc := r.service(sessions)
	const phone = "+8613800000006"
	code := r.code(phone)
	user := func(context.Context, int64, [][]byte) (int64, error) { return 3, nil }
	if _, err := svc.Login(context.Background(), phone, code, user); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("login with the session store down: %v, want ErrUnavailable", err)
	}
	sessions.fail = false
	sess, err := svc.Login(context.Background(), phone, code, user)
	if err != nil {
		t.Fatalf("the same code afterwards: %v", err)
	}
	r.wantUser(sess, 3)
}

// The per-IP code limit counts an IPv6 client by its /64, and an IPv4
// client by its address however it is written.
func TestRequestCodeIPLimitSubject(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		limit := otp.DefaultPolicy().IPLimit
		phone := func(i int) string { return fmt.Sprintf("+86137%08d", i) }
		n := 0
		request := func(ip string) error {
			n++
			_, err := r.svc.RequestCode(ctx, phone(n), ip)
			return err
		}
		for i := range limit {
			if err := request(fmt.Sprintf("2001:db8:1:2::%x", i+1)); err != nil {
				t.Fatalf("address #%d of the /64: %v", i+1, err)
			}
		}
		var le *auth.LimitError
		if err := request("2001:db8:1:2:ffff:ffff:ffff:ffff"); !errors.As(err, &le) || le.Locked {
			t.Fatalf("another address of the same /64: %v, want the IP limit", err)
		}
		if err := request("2001:db8:1:3::1"); err != nil {
			t.Fatalf("another /64: %v", err)
		}
		for i := range limit {
			ip := "203.0.113.7"
			if i%2 == 1 {
				ip = "::ffff:203.0.113.7"
			}
			if err := request(ip); err != nil {
				t.Fatalf("IPv4 request #%d: %v", i+1, err)
			}
		}
		if err := request("203.0.113.7"); !errors.As(err, &le) {
			t.Fatalf("IPv4 over the limit: %v, want the IP limit", err)
		}
		if err := request("203.0.113.8"); err != nil {
			t.Fatalf("the next IPv4 address: %v", err)
		}
	})
}

func wrong(code string) string {
	if strings.HasPrefix(code, "0") {
		return "1" + code[1:]
	}
	return "0" + code[1:]
}
