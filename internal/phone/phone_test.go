package phone

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"13812345678", "+8613812345678"},
		{" 19912345678 ", "+8619912345678"},
		{"+8613812345678", "+8613812345678"},
		{"+14155550123", "+14155550123"},
		{"+447911123456", "+447911123456"},
		{"12812345678", ""},    // 1[3-9] prefix
		{"1381234567", ""},     // 10 digits
		{"138123456789", ""},   // 12 digits
		{"+8612812345678", ""}, // +86 but not a mobile
		{"+1415555012", ""},    // too short for NANP
		{"+0123456789", ""},
		{"+1 415 555 0123", ""},
		{"abc", ""},
		{"", ""},
		{"+", ""},
		{"１３８１２３４５６７８", ""}, // full-width digits
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Parse(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestMask(t *testing.T) {
	if got := Mask("+8613812345678"); got != "+86138******78" {
		t.Errorf("Mask = %q", got)
	}
	if got := Mask("+14155550123"); strings.Contains(got, "555501") || !strings.HasSuffix(got, "23") {
		t.Errorf("Mask = %q", got)
	}
	if Last4("+8613812345678") != "5678" {
		t.Error("Last4")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"13812345678", "+14155550123", "+8613812345678", "", "+", "1" + strings.Repeat("9", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			return
		}
		// Whatever is accepted is canonical E.164 and parses to itself.
		if got[0] != '+' || len(got) > 16 || !allDigits(got[1:]) {
			t.Fatalf("Parse(%q) = %q: not E.164", s, got)
		}
		again, err := Parse(got)
		if err != nil || again != got {
			t.Fatalf("Parse(Parse(%q)) = %q, %v; want %q", s, again, err, got)
		}
		if Mask(got) == got {
			t.Fatalf("Mask(%q) hides nothing", got)
		}
	})
}
