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
	if s, why := Text("  小明  ", 1, 32); why != "" || s != "小明" {
		t.Errorf("Text = %q %q", s, why)
	}
	if _, why := Text(strings.Repeat("字", 33), 1, 32); why == "" {
		t.Error("33 characters accepted")
	}
	if _, why := Text(strings.Repeat("字", 32), 1, 32); why != "" {
		t.Error("32 CJK characters rejected")
	}
	if _, why := Text("a\u0000b", 1, 32); why == "" {
		t.Error("control character accepted")
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
// is a JSON object with only allowed keys, and the scalar readers agree
// with encoding/json.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{"nickname":"x"}`, `{"lat":1.5,"lng":null}`, `[]`, `{"a":{"b":[1,2]}}`, `{"min_distance":10.0}`, "\xff"} {
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
				_, _ = Text(s, 1, 32)
			}
		}
	})
}
