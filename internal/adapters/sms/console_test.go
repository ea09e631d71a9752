package sms_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/sms"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestConsoleLogsMaskedPhone(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	c := sms.NewConsole(log, nil) // a nil sink is allowed
	if err := c.Send(t.Context(), "+8613812345678", "482913"); err != nil {
		t.Fatalf("Send: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1: %q", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	want := map[string]any{
		"level": "INFO",
		"msg":   "sms (console provider): verification code",
		"phone": "+86*******5678",
		"code":  "482913",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("log %s = %v, want %v", k, rec[k], v)
		}
	}
	if strings.Contains(buf.String(), "13812345678") {
		t.Errorf("log contains the full phone: %s", buf.String())
	}
}

func TestSinkWait(t *testing.T) {
	var sink sms.Sink
	const phone = "+8613812345678"
	if _, ok := sink.Last(phone); ok {
		t.Fatal("Last on empty sink reported a code")
	}

	var wg sync.WaitGroup
	got := make([]string, 2)
	errs := make([]error, 2)
	wg.Go(func() { got[0], errs[0] = sink.Wait(t.Context(), phone) })
	wg.Go(func() { got[1], errs[1] = sink.WaitN(t.Context(), phone, 2) })

	time.Sleep(10 * time.Millisecond)
	sink.Record("+14155550123", "000000") // another phone wakes nobody up
	sink.Record(phone, "111111")
	sink.Record(phone, "222222")
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("waiter %d: %v", i, err)
		}
	}
	if got[0] != "111111" && got[0] != "222222" {
		t.Errorf("Wait = %q, want one of the sent codes", got[0])
	}
	if got[1] != "222222" {
		t.Errorf("WaitN(2) = %q, want 222222", got[1])
	}
	if n := sink.Count(phone); n != 2 {
		t.Errorf("Count = %d, want 2", n)
	}
	if code, _ := sink.Last(phone); code != "222222" {
		t.Errorf("Last = %q, want 222222", code)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := sink.WaitN(ctx, phone, 3); err == nil {
		t.Error("WaitN for a code never sent returned no error")
	}
	if _, err := sink.WaitN(t.Context(), phone, 0); err == nil {
		t.Error("WaitN(0) returned no error")
	}
}
