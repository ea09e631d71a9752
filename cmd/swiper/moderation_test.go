package main

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/model"
)

// modUsers registers n users through the store (after `swiper migrate`)
// and returns their ids; phones are +86137000000NN.
func modUsers(t *testing.T, getenv func(string) string, n int) (*store.Store, []int64) {
	t.Helper()
	if err := run(context.Background(), []string{"swiper", "migrate"}, getenv, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	st := openTestStore(t, getenv)
	var ids []int64
	now := time.Now().UTC()
	for i := range n {
		ph := "+86137000000" + strconv.Itoa(10+i)
		u, _, err := st.Register(context.Background(), model.User{Phone: ph, Nickname: "u", Gender: "female", Birthday: "1995-01-01",
			City: "北京", CreatedAt: now, ActiveAt: now}, model.Profile{DatingGender: "male", DatingCity: "北京", MaxDistance: 50,
			MinDatingAge: 18, MaxDatingAge: 50})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	return st, ids
}

func modRun(t *testing.T, getenv func(string) string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"swiper"}, args...), getenv, &out, &bytes.Buffer{})
	return out.String(), err
}

func TestReportsListAndResolve(t *testing.T) {
	getenv := testEnv(t, nil)
	ctx := context.Background()
	st, ids := modUsers(t, getenv, 4)
	reported := ids[0]
	report := func(reporter int64, reason string) int64 {
		t.Helper()
		id, _, err := st.Report(ctx, store.ReportReq{Report: store.ReportRow{ReporterID: reporter, ReportedID: reported,
			Reason: reason, CreatedAt: time.Now().UTC()}, Day: "2026-12-07", MaxPerDay: 20, HideAt: 3})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := report(ids[1], "scam")
	report(ids[2], "harassment")
	report(ids[2], "scam")

	out, err := modRun(t, getenv, "reports", "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("reports list:\n%s", out)
	}
	f := strings.Fields(lines[1])
	// ID USER PHONE REASONS REPORTERS REPORTS FIRST(2) LAST(2) STATUS
	if f[0] != strconv.FormatInt(first, 10) || f[1] != strconv.FormatInt(reported, 10) || f[3] != "scam,harassment" ||
		f[4] != "2" || f[5] != "3" || f[len(f)-1] != "open" {
		t.Fatalf("reports list line %q", lines[1])
	}
	if strings.Contains(out, "13700000010") || !strings.Contains(f[2], "*") {
		t.Fatalf("the phone is not masked: %q", f[2])
	}
	if out, err := modRun(t, getenv, "reports", "list", "--status", "resolved"); err != nil || strings.TrimSpace(out) != "no reports" {
		t.Fatalf("resolved before any resolution: %q %v", out, err)
	}

	out, err = modRun(t, getenv, "reports", "resolve", "--id", strconv.FormatInt(first, 10), "--action", "dismiss", "--note", "fine")
	if err != nil || !strings.Contains(out, "3 open report(s) dismissed") {
		t.Fatalf("resolve: %q %v", out, err)
	}
	if out, _ := modRun(t, getenv, "reports", "list"); strings.TrimSpace(out) != "no reports" {
		t.Fatalf("open after resolution:\n%s", out)
	}
	out, err = modRun(t, getenv, "reports", "list", "--status", "all")
	if err != nil || !strings.Contains(out, "resolved (dismiss)") {
		t.Fatalf("all after resolution:\n%s %v", out, err)
	}
	if _, err := modRun(t, getenv, "reports", "resolve", "--id", strconv.FormatInt(first, 10), "--action", "dismiss"); err == nil ||
		!strings.Contains(err.Error(), "resolved already") {
		t.Fatalf("resolving again: %v", err)
	}
	if _, err := modRun(t, getenv, "reports", "resolve", "--id", "999999", "--action", "ban"); err == nil || !strings.Contains(err.Error(), "no report") {
		t.Fatalf("unknown report: %v", err)
	}

	// Resolving with a ban bans the reported user.
	again := report(ids[3], "underage")
	// A long note (up to 500 characters) is kept with the reports; the ban's
	// reason takes what fits.
	if out, err := modRun(t, getenv, "reports", "resolve", "--id", strconv.FormatInt(again, 10), "--action", "ban",
		"--note", strings.Repeat("长", 500)); err != nil ||
		!strings.Contains(out, "banned") {
		t.Fatalf("resolve with ban: %q %v", out, err)
	}
	if banned, err := banned(ctx, st, reported); err != nil || !banned {
		t.Fatalf("not banned after resolve --action ban: %v %v", banned, err)
	}

	for _, args := range [][]string{
		{"reports"},
		{"reports", "frob"},
		{"reports", "list", "--status", "pending"},
		{"reports", "list", "extra"},
		{"reports", "resolve", "--action", "dismiss"},
		{"reports", "resolve", "--id", "0", "--action", "dismiss"},
		{"reports", "resolve", "--id", "1", "--action", "delete"},
		{"reports", "resolve", "--id", "1"},
		{"reports", "resolve", "--id", "1", "--action", "ban", "--note", strings.Repeat("x", 501)},
	} {
		_, err := modRun(t, getenv, args...)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if out, err := modRun(t, getenv, "reports", "list", "--help"); err != nil || !strings.Contains(out, "--status") {
		t.Fatalf("reports list --help: %q %v", out, err)
	}
}

func TestBanUnban(t *testing.T) {
	getenv := testEnv(t, nil)
	ctx := context.Background()
	st, ids := modUsers(t, getenv, 1)
	out, err := modRun(t, getenv, "ban", "--phone", "13700000010", "--reason", "spam")
	if err != nil || !strings.Contains(out, "banned") || strings.Contains(out, "13700000010") {
		t.Fatalf("ban: %q %v", out, err)
	}
	if b, err := banned(ctx, st, ids[0]); err != nil || !b {
		t.Fatalf("not banned: %v %v", b, err)
	}
	if b, err := phoneBanned(ctx, st, "+8613700000010"); err != nil || !b {
		t.Fatalf("phone not suspended: %v %v", b, err)
	}
	if out, err := modRun(t, getenv, "unban", "--phone", "+8613700000010"); err != nil || !strings.Contains(out, "lifted") {
		t.Fatalf("unban: %q %v", out, err)
	}
	if b, err := banned(ctx, st, ids[0]); err != nil || b {
		t.Fatalf("still banned: %v %v", b, err)
	}
	for _, cmd := range []string{"ban", "unban"} {
		_, err := modRun(t, getenv, cmd, "--phone", "13900000000")
		var u usageError
		if err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), "no user") || strings.Contains(err.Error(), "13900000000") {
			t.Errorf("%s of an unknown phone: %v", cmd, err)
		}
		for _, args := range [][]string{{}, {"--phone", "12345"}, {"--phone", "13700000010", "extra"}, {"--bogus"}} {
			_, err := modRun(t, getenv, append([]string{cmd}, args...)...)
			if !errors.As(err, &u) {
				t.Errorf("%s %v: %v, want a usage error", cmd, args, err)
			}
		}
	}
	if _, err := modRun(t, getenv, "ban", "--phone", "13700000010", "--reason", strings.Repeat("x", 201)); err == nil {
		t.Fatal("a 201-character reason was accepted")
	}
}

// banned reports whether user id's row is banned.
func banned(ctx context.Context, st *store.Store, id int64) (bool, error) {
	u, err := st.User(ctx, id)
	return u.BannedAt != nil, err
}

// phoneBanned reports whether the user of the E.164 phone is banned.
func phoneBanned(ctx context.Context, st *store.Store, e164 string) (bool, error) {
	u, err := st.UserByPhone(ctx, e164)
	return u.BannedAt != nil, err
}
