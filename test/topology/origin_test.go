package topology_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
)

// TestCookieWritesThroughNginx checks the cross-origin rule (docs/api.md §1)
// behind nginx, which listens here on a port that is not 80: a cookie
// session's PATCH whose Origin is nginx's own origin is accepted (nginx
// passes the Host with its port), and one from another origin is 403 4003
// and changes nothing.
func TestCookieWritesThroughNginx(t *testing.T) {
	cl := c.newClient()
	c.login(t, cl, c.nextPhone())
	// Trade the bearer token for the cookie the web client would use.
	u, err := url.Parse(c.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, []*http.Cookie{{Name: "swiper_session", Value: cl.token, Path: "/"}})
	cl.http.Jar = jar
	cl.token = ""
	own := u.Scheme + "://" + u.Host

	r := cl.json("PATCH", c.url("/api/v1/users/me"), map[string]any{"nickname": "同源"}, "Origin", own)
	if r.status != 200 || r.code != 0 {
		t.Fatalf("same-origin cookie PATCH through nginx (Origin %s): %s", own, r)
	}
	r = cl.json("PATCH", c.url("/api/v1/users/me"), map[string]any{"nickname": "跨站"}, "Origin", "http://evil.example")
	if r.status != 403 || r.code != 4003 {
		t.Fatalf("cross-origin cookie PATCH through nginx: %s, want 403 4003", r)
	}
	m := decode[struct {
		Nickname string `json:"nickname"`
	}](t, cl.json("GET", c.url("/api/v1/users/me"), nil))
	if m.Nickname != "同源" {
		t.Fatalf("nickname %q after a refused cross-origin PATCH, want 同源", m.Nickname)
	}
}
