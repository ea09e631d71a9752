// Package input decodes and validates client input, collecting field errors
// so that one response names every bad field (API codes 1000 and 1001).
package input

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Error is invalid client input. Missing is true when a required field is
// absent (API 1000); otherwise a value is invalid (1001). Code, when set,
// overrides the API code (e.g. 1002 for a malformed phone).
type Error struct {
	Missing bool
	Code    int
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "input: " + e.Message + " (" + strings.Join(keys, ", ") + ")"
}

// Invalid returns an Error for one invalid field.
func Invalid(field, why string) *Error {
	return &Error{Message: "invalid " + field, Fields: map[string]string{field: why}}
}

// Missing returns an Error for one missing field.
func Missing(field string) *Error {
	return &Error{Missing: true, Message: "missing " + field, Fields: map[string]string{field: "is required"}}
}

// Errors collects field errors.
type Errors struct {
	missing map[string]string
	invalid map[string]string
}

// Missing records a missing required field.
func (e *Errors) Missing(field string) {
	if e.missing == nil {
		e.missing = map[string]string{}
	}
	e.missing[field] = "is required"
}

// Invalid records an invalid field (the first reason per field wins).
func (e *Errors) Invalid(field, why string) {
	if e.invalid == nil {
		e.invalid = map[string]string{}
	}
	if _, ok := e.invalid[field]; !ok {
		e.invalid[field] = why
	}
}

// Err returns nil when nothing was recorded. Missing fields win (1000).
func (e *Errors) Err(message string) error {
	if len(e.missing) > 0 {
		return &Error{Missing: true, Message: message, Fields: e.missing}
	}
	if len(e.invalid) > 0 {
		return &Error{Message: message, Fields: e.invalid}
	}
	return nil
}

// Object decodes a JSON object body into its raw fields, rejecting anything
// that is not a single object and any field not in allowed (PATCH bodies).
func Object(body []byte, allowed ...string) (map[string]json.RawMessage, error) {
	m, err := object(body)
	if err != nil {
		return nil, err
	}
	var errs Errors
	for k := range m {
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			errs.Invalid(k, "unknown field")
		}
	}
	if err := errs.Err("unknown fields"); err != nil {
		return nil, err
	}
	return m, nil
}

// object decodes a body that is exactly one JSON object: only whitespace
// may follow it (API.md §1: `{...}]` is 1001).
func object(body []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	// Unmarshal, unlike a Decoder, checks the whole body: one value, then
	// nothing but whitespace.
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, &Error{Message: "body must be a single JSON object", Fields: map[string]string{"body": "must be a single JSON object and nothing after it"}}
	}
	return m, nil
}

// IsNull reports whether a raw value is JSON null.
func IsNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// String decodes a JSON string.
func String(raw []byte) (string, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || IsNull(raw) {
		return "", false
	}
	return s, true
}

// Int decodes a JSON number that is a whole number within int32.
func Int(raw []byte) (int, bool) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] == '"' {
		return 0, false // encoding/json would accept a quoted number
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil || i < -1<<31 || i > 1<<31-1 {
		return 0, false
	}
	return int(i), true
}

// Float decodes a finite JSON number.
func Float(raw []byte) (float64, bool) {
	var f float64
	if IsNull(raw) || json.Unmarshal(raw, &f) != nil {
		return 0, false
	}
	return f, true
}

// Bool decodes a JSON boolean.
func Bool(raw []byte) (bool, bool) {
	var b bool
	if IsNull(raw) || json.Unmarshal(raw, &b) != nil {
		return false, false
	}
	return b, true
}

// nameMax is the longest nickname or city, in Unicode code points.
const nameMax = 32

// Name validates a nickname or a city (API.md §3) and returns it trimmed:
// 1-nameMax Unicode code points, at least one of them visible (a letter,
// digit, punctuation, symbol or emoji — not a blank, a filler such as
// U+3164 or U+2800, a mark or a format character), and no control
// character, line or paragraph separator or noncharacter anywhere, the
// ends included. Format characters such as the zero-width joiner of emoji
// sequences are allowed next to visible ones. On failure the second result
// says why.
func Name(s string) (string, string) {
	if !utf8.ValidString(s) {
		return "", "must be valid UTF-8"
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cc, r):
			return "", "must not contain control characters"
		case unicode.In(r, unicode.Zl, unicode.Zp):
			return "", "must not contain line or paragraph separators"
		case unicode.Is(unicode.Noncharacter_Code_Point, r):
			return "", "must not contain Unicode noncharacters"
		case unicode.Is(unicode.Bidi_Control, r):
			// Direction overrides and isolates are control characters of
			// the bidirectional algorithm: in a name they reorder what is
			// shown around it (spoofing), so they are refused as controls.
			return "", "must not contain control characters"
		}
	}
	s = strings.TrimSpace(s) // only blanks are left to trim
	if n := utf8.RuneCountInString(s); n < 1 || n > nameMax {
		return "", fmt.Sprintf("must be 1-%d characters", nameMax)
	}
	for _, r := range s {
		if visible(r) {
			return s, ""
		}
	}
	return "", "must contain a visible character"
}

// visible reports whether r shows as something on its own: a letter, digit,
// punctuation or symbol (emoji included) that is not a default-ignorable
// filler, or a code point not yet assigned in Go's Unicode tables (most
// likely a newer emoji). Blanks, marks, format characters and private-use
// characters are not.
func visible(r rune) bool {
	switch {
	case r == '\u2800', // braille pattern blank
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r), // Hangul fillers U+115F, U+1160, U+3164, U+FFA0, …
		unicode.Is(unicode.Variation_Selector, r):
		return false
	case unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S):
		return true
	}
	return !unicode.In(r, unicode.M, unicode.Z, unicode.C) // unassigned
}

// Date parses YYYY-MM-DD.
func Date(s string) (time.Time, bool) {
	if len(s) != 10 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}

// Age is the age in whole years at day `on` of someone born on birth.
func Age(birth, on time.Time) int {
	y1, m1, d1 := birth.Date()
	y2, m2, d2 := on.Date()
	age := y2 - y1
	if m2 < m1 || (m2 == m1 && d2 < d1) {
		age--
	}
	return age
}

// Fields decodes a JSON object body into its raw fields; unknown fields are
// ignored (POST bodies), unlike Object (PATCH bodies).
func Fields(body []byte) (map[string][]byte, error) {
	m, err := object(body)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out, nil
}
