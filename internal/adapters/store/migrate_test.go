package store

import (
	"strings"
	"testing"

	"github.com/swiper-social/swiper/internal/platform/config"
)

// Migrations run without the pools' read and write timeouts: 00014 took
// 1 m 40 s on 1M users (10M swipes), and a timed-out MySQL migration is
// left half applied (its DDL is not transactional).
func TestMigrationsHaveNoReadTimeout(t *testing.T) {
	_, dsn, err := config.Config{DatabaseURL: "mysql://u:p@127.0.0.1:3306/swiper"}.Database()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dsn, "readTimeout=10s") {
		t.Fatalf("the pools' DSN %q has no read timeout: this test checks nothing", dsn)
	}
	got, err := migrationDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "readTimeout") || strings.Contains(got, "writeTimeout") {
		t.Fatalf("migrations run on %q", got)
	}
	if !strings.Contains(got, "parseTime=true") || !strings.Contains(got, "/swiper?") {
		t.Fatalf("migrations run on %q: the rest of the DSN is lost", got)
	}
}
