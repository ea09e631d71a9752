package httpapi

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestSameOrigin(t *testing.T) {
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	tests := []struct {
		name    string
		method  string
		host    string
		remote  string // peer address; default 192.0.2.7:1234
		tls     bool
		trusted []netip.Prefix
		headers map[string][]string
		want    bool
	}{
		{"GET from anywhere", "GET", "swiper.example", "", false, nil, map[string][]string{"Origin": {"http://evil.example"}}, true},
		{"HEAD", "HEAD", "swiper.example", "", false, nil, map[string][]string{"Sec-Fetch-Site": {"cross-site"}}, true},
		{"same origin", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {"http://swiper.example"}}, true},
		{"same origin with port", "PATCH", "127.0.0.1:8080", "", false, nil, map[string][]string{"Origin": {"http://127.0.0.1:8080"}}, true},
		{"case-insensitive", "DELETE", "Swiper.Example", "", false, nil, map[string][]string{"Origin": {"HTTP://swiper.EXAMPLE"}}, true},
		{"default port in Origin", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {"http://swiper.example:80"}}, true},
		{"default port in Host", "POST", "swiper.example:80", "", false, nil, map[string][]string{"Origin": {"http://swiper.example"}}, true},
		{"TLS default port", "POST", "swiper.example:443", "", true, nil, map[string][]string{"Origin": {"https://swiper.example"}}, true},
		{"IPv6", "PUT", "[::1]:8080", "", false, nil, map[string][]string{"Origin": {"http://[::1]:8080"}}, true},
		{"other host", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {"http://evil.example"}}, false},
		{"subdomain (same site)", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {"http://a.swiper.example"}}, false},
		{"other port", "POST", "swiper.example:8080", "", false, nil, map[string][]string{"Origin": {"http://swiper.example:8081"}}, false},
		{"other scheme", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {"https://swiper.example"}}, false},
		{"http page to TLS server", "POST", "swiper.example", "", true, nil, map[string][]string{"Origin": {"http://swiper.example"}}, false},
		{"null", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {"null"}}, false},
		{"empty Origin", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {""}}, false},
		{"Origin with a path", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {"http://swiper.example/x"}}, false},
		{"Origin with user info", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {"http://evil@swiper.example"}}, false},
		{"two Origins", "POST", "swiper.example", "", false, nil, map[string][]string{"Origin": {"http://swiper.example", "http://evil.example"}}, false},
		{"Origin wins over Sec-Fetch-Site", "POST", "swiper.example", "", false, nil,
			map[string][]string{"Origin": {"http://evil.example"}, "Sec-Fetch-Site": {"same-origin"}}, false},
		{"trusted proxy https", "POST", "swiper.example", "10.0.0.1:5000", false, proxy,
			map[string][]string{"Origin": {"https://swiper.example"}, "X-Forwarded-Proto": {"https"}}, true},
		{"trusted proxy https, http Origin", "POST", "swiper.example", "10.0.0.1:5000", false, proxy,
			map[string][]string{"Origin": {"http://swiper.example"}, "X-Forwarded-Proto": {"https"}}, false},
		{"untrusted X-Forwarded-Proto", "POST", "swiper.example", "", false, proxy,
			map[string][]string{"Origin": {"https://swiper.example"}, "X-Forwarded-Proto": {"https"}}, false},
		{"Sec-Fetch-Site same-origin", "POST", "swiper.example", "", false, nil, map[string][]string{"Sec-Fetch-Site": {"same-origin"}}, true},
		{"Sec-Fetch-Site none", "POST", "swiper.example", "", false, nil, map[string][]string{"Sec-Fetch-Site": {"none"}}, true},
		{"Sec-Fetch-Site same-site", "POST", "swiper.example", "", false, nil, map[string][]string{"Sec-Fetch-Site": {"same-site"}}, false},
		{"Sec-Fetch-Site cross-site", "DELETE", "swiper.example", "", false, nil, map[string][]string{"Sec-Fetch-Site": {"cross-site"}}, false},
		{"Sec-Fetch-Site unknown", "POST", "swiper.example", "", false, nil, map[string][]string{"Sec-Fetch-Site": {"weird"}}, false},
		{"neither header (not a browser)", "POST", "swiper.example", "", false, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/api/v1/users/me", nil)
			r.Host = tt.host
			r.RemoteAddr = "192.0.2.7:1234"
			if tt.remote != "" {
				r.RemoteAddr = tt.remote
			}
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, vs := range tt.headers {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			if got := sameOrigin(r, tt.trusted); got != tt.want {
				t.Errorf("sameOrigin = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckQuery(t *testing.T) {
	for q, ok := range map[string]bool{
		"": true, "limit=10": true, "limit=10&page=2": true, "a=%41": true, "a": true, "a=1&&b=2": true,
		"limit=1000;": false, "limit=5;page=1": false, ";": false, "a=%zz": false, "a=%g": false, "%": false,
	} {
		r := httptest.NewRequest("GET", "/api/v1/matches", nil)
		r.URL.RawQuery = q
		if err := checkQuery(r); (err == nil) != ok {
			t.Errorf("checkQuery(%q) = %v, want ok=%v", q, err, ok)
		}
	}
}
