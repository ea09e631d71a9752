package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseRedisURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want RedisTarget
	}{
		{"redis://127.0.0.1:6379/14", RedisTarget{Mode: RedisSingle, Addrs: []string{"127.0.0.1:6379"}, DB: 14}},
		{"redis://cache.local", RedisTarget{Mode: RedisSingle, Addrs: []string{"cache.local:6379"}}},
		{"rediss://u:p%40ss@cache.local:6380/0?dial_timeout=3s", RedisTarget{Mode: RedisSingle, TLS: true,
			Addrs: []string{"cache.local:6380"}, Username: "u", Password: "p@ss", Query: map[string][]string{"dial_timeout": {"3s"}}}},
		{"redis+cluster://h1:7000,h2:7001,[::1]:7002", RedisTarget{Mode: RedisCluster,
			Addrs: []string{"h1:7000", "h2:7001", "[::1]:7002"}}},
		{"redis+cluster://:secret@10.0.0.1:7000/", RedisTarget{Mode: RedisCluster, Addrs: []string{"10.0.0.1:7000"}, Password: "secret"}},
		{"rediss+cluster://app:pw@h1:7000, h2?read_timeout=2s", RedisTarget{Mode: RedisCluster, TLS: true,
			Addrs: []string{"h1:7000", "h2:6379"}, Username: "app", Password: "pw", Query: map[string][]string{"read_timeout": {"2s"}}}},
		{"redis+sentinel://s1,s2:26380/3?master_name=mymaster", RedisTarget{Mode: RedisSentinel,
			Addrs: []string{"s1:26379", "s2:26380"}, DB: 3, Master: "mymaster"}},
	} {
		got, err := ParseRedisURL(tc.url)
		if err != nil {
			t.Errorf("ParseRedisURL(%q): %v", tc.url, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("ParseRedisURL(%q) (-want +got):\n%s", tc.url, diff)
		}
	}
}

// A bad SWIPER_REDIS_URL is a configuration error that says what is wrong
// (and never shows the password).
func TestParseRedisURLInvalid(t *testing.T) {
	for url, want := range map[string]string{
		"127.0.0.1:6379":                             "not a URL",
		"http://h:1":                                 "scheme",
		"redis://":                                   "no host",
		"redis://h1:7000,h2:7001":                    "redis+cluster://",
		"redis+cluster://h1:7000,h2:7001/3":          "no database numbers",
		"redis+cluster://h1:7000,,h2:7001":           "empty host",
		"redis+cluster://h1:70000":                   "port",
		"redis+cluster://h1:x":                       "port",
		"redis+cluster://::1:7000":                   "brackets",
		"redis+cluster://h1:7000?addr=h2:7001":       "addr=",
		"redis+cluster://h1:7000?master_name=m":      "only for redis+sentinel",
		"redis+sentinel://s1:26379":                  "master_name",
		"redis://h:1/x":                              "database",
		"redis://h:1/-1":                             "database",
		"redis://h:1/0#frag":                         "fragment",
		"redis://h:1/0?a=%zz":                        "query",
		"redis+cluster://user:hunter2@h1:7000/1":     "no database numbers",
		"redis+cluster://user:hunter2@h1:7000,h 2:1": "not a host",
	} {
		_, err := ParseRedisURL(url)
		if err == nil {
			t.Errorf("ParseRedisURL(%q) accepted", url)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, want) || !strings.HasPrefix(msg, "SWIPER_REDIS_URL: ") {
			t.Errorf("ParseRedisURL(%q) = %q, want a SWIPER_REDIS_URL error about %q", url, msg, want)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("ParseRedisURL(%q) = %q shows the password", url, msg)
		}
		if _, err := Load(env(map[string]string{"SWIPER_REDIS_URL": url})); err == nil {
			t.Errorf("Load with SWIPER_REDIS_URL=%q accepted", url)
		}
	}
	if _, err := Load(env(map[string]string{"SWIPER_REDIS_URL": "redis+cluster://127.0.0.1:7000,127.0.0.1:7001"})); err != nil {
		t.Errorf("Load with a cluster URL: %v", err)
	}
}
