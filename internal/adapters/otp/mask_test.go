package otp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/adapters/otp"
)

// TestErrorsMaskThePhone: errors of the code stores end up in logs (a 503
// logs its cause), so they name the phone masked, never in full.
func TestErrorsMaskThePhone(t *testing.T) {
	const phone = "+8613812345678"
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, DialerRetries: 1, MaxRetries: -1})
	defer down.Close()
	rs := otp.NewRedis(kv.NewRedis(down, "t:"), otp.DefaultPolicy())
	mem := otp.NewMemory(otp.DefaultPolicy())
	now := time.Now()
	hash := []byte{1, 2, 3}
	errOf := func(_ otp.Result, err error) error { return err }
	errs := map[string]error{
		"memory verify, cancelled": errOf(mem.Verify(cancelled, phone, hash, now)),
		"memory issue, cancelled":  errOf(mem.Issue(cancelled, otp.IssueRequest{Phone: phone, CodeHash: hash, Now: now})),
		"memory check, cancelled":  errOf(mem.Check(cancelled, phone, hash, now)),
		"redis verify, down":       errOf(rs.Verify(context.Background(), phone, hash, now)),
		"redis check, down":        errOf(rs.Check(context.Background(), phone, hash, now)),
		"redis issue, down":        errOf(rs.Issue(context.Background(), otp.IssueRequest{Phone: phone, CodeHash: hash, Now: now})),
		"redis verify then, down":  errOf(rs.VerifyThen(context.Background(), phone, hash, now, otp.Then{Key: "k", Value: []byte("v")})),
	}
	_, _, err := rs.CheckRead(context.Background(), phone, hash, now, []string{"k"})
	errs["redis check read, down"] = err
	for name, err := range errs {
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), "138123") {
			t.Errorf("%s: the error names the phone in full: %v", name, err)
		}
	}
}
