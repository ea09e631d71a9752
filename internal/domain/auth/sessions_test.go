package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/domain/auth"
)

// countingSessions counts the calls made to a session store.
type countingSessions struct {
	auth.Sessions
	mu    sync.Mutex
	calls int
}

func (c *countingSessions) count() {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
}

func (c *countingSessions) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

func (c *countingSessions) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	c.count()
	return c.Sessions.MGet(ctx, keys...)
}

func (c *countingSessions) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	c.count()
	return c.Sessions.Set(ctx, key, value, ttl)
}

func (c *countingSessions) Del(ctx context.Context, keys ...string) error {
	c.count()
	return c.Sessions.Del(ctx, keys...)
}

func (c *countingSessions) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	c.count()
	return c.Sessions.Incr(ctx, key, ttl)
}

// An authenticated request reads the session store once (the session and
// its user's generation together), before and after a revocation, and a
// revocation takes every session of the user at once, not another's.
func TestAuthenticateOneReadRevokeAll(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		counting := &countingSessions{Sessions: r.sessions}
		svc := r.service(counting)
		a1, err := svc.OpenSession(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		a2, err := svc.OpenSession(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		b, err := svc.OpenSession(ctx, 8)
		if err != nil {
			t.Fatal(err)
		}
		authenticate := func(tok string) (int64, error) {
			t.Helper()
			before := counting.n()
			id, err := svc.Authenticate(ctx, tok)
			if got := counting.n() - before; got != 1 {
				t.Errorf("Authenticate made %d calls to the session store, want 1", got)
			}
			return id, err
		}
		for _, s := range []auth.Session{a1, a2, b} {
			if id, err := authenticate(s.Token); err != nil || id != s.UserID {
				t.Fatalf("session of %d: %d, %v", s.UserID, id, err)
			}
		}
		if err := svc.RevokeAll(ctx, 7); err != nil {
			t.Fatal(err)
		}
		for _, s := range []auth.Session{a1, a2} {
			if _, err := authenticate(s.Token); !errors.Is(err, auth.ErrUnauthenticated) {
				t.Fatalf("revoked session: %v, want ErrUnauthenticated", err)
			}
		}
		if id, err := authenticate(b.Token); err != nil || id != 8 {
			t.Fatalf("another user's session after the revocation: %d, %v", id, err)
		}
		a3, err := svc.OpenSession(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		if id, err := authenticate(a3.Token); err != nil || id != 7 {
			t.Fatalf("session opened after the revocation: %d, %v", id, err)
		}
		if err := svc.Logout(ctx, a3.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := authenticate(a3.Token); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("after logout: %v", err)
		}
	})
}

// A token names its user, but only the stored hash of the whole token
// proves anything: another user's id, a changed secret or a malformed
// token is refused.
func TestAuthenticateForgedTokens(t *testing.T) {
	r := newRig(t, onMemory)
	ctx := context.Background()
	s, err := r.svc.OpenSession(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := cut(s.Token)
	for _, tok := range []string{"8." + secret, "07." + secret, "7." + wrong(secret), "7" + secret, "x." + secret,
		"7.." + secret[1:], "", "-7." + secret, "99999999999999999999." + secret} {
		if _, err := r.svc.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("token %q: %v, want ErrUnauthenticated", tok, err)
		}
	}
}

func cut(tok string) (string, string, bool) {
	for i := 0; i < len(tok); i++ {
		if tok[i] == '.' {
			return tok[:i], tok[i+1:], true
		}
	}
	return "", "", false
}

// A token issued before tokens named their user (43 characters, kept under
// sess:<hash> with the generation sessgen:<id>) keeps working until it
// expires, is revoked by RevokeAll and ends with a logout.
func TestLegacyTokens(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		legacy := func(uid int64) string {
			tok := fmt.Sprintf("%043d", uid)
			h := sha256.Sum256([]byte(tok))
			if err := r.sessions.Set(ctx, "sess:"+hex.EncodeToString(h[:]),
				[]byte(fmt.Sprintf(`{"uid":%d,"created":1765000000}`, uid)), time.Hour); err != nil {
				t.Fatal(err)
			}
			return tok
		}
		a, b, c := legacy(5), legacy(6), legacy(7)
		for i, tok := range []string{a, b, c} {
			if id, err := r.svc.Authenticate(ctx, tok); err != nil || id != int64(5+i) {
				t.Fatalf("legacy token of %d: %d, %v", 5+i, id, err)
			}
		}
		if err := r.svc.RevokeAll(ctx, 5); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Authenticate(ctx, a); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("revoked legacy token: %v", err)
		}
		if err := r.svc.Logout(ctx, b); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Authenticate(ctx, b); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("legacy token after logout: %v", err)
		}
		if id, err := r.svc.Authenticate(ctx, c); err != nil || id != 7 {
			t.Fatalf("untouched legacy token: %d, %v", id, err)
		}
	})
}

