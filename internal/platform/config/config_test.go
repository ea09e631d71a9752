package config

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "localhost:8080" || c.SMSProvider != "console" || c.Storage != "local" || c.MediaDir != "data/media" ||
		c.OTPIPLimit != 30 || c.FreeDailyLikes != 100 || c.Timezone.String() != "Asia/Shanghai" || c.RedisURL != "" {
		t.Fatalf("defaults: %+v", c)
	}
	d, dsn, err := c.Database()
	if err != nil || d != SQLite || dsn != "data/swiper.db" {
		t.Fatalf("database: %s %s %v", d, dsn, err)
	}
}

func TestMySQLURL(t *testing.T) {
	c, err := Load(env(map[string]string{"SWIPER_DATABASE_URL": "mysql://swiper:p@ss@db.local/swiper"}))
	if err != nil {
		t.Fatal(err)
	}
	d, dsn, _ := c.Database()
	if d != MySQL || !strings.HasPrefix(dsn, "swiper:p@ss@tcp(db.local:3306)/swiper?") || !strings.Contains(dsn, "parseTime=true") {
		t.Fatalf("dsn %q", dsn)
	}
}

func TestInvalid(t *testing.T) {
	bad := []map[string]string{
		{"SWIPER_DATABASE_URL": "postgres://x"},
		{"SWIPER_DATABASE_URL": "mysql://host"},
		{"SWIPER_SMS_PROVIDER": "twilio"},
		{"SWIPER_SMS_PROVIDER": "yunzhixun"},
		{"SWIPER_STORAGE": "qiniu"},
		{"SWIPER_STORAGE": "s3"},
		{"SWIPER_TIMEZONE": "Mars/Olympus"},
		{"SWIPER_OTP_IP_LIMIT": "-1"},
		{"SWIPER_FREE_DAILY_LIKES": "lots"},
		{"SWIPER_TRUSTED_PROXIES": "10.0.0.0/8, nonsense"},
		{"SWIPER_REDIS_URL": "127.0.0.1:6379"},
	}
	for _, m := range bad {
		if _, err := Load(env(m)); err == nil {
			t.Errorf("Load(%v) accepted", m)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{"SWIPER_TRUSTED_PROXIES": "127.0.0.1, 10.1.2.0/24"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[0].String() != "127.0.0.1/32" || c.TrustedProxies[1].String() != "10.1.2.0/24" {
		t.Fatalf("%v", c.TrustedProxies)
	}
}
