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
		{"+14155550123", "+14155550123"},   // US: fixed line or mobile, the plan cannot tell
		{"+447911123456", "+447911123456"}, // UK mobile
		{"+4915112345678", "+4915112345678"},
		{"+33612345678", "+33612345678"},
		{"+85291234567", "+85291234567"},
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

// Numbers that cannot receive SMS, or would make the service pay a premium
// for it, are refused although they are valid numbers (SMS pumping).
func TestParseRefusesNumbersThatCannotReceiveSMS(t *testing.T) {
	for _, tc := range []struct{ kind, in string }{
		{"US premium rate", "+19005550123"},
		{"UK premium rate", "+449098790000"},
		{"FR premium rate", "+33812345678"},
		{"US toll free", "+18005550123"},
		{"UK VoIP", "+445612345678"},
		{"UK personal number", "+447012345678"},
		{"IE fixed line", "+35312345678"},
		{"DE fixed line", "+4930123456"},
		{"Iridium satellite", "+881612345678"},
		{"Inmarsat satellite", "+870773111632"},
		{"international networks", "+883510012345"},
		{"universal freephone", "+80012345678"},
	} {
		if got, err := Parse(tc.in); err == nil {
			t.Errorf("%s: Parse(%q) = %q, want ErrInvalid", tc.kind, tc.in, got)
		}
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+8613812345678", "+86*******5678"},
		{"+14155550123", "+1******0123"},
		{"+447911123456", "+44******3456"},
		{"+79161234567", "+7******4567"},
		{"+35312345678", "+353****5678"},
		{"13812345678", "*******5678"},
		{"+6831234", "+683****"},
		{"+8612345", "+86*****"},
		{"+496123456", "+49*******"}, // 7 national digits: all hidden
		{"", ""},
		{"+1", "+*"},
	}
	for _, tt := range tests {
		got := Mask(tt.in)
		if got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if digits := strings.TrimLeft(tt.in, "+"); len(digits) > 4 && strings.Contains(got, digits) {
			t.Errorf("Mask(%q) = %q shows the number", tt.in, got)
		}
	}
	if Last4("+8613812345678") != "5678" {
		t.Error("Last4")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"13812345678", "+14155550123", "+8613812345678", "", "+", "1" + strings.Repeat("9", 40),
		"+19005550123", "+881612345678", "+447911123456"} {
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
		m := Mask(got)
		if m == got || strings.Contains(m, got[len(got)-5:]) {
			t.Fatalf("Mask(%q) = %q shows more than the last 4 digits", got, m)
		}
	})
}
