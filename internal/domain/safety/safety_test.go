package safety_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/input"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
	"github.com/swiper-social/swiper/internal/domain/safety"
)

func TestCheckReport(t *testing.T) {
	for _, r := range safety.Reasons {
		if err := safety.CheckReport(r, ""); err != nil {
			t.Errorf("reason %q refused: %v", r, err)
		}
	}
	if len(safety.Reasons) != 6 {
		t.Fatalf("%d reasons, want the six of API.md", len(safety.Reasons))
	}
	cases := []struct {
		reason, note string
		fields       []string
	}{
		{"rude", "", []string{"reason"}},
		{"", "", []string{"reason"}},
		{"Scam", "", []string{"reason"}},
		{"scam", strings.Repeat("字", 500), nil},
		{"scam", strings.Repeat("字", 501), []string{"note"}},
		{"scam", strings.Repeat("a", 501), []string{"note"}},
		{"x", strings.Repeat("a", 501), []string{"note", "reason"}},
	}
	for _, c := range cases {
		err := safety.CheckReport(c.reason, c.note)
		if c.fields == nil {
			if err != nil {
				t.Errorf("%q + %d chars: %v", c.reason, len([]rune(c.note)), err)
			}
			continue
		}
		var ie *input.Error
		if !errors.As(err, &ie) {
			t.Fatalf("%q + %d chars: %v, want an input error", c.reason, len([]rune(c.note)), err)
		}
		var got []string
		for f := range ie.Fields {
			got = append(got, f)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.fields) {
			t.Errorf("%q + %d chars: fields %v, want %v", c.reason, len([]rune(c.note)), got, c.fields)
		}
	}
}

func TestUntilMidnight(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// 23:59:30 in Shanghai is 15:59:30 UTC: 30 s to the local midnight.
	now := time.Date(2026, 12, 7, 15, 59, 30, 0, time.UTC)
	if d := safety.UntilMidnight(now, sh); d != 30*time.Second {
		t.Fatalf("until midnight %s, want 30s", d)
	}
	if got := safety.Day(now, sh); got != "2026-12-07" {
		t.Fatalf("day %s", got)
	}
	if got := safety.Day(now.Add(time.Minute), sh); got != "2026-12-08" {
		t.Fatalf("day after midnight %s", got)
	}
}

func TestCases(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2026, 12, 7, 10, m, 0, 0, time.UTC) }
	resolved := at(50)
	line := func(id, reporter, reported int64, reason string, m int, res *time.Time, how string) store.ReportLine {
		return store.ReportLine{Report: store.ReportRow{ID: id, ReporterID: reporter, ReportedID: reported, Reason: reason,
			CreatedAt: at(m), ResolvedAt: res, Resolution: how}, Phone: "+8613812345678"}
	}
	got := safety.Cases([]store.ReportLine{
		line(1, 10, 7, "scam", 1, &resolved, "dismiss"),
		line(2, 11, 8, "harassment", 2, nil, ""),
		line(3, 12, 7, "scam", 3, nil, ""),
		line(4, 12, 7, "fake_profile", 9, nil, ""),
		line(5, 13, 7, "scam", 5, nil, ""),
	})
	want := []safety.Case{
		{ID: 1, UserID: 7, Phone: "+8613812345678", Reasons: []string{"scam"}, Reporters: 1, Reports: 1, First: at(1), Last: at(1), Resolution: "dismiss"},
		{ID: 2, UserID: 8, Phone: "+8613812345678", Reasons: []string{"harassment"}, Reporters: 1, Reports: 1, First: at(2), Last: at(2), Open: true},
		{ID: 3, UserID: 7, Phone: "+8613812345678", Reasons: []string{"scam", "fake_profile"}, Reporters: 2, Reports: 3, First: at(3), Last: at(9), Open: true},
	}
	if len(got) != len(want) {
		t.Fatalf("cases %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.UserID != w.UserID || !slices.Equal(g.Reasons, w.Reasons) || g.Reporters != w.Reporters ||
			g.Reports != w.Reports || !g.First.Equal(w.First) || !g.Last.Equal(w.Last) || g.Open != w.Open || g.Resolution != w.Resolution {
			t.Errorf("case %d: %+v, want %+v", i, g, w)
		}
	}
}

// The export names other users by id only, and says who the other user of
// each message is.
func TestExportOf(t *testing.T) {
	me := int64(5)
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.FixedZone("x", 3600))
	e := store.Export{
		Swipes:   []store.ExportSwipe{{UserID: 9, Action: model.ActionSuperlike, At: at}, {UserID: 3, Action: model.ActionDislike, At: at}},
		Matches:  []store.ExportMatch{{UserID: 9, MatchedAt: at}},
		Messages: []store.ExportMessage{{UserA: 5, UserB: 9, From: 9, Text: "hi", SentAt: at}, {UserA: 2, UserB: 5, From: 5, Text: "yo", SentAt: at}},
		Blocks:   []store.ExportBlock{{UserID: 3, BlockedAt: at}},
		Reports:  []store.ExportReport{{UserID: 3, Reason: "scam", Note: "n", At: at}},
	}
	x := safety.ExportOf(me, profile.Me{ID: me}, profile.Profile{}, e)
	if x.Swipes[0].Action != "superlike" || x.Swipes[1].Action != "dislike" || x.Swipes[0].At.Location() != time.UTC {
		t.Fatalf("swipes %+v", x.Swipes)
	}
	if x.Messages[0].UserID != 9 || x.Messages[1].UserID != 2 || x.Messages[1].From != 5 {
		t.Fatalf("messages %+v", x.Messages)
	}
	b, err := json.Marshal(safety.ExportOf(me, profile.Me{ID: me}, profile.Profile{}, store.Export{}))
	if err != nil {
		t.Fatal(err)
	}
	// Empty lists are [], never null.
	for _, k := range []string{`"swipes":[]`, `"matches":[]`, `"messages":[]`, `"blocks":[]`, `"reports":[]`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("%s missing in %s", k, b)
		}
	}
}
