package input

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestObject(t *testing.T) {
	tests := []struct {
		body    string
		wantErr string // field named in the error, "" = ok
	}{
		{`{"a":1}`, ""},
		{`{}`, ""},
		{`{"a":1,"b":2}`, ""},
		{`{"c":1}`, "c"},
		{`{"a":1,"id":5}`, "id"},
		{`[]`, "body"},
		{`null`, "body"},
		{`"x"`, "body"},
		{`{"a":1}{"b":2}`, "body"},
		{`{"a":`, "body"},
		{``, "body"},
		{`{"a":1}]`, "body"},
		{`{"a":1}}`, "body"},
		{`{"a":1} x`, "body"},
		{`{"a":1}  ` + "\n\t", ""},
		{" \n{\"a\":1}", ""},
	}
	for _, tt := range tests {
		_, err := Object([]byte(tt.body), "a", "b")
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("Object(%s) = %v", tt.body, err)
			}
			continue
		}
		var ie *Error
		if !errors.As(err, &ie) || ie.Missing || ie.Fields[tt.wantErr] == "" {
			t.Errorf("Object(%s) = %v, want an invalid-field error naming %q", tt.body, err, tt.wantErr)
		}
	}
}

func TestScalars(t *testing.T) {
	if v, ok := Int([]byte("42")); !ok || v != 42 {
		t.Error("Int 42")
	}
	for _, s := range []string{"10.5", `"3"`, "null", "1e99", "true", "4294967296"} {
		if _, ok := Int([]byte(s)); ok {
			t.Errorf("Int(%s) accepted", s)
		}
	}
	if _, ok := Float([]byte("null")); ok {
		t.Error("Float(null) accepted")
	}
	if _, ok := Bool([]byte(`"true"`)); ok {
		t.Error(`Bool("true") accepted`)
	}
	if _, ok := String([]byte("null")); ok {
		t.Error("String(null) accepted")
	}
	if _, ok := Date("2001-02-30"); ok {
		t.Error("Feb 30 accepted")
	}
	b, _ := Date("2000-03-01")
	if got := Age(b, time.Date(2018, 2, 28, 0, 0, 0, 0, time.UTC)); got != 17 {
		t.Errorf("Age = %d", got)
	}
	if got := Age(b, time.Date(2018, 3, 1, 0, 0, 0, 0, time.UTC)); got != 18 {
		t.Errorf("Age = %d", got)
	}
}

func TestErrorsMissingWins(t *testing.T) {
	var e Errors
	e.Invalid("a", "bad")
	e.Missing("b")
	var ie *Error
	if err := e.Err("x"); !errors.As(err, &ie) || !ie.Missing || ie.Fields["b"] == "" {
		t.Fatalf("got %v", err)
	}
}

// FuzzObject: decoding arbitrary bodies never panics; whatever is accepted
// is exactly one JSON object with only allowed keys, and the scalar readers
// agree with encoding/json.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{"nickname":"x"}`, `{"lat":1.5,"lng":null}`, `[]`, `{"a":{"b":[1,2]}}`, `{"min_distance":10.0}`, "\xff", `{"nickname":"a"}]`, `{"nickname":"a"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := Object(body, "nickname", "lat", "lng", "min_distance")
		if err != nil {
			var ie *Error
			if !errors.As(err, &ie) || len(ie.Fields) == 0 {
				t.Fatalf("error without fields: %v", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted %q, which is not exactly one JSON value", body)
		}
		for k, raw := range m {
			switch k {
			case "nickname", "lat", "lng", "min_distance":
			default:
				t.Fatalf("accepted unknown key %q", k)
			}
			if !json.Valid(raw) {
				t.Fatalf("raw value %q is not JSON", raw)
			}
			if n, ok := Int(raw); ok {
				var f float64
				if json.Unmarshal(raw, &f) != nil || f != float64(n) {
					t.Fatalf("Int(%s) = %d disagrees with encoding/json", raw, n)
				}
			}
			if s, ok := String(raw); ok {
				_, _ = Name(s)
			}
		}
	})
}

