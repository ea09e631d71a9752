// Package testenv tells tests where the real MariaDB and Redis are.
//
// Tests that need them call RedisURL or MySQLURL. When the variable is unset
// the test is skipped locally, but fails when CI=true: in CI a missing
// service is a failure, not a skip.
package testenv

import (
	"os"
	"testing"
)

// RedisURL returns SWIPER_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15).
func RedisURL(t testing.TB) string {
	t.Helper()
	return need(t, "SWIPER_TEST_REDIS_URL")
}

// MySQLURL returns SWIPER_TEST_MYSQL_URL (e.g. mysql://swiper:swiper@127.0.0.1:3306/swiper_test).
func MySQLURL(t testing.TB) string {
	t.Helper()
	return need(t, "SWIPER_TEST_MYSQL_URL")
}

func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI needs the real service", name)
		}
		t.Skipf("%s not set; skipping test that needs the real service", name)
	}
	return v
}
