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

// Has reports whether field already has an error.
func (e *Errors) Has(field string) bool {
	_, a := e.missing[field]
	_, b := e.invalid[field]
	return a || b
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
// that is not a single object and any field not in allowed.
func Object(body []byte, allowed ...string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, &Error{Message: "body must be a JSON object", Fields: map[string]string{"body": "must be a JSON object"}}
	}
	if dec.More() {
		return nil, &Error{Message: "body must be a single JSON object", Fields: map[string]string{"body": "trailing data after the JSON object"}}
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

// Text validates a short display text: trimmed, min..max Unicode characters,
// no control or format characters. It returns the trimmed text.
func Text(s string, min, max int) (string, string) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", "must be valid UTF-8"
	}
	n := utf8.RuneCountInString(s)
	if n < min || n > max {
		return "", fmt.Sprintf("must be %d-%d characters", min, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", "must not contain control characters"
		}
	}
	return s, ""
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
	dec := json.NewDecoder(bytes.NewReader(body))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, &Error{Message: "body must be a JSON object", Fields: map[string]string{"body": "must be a JSON object"}}
	}
	if dec.More() {
		return nil, &Error{Message: "body must be a single JSON object", Fields: map[string]string{"body": "trailing data after the JSON object"}}
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out, nil
}
