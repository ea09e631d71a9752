package apptest_test

// Black-box tests of login state across restarts, outages, numbers that
// cannot receive SMS and IPv6 clients (API.md §1 and §2). Every name starts
// with ctA2 so that it cannot clash with other test files of this package.

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/platform/app"
	"github.com/swiper-social/swiper/internal/platform/config"
	"github.com/swiper-social/swiper/internal/testkit/apptest"
	"github.com/swiper-social/swiper/internal/testkit/testenv"
)

// A restart logs nobody out and forgets no lock, counter or code: on the
// embedded path they live in the SQLite file, on the production path in
// Redis.
func TestAuthStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	ctMorning(e)
	token := e.Login("13812340001")

	// A phone locked by wrong codes.
	const locked = "13812340002"
	lockedCode := e.RequestCode(locked)
	for i := range 4 {
		ctExpect(t, ctLoginRaw(e, locked, ctWrongCode(lockedCode, i)), 400, 1004)
	}
	ctExpect(t, ctLoginRaw(e, locked, ctWrongCode(lockedCode, 4)), 429, 1007)
	// A phone with a fresh code (the resend interval running) and wrong
	// attempts counted against it.
	const waiting = "13812340003"
	waitingCode := e.RequestCode(waiting)
	for i := range 3 {
		ctExpect(t, ctLoginRaw(e, waiting, ctWrongCode(waitingCode, i)), 400, 1004)
	}

	e = e.Restart()
	e.Clock.Advance(10 * time.Second)

	r := e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: token})
	ctExpect(t, r, 200, 0)
	if phone := ctObj(t, r)["phone"]; phone != "+8613812340001" {
		t.Errorf("the session is of %v after the restart, want +8613812340001", phone)
	}
	ctExpect(t, ctLoginRaw(e, locked, lockedCode), 429, 1007)
	ctExpect(t, ctRequestCodeRaw(e, locked, nil), 429, 1007)
	ctExpect(t, ctRequestCodeRaw(e, waiting, nil), 429, 1006)
	// One more wrong code is the 4th, not the 1st ...
	ctExpect(t, ctLoginRaw(e, waiting, ctWrongCode(waitingCode, 3)), 400, 1004)
	// ... and the code sent before the restart logs in (which resets them).
	ctExpect(t, ctLoginRaw(e, waiting, waitingCode), 200, 0)

	// Logout still revokes at once.
	ctExpect(t, e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/sessions/current", Token: token}), 200, 0)
	ctExpect(t, e.Do(apptest.Request{Method: "GET", Path: ctMePath, Token: token}), 401, 1010)
}

// Numbers that cannot receive SMS, or whose SMS would cost a premium
// (SMS pumping), are 1002 and get nothing; mobiles, and numbers whose plan
// cannot tell fixed from mobile, are accepted.
func TestAuthRefusesNumbersThatCannotReceiveSMS(t *testing.T) {
	t.Parallel()
	e := apptest.New(t)
	for _, phone := range []string{
		"+19005550123",  // US premium rate
		"+449098790000", // UK premium rate
		"+18005550123",  // US toll free
		"+445612345678", // UK VoIP
		"+4930123456",   // German fixed line
		"+881612345678", // Iridium satellite
		"+870773111632", // Inmarsat satellite
		"+883510012345", // international networks
		"+80012345678",  // universal freephone
	} {
		r := ctRequestCodeRaw(e, phone, nil)
		if ctCheck(t, r, 400, 1002) {
			ctErrFields(t, r, "phone")
		}
		ctCheck(t, ctLoginRaw(e, phone, "123456"), 400, 1002)
		if n := e.SMS.Count(phone); n != 0 {
			t.Errorf("%s: %d codes sent", phone, n)
		}
	}
	for _, phone := range []string{"+14155550123", "+447911123456", "+4915112345678", "13812345678"} {
		ctCheck(t, ctRequestCodeRaw(e, phone, nil), 200, 0)
	}
}

// Behind a trusted proxy, two IPv6 clients in one /64 share the per-IP code
// limit; another /64 has its own.
func TestAuthIPv6ClientsShareTheirSlash64Limit(t *testing.T) {
	t.Parallel()
	e := apptest.New(t, ctIPLimit(3), ctTrustLocalhost())
	ctMorning(e)
	from := func(ip string) http.Header { return http.Header{"X-Forwarded-For": {ip}} }
	ctExpect(t, ctRequestCodeRaw(e, "13812340001", from("2001:db8:7:8::1")), 200, 0)
	ctExpect(t, ctRequestCodeRaw(e, "13812340002", from("2001:db8:7:8::2")), 200, 0)
	ctExpect(t, ctRequestCodeRaw(e, "13812340003", from("2001:db8:7:8:aaaa:bbbb:cccc:dddd")), 200, 0)
	r := ctRequestCodeRaw(e, "13812340004", from("2001:db8:7:8:ffff:ffff:ffff:ffff"))
	ctExpect(t, r, 429, 1006)
	ctExpect(t, ctRequestCodeRaw(e, "13812340005", from("2001:db8:7:9::1")), 200, 0)
	if n := e.SMS.Count("+8613812340004"); n != 0 {
		t.Errorf("%d codes sent to the refused phone", n)
	}
}

