package sms_test

import (
	"context"
	"testing"

	"github.com/swiper-social/swiper/internal/adapters/sms"
)

// testSender is the contract every sms.Sender passes: the code handed to
// Send is the code the receiving end sees, for mainland and foreign phones.
// newSender returns a sender and a function reading the last code received
// for a phone (E.164), "" when none.
func testSender(t *testing.T, newSender func(t *testing.T) (sms.Sender, func(phone string) string)) {
	t.Helper()
	cases := []struct{ name, phone, code string }{
		{"mainland", "+8613812345678", "482913"},
		{"foreign", "+14155550123", "007001"},
		{"uk", "+447911123456", "123456"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sender, received := newSender(t)
			if got := received(tc.phone); got != "" {
				t.Fatalf("before Send: received %q, want nothing", got)
			}
			if err := sender.Send(t.Context(), tc.phone, tc.code); err != nil {
				t.Fatalf("Send: %v", err)
			}
			if got := received(tc.phone); got != tc.code {
				t.Fatalf("received %q, want %q", got, tc.code)
			}
			// A second code replaces the first.
			if err := sender.Send(t.Context(), tc.phone, "999999"); err != nil {
				t.Fatalf("second Send: %v", err)
			}
			if got := received(tc.phone); got != "999999" {
				t.Fatalf("after second Send received %q, want 999999", got)
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		sender, _ := newSender(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		// Console may succeed (it does no I/O); a networked sender must not
		// hang. Either way it must return.
		_ = sender.Send(ctx, "+8613812345678", "111111")
	})
}

func TestConsoleContract(t *testing.T) {
	testSender(t, func(t *testing.T) (sms.Sender, func(string) string) {
		var sink sms.Sink
		c := sms.NewConsole(discardLogger(), sink.Record)
		return c, func(phone string) string {
			code, _ := sink.Last(phone)
			return code
		}
	})
}

func TestYunzhixunContract(t *testing.T) {
	testSender(t, func(t *testing.T) (sms.Sender, func(string) string) {
		fake := newFakeYunzhixun(t)
		y := sms.NewYunzhixun(fake.config(), fake.srv.Client())
		return y, func(phone string) string { return fake.lastCode(wantMobile(phone)) }
	})
}

func TestSinkContract(t *testing.T) {
	testSender(t, func(t *testing.T) (sms.Sender, func(string) string) {
		sink := &sms.Sink{}
		return sink, func(phone string) string {
			code, _ := sink.Last(phone)
			return code
		}
	})
}