func TestFieldsSingleValue(t *testing.T) {
	for _, body := range []string{`{"phone":"1"}]`, `{"phone":"1"}}`, `{"phone":"1"}{}`, `{"phone":"1"},`} {
		if _, err := Fields([]byte(body)); err == nil {
			t.Errorf("Fields(%s) accepted trailing data", body)
		}
	}
	if m, err := Fields([]byte(`{"phone":"1"}` + " \r\n")); err != nil || string(m["phone"]) != `"1"` {
		t.Errorf("Fields with trailing whitespace = %v, %v", m, err)
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the stored name; "" = refused
	}{
		{"trimmed", "  小明  ", "小明"},
		{"latin", "Ann", "Ann"},
		{"digit", "7", "7"},
		{"punctuation", "...", "..."},
		{"symbol", "★", "★"},
		{"emoji", "😀", "😀"},
		{"ZWJ family", "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"},
		{"ZWJ family in a name", "Ann 👨\u200d👩\u200d👧", "Ann 👨\u200d👩\u200d👧"},
		{"flag", "🇨🇳", "🇨🇳"},
		{"emoji with variation selector", "❤\ufe0f", "❤\ufe0f"},
		{"combining accent", "e\u0301", "e\u0301"},
		{"Hangul", "한글", "한글"},
		{"inner space", "New York", "New York"},
		{"ideographic space trimmed", "\u3000北京\u3000", "北京"},
		{"32 CJK", strings.Repeat("字", 32), strings.Repeat("字", 32)},
		{"32 code points of emoji", strings.Repeat("😀", 32), strings.Repeat("😀", 32)},
		{"33 CJK", strings.Repeat("字", 33), ""},
		{"33 code points", strings.Repeat("a", 33), ""},
		{"ZWJ sequences count code points", strings.Repeat("👨\u200d👩\u200d👧", 7), ""}, // 35 code points
		{"empty", "", ""},
		{"blanks", "   ", ""},
		{"Hangul filler", "\u3164", ""},
		{"Hangul fillers", "\u115f\u1160\u3164\uffa0", ""},
		{"braille blank", "\u2800", ""},
		{"braille blanks", "\u2800\u2800", ""},
		{"right-to-left override", "Ann\u202egnp.exe", ""},
		{"first strong isolate", "\u2068Ann\u2069", ""},
		{"zero-width space", "\u200b", ""},
		{"ZWJ alone", "\u200d", ""},
		{"combining mark alone", "\u0301", ""},
		{"variation selector alone", "\ufe0f", ""},
		{"soft hyphen", "\u00ad", ""},
		{"no-break space", "\u00a0", ""},
		{"filler and blank", "\u3164 \u2800", ""},
		{"NUL", "a\u0000b", ""},
		{"newline", "a\nb", ""},
		{"trailing newline", "ab\n", ""},
		{"tab", "a\tb", ""},
		{"DEL", "a\u007fb", ""},
		{"C1 control", "a\u0085b", ""},
		{"line separator", "a\u2028b", ""},
		{"line separator at the end", "ab\u2028", ""},
		{"paragraph separator", "a\u2029b", ""},
		{"noncharacter FDD0", "a\ufdd0", ""},
		{"noncharacter FDEF", "a\ufdef", ""},
		{"noncharacter FFFE", "a\ufffe", ""},
		{"noncharacter FFFF", "a\uffff", ""},
		{"noncharacter 1FFFE", "a\U0001fffe", ""},
		{"noncharacter 10FFFF", "a\U0010ffff", ""},
		{"invalid UTF-8", "a\xffb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := Name(tt.in)
			if tt.want == "" {
				if why == "" {
					t.Errorf("Name(%q) = %q, want refused", tt.in, got)
				}
				return
			}
			if why != "" || got != tt.want {
				t.Errorf("Name(%q) = %q, %q; want %q", tt.in, got, why, tt.want)
			}
		})
	}
}
