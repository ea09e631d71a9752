package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// The events socket's Origin rule: a present Origin must be the server's
// own (scheme as seen through trusted proxies, and Host), whatever the
// method; no Origin is not a browser page.
func TestOwnOrigin(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	tests := []struct {
		name    string
		host    string
		remote  string
		proto   string // X-Forwarded-Proto
		origins []string
		want    bool
	}{
		{"no Origin", "swiper.example", "", "", nil, true},
		{"same origin", "swiper.example", "", "", []string{"http://swiper.example"}, true},
		{"same origin with port", "127.0.0.1:8080", "", "", []string{"http://127.0.0.1:8080"}, true},
		{"other host", "swiper.example", "", "", []string{"http://evil.example"}, false},
		{"other port", "swiper.example:8080", "", "", []string{"http://swiper.example:8081"}, false},
		{"https page, http server", "swiper.example", "", "", []string{"https://swiper.example"}, false},
		{"TLS through a trusted proxy", "swiper.example", "10.0.0.1:5000", "https", []string{"https://swiper.example"}, true},
		{"X-Forwarded-Proto from an untrusted peer", "swiper.example", "", "https", []string{"https://swiper.example"}, false},
		{"null", "swiper.example", "", "", []string{"null"}, false},
		{"two Origins", "swiper.example", "", "", []string{"http://swiper.example", "http://swiper.example"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/v1/events", nil)
			r.Host = tc.host
			r.RemoteAddr = "192.0.2.7:1234"
			if tc.remote != "" {
				r.RemoteAddr = tc.remote
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			for _, o := range tc.origins {
				r.Header.Add("Origin", o)
			}
			s := &server{Deps: Deps{TrustedProxies: proxy}}
			if got := ownOrigin(r, s); got != tc.want {
				t.Fatalf("ownOrigin = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseSince(t *testing.T) {
	for q, want := range map[string]int64{"": 0, "since=0": 0, "since=42": 42, "other=1": 0} {
		r := httptest.NewRequest("GET", "/api/v1/events?"+q, nil)
		if got, err := parseSince(r); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", q, got, err, want)
		}
	}
	for _, q := range []string{"since=-1", "since=x", "since=", "since=1e3", "since=1&since=1", "since=9223372036854775808"} {
		r := httptest.NewRequest("GET", "/api/v1/events?"+q, nil)
		if _, err := parseSince(r); err == nil {
			t.Errorf("%q accepted", q)
		}
	}
}

func TestIsUpgrade(t *testing.T) {
	h := func(conn, up string) *http.Request {
		r := httptest.NewRequest("GET", "/api/v1/events", nil)
		r.Header.Set("Connection", conn)
		r.Header.Set("Upgrade", up)
		return r
	}
	if !isUpgrade(h("keep-alive, Upgrade", "WebSocket")) {
		t.Error("a WebSocket upgrade not recognised")
	}
	for _, r := range []*http.Request{h("keep-alive", "websocket"), h("upgrade", "h2c"), h("", "")} {
		if isUpgrade(r) {
			t.Errorf("%v taken for an upgrade", r.Header)
		}
	}
}