// With the database down, a login with the right code answers 503 and
// consumes nothing: after the recovery, the same code logs in (API.md §1).
// The production path loses MariaDB (a proxy in front of it stops
// answering) while Redis stays up; the embedded path has its database file
// write-locked by another connection (an operator's command, a backup)
// past the busy timeout, so registering the new user fails.
func TestAuthLoginFailing503ConsumesNothing(t *testing.T) {
	t.Parallel()
	var outage ctA2Outage
	var opts []apptest.Option
	if testenv.Production() {
		opts = append(opts, ctA2DatabaseProxy(t, &outage))
	}
	e := apptest.New(t, opts...)
	ctMorning(e)
	if !testenv.Production() {
		outage = ctA2WriteLock(t, e)
	}

	const phone = "13812345678" // a first login: it registers the user
	code := e.RequestCode(phone)
	outage.start()
	r := ctLoginRaw(e, phone, code)
	outage.end()
	ctExpect(t, r, 503, 5001)
	r = ctLoginRaw(e, phone, code)
	ctExpect(t, r, 200, 0)
	if created, _ := ctObj(t, r)["created"].(bool); !created {
		t.Errorf("the login after the outage: created %v, want true", ctObj(t, r)["created"])
	}
	ctExpect(t, ctLoginRaw(e, phone, code), 400, 1005) // used now

	if !testenv.Production() {
		return // a known user's login only reads, which a write lock does not stop
	}
	// A known user, whose login reads the cached record with the code:
	// the database is still needed (the day's quota usage), and its failure
	// consumes nothing either.
	e.Clock.Advance(61 * time.Second)
	code = e.RequestCode(phone)
	outage.start()
	r = ctLoginRaw(e, phone, code)
	outage.end()
	ctExpect(t, r, 503, 5001)
	ctExpect(t, ctLoginRaw(e, phone, code), 200, 0)
}

// ctA2Outage starts and ends a database outage.
type ctA2Outage struct{ start, end func() }

// ctA2DatabaseProxy points the app at MariaDB through a TCP proxy of the
// test; outage.start refuses connections (and cuts the open ones) until
// outage.end.
func ctA2DatabaseProxy(t *testing.T, outage *ctA2Outage) apptest.Option {
	return func(c *config.Config, _ *app.Options) {
		u := c.DatabaseURL
		at := strings.LastIndex(u, "@")
		slash := strings.Index(u[at:], "/")
		if at < 0 || slash < 0 {
			t.Fatalf("database URL %q has no host", u)
		}
		p := ctA2NewProxy(t, u[at+1:at+slash])
		c.DatabaseURL = u[:at+1] + p.addr + u[at+slash:]
		outage.start, outage.end = p.down, p.up
	}
}

// ctA2WriteLock holds the write lock of the embedded database from a
// connection of the test while the outage lasts.
func ctA2WriteLock(t *testing.T, e *apptest.Env) ctA2Outage {
	ctx := context.Background()
	c, err := e.DB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return ctA2Outage{
		start: func() {
			if _, err := c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
				t.Fatalf("lock the database: %v", err)
			}
		},
		end: func() {
			if _, err := c.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Fatalf("unlock the database: %v", err)
			}
		},
	}
}

// ctA2Proxy forwards TCP connections from addr to target while up.
type ctA2Proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener // nil while down
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func ctA2NewProxy(t *testing.T, target string) *ctA2Proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &ctA2Proxy{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(p.down)
	return p
}

func (p *ctA2Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.forward(c)
		}
	})
}

func (p *ctA2Proxy) forward(c net.Conn) {
	d, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // went down meanwhile
		p.mu.Unlock()
		_ = c.Close()
		_ = d.Close()
		return
	}
	p.conns[c], p.conns[d] = true, true
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}
	p.wg.Go(func() { pipe(d, c) })
	p.wg.Go(func() { pipe(c, d) })
}

// down stops accepting (a dial is refused) and cuts every connection.
func (p *ctA2Proxy) down() {
	p.mu.Lock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// up listens on the same address again.
func (p *ctA2Proxy) up() {
	var ln net.Listener
	err := errors.New("not tried")
	for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); {
		if ln, err = net.Listen("tcp", p.addr); err != nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err != nil {
		p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