// A suspended user's login answers ErrSuspended whatever the code, with
// no database read of its own when the code is right: a phone this
// process does not know is looked up before the code is checked (nothing
// is counted), a remembered one whose code is refused is looked up then,
// and the user function judges the row of a right code.
func TestLoginSuspended(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		never := func(context.Context, int64, [][]byte) (int64, error) {
			t.Error("user func called for a suspended user")
			return 0, nil
		}
		const unknown = "+8613800000011"
		code := r.code(unknown)
		r.users.db[unknown], r.users.banned[unknown] = 11, true
		if _, err := r.svc.Login(ctx, unknown, wrong(code), never); !errors.Is(err, auth.ErrSuspended) {
			t.Fatalf("suspended, not remembered: %v", err)
		}
		r.users.banned[unknown] = false
		if _, err := r.svc.Login(ctx, unknown, code, func(context.Context, int64, [][]byte) (int64, error) { return 11, nil }); err != nil {
			t.Fatalf("the code after the suspension was lifted: %v (a refused login counted it)", err)
		}

		const known = "+8613800000012"
		code = r.code(known)
		r.users.ids[known], r.users.db[known], r.users.banned[known] = 12, 12, true
		if _, err := r.svc.Login(ctx, known, wrong(code), never); !errors.Is(err, auth.ErrSuspended) {
			t.Fatalf("suspended, remembered, wrong code: %v", err)
		}
		suspended := fmt.Errorf("%w: the row says so", auth.ErrSuspended)
		before := r.users.lookupCount()
		if _, err := r.svc.Login(ctx, known, code, func(context.Context, int64, [][]byte) (int64, error) {
			return 0, suspended
		}); !errors.Is(err, auth.ErrSuspended) {
			t.Fatalf("suspended by the user func: %v", err)
		}
		r.users.banned[known] = false
		sess, err := r.svc.Login(ctx, known, code, func(context.Context, int64, [][]byte) (int64, error) { return 12, nil })
		if err != nil {
			t.Fatal(err)
		}
		r.wantUser(sess, 12)
		if n := r.users.lookupCount() - before; n != 0 {
			t.Errorf("%d database lookups by logins of a remembered user with the right code, want 0", n)
		}
	})
}

// The session generation is read before the user function reads the row:
// a ban that revokes the user's sessions after that row was read (here,
// during the user function) revokes the session the login opens.
func TestLoginRevokedWhileReadingUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		const phone = "+8613800000013"
		r.users.ids[phone], r.users.db[phone] = 13, 13
		if err := r.svc.RevokeAll(ctx, 13); err != nil { // an earlier ban, lifted
			t.Fatal(err)
		}
		sess, err := r.svc.Login(ctx, phone, r.code(phone), func(ctx context.Context, _ int64, _ [][]byte) (int64, error) {
			if err := r.svc.RevokeAll(ctx, 13); err != nil {
				return 0, err
			}
			return 13, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Authenticate(ctx, sess.Token); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("session of a login the revocation overtook: %v, want ErrUnauthenticated", err)
		}
	})
}

// A registration (or a remembered id gone stale) read the row before the
// generation: with revocations in the user's past, the database is asked
// once more after it.
func TestLoginNewUserWithRevocations(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		const phone = "+8613800000014"
		code := r.code(phone)
		user := func(ctx context.Context, _ int64, _ [][]byte) (int64, error) {
			r.users.db[phone] = 14 // registered (or found) by the user func
			return 14, nil
		}
		before := r.users.lookupCount()
		sess, err := r.svc.Login(ctx, phone, code, user)
		if err != nil {
			t.Fatal(err)
		}
		r.wantUser(sess, 14)
		if n := r.users.lookupCount() - before; n != 1 {
			t.Errorf("registration without revocations: %d lookups, want 1 (before the code)", n)
		}
		delete(r.users.ids, phone)
		delete(r.users.db, phone)
		if err := r.svc.RevokeAll(ctx, 14); err != nil {
			t.Fatal(err)
		}
		r.users.banned[phone] = true
		if _, err := r.svc.Login(ctx, phone, r.code(phone), user); !errors.Is(err, auth.ErrSuspended) {
			t.Fatalf("banned while registering: %v, want ErrSuspended", err)
		}
	})
}

var _ auth.Sessions = kv.Store(nil)

// AuthenticateRead reads the keys named for the token's user with the
// session, in the same call, and gives their values only with a valid
// session.
func TestAuthenticateRead(t *testing.T) {
	forEachStore(t, func(t *testing.T, r *rig) {
		ctx := context.Background()
		counting := &countingSessions{Sessions: r.sessions}
		svc := r.service(counting)
		if err := r.sessions.Set(ctx, "rec:7", []byte("record of 7"), time.Hour); err != nil {
			t.Fatal(err)
		}
		keys := func(uid int64) []string { return []string{fmt.Sprintf("rec:%d", uid), "absent"} }
		s, err := svc.OpenSession(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		before := counting.n()
		id, read, err := svc.AuthenticateRead(ctx, s.Token, keys)
		if err != nil || id != 7 || len(read) != 2 || string(read[0]) != "record of 7" || read[1] != nil {
			t.Fatalf("AuthenticateRead: %d, %q, %v", id, read, err)
		}
		if n := counting.n() - before; n != 1 {
			t.Errorf("%d calls to the session store, want 1", n)
		}
		if err := svc.RevokeAll(ctx, 7); err != nil {
			t.Fatal(err)
		}
		if id, read, err := svc.AuthenticateRead(ctx, s.Token, keys); !errors.Is(err, auth.ErrUnauthenticated) || read != nil {
			t.Fatalf("revoked: %d, %q, %v", id, read, err)
		}
	})
}
