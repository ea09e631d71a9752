package chat

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// A page's JSON is what encoding/json writes from the fields' tags, as
// writeJSON encodes answers (HTML not escaped), for any text.
func TestMessagesPageJSON(t *testing.T) {
	texts := []string{"", "hello", `say "hi" \ back`, "line\nbreak\ttab\r\b\f\x00\x1f\x7f", "<a href='x'>&amp;</a>",
		"中文 😀 é", "bad \xff\xfe utf8 \xe2\x82", "sep \u2028 and \u2029", "\u00a0\u200b"}
	at := time.Date(2026, 3, 1, 10, 4, 5, 678_901_234, time.FixedZone("x", 8*3600))
	var p MessagesPage
	for i, s := range texts {
		p.Messages = append(p.Messages, Message{ID: int64(i + 1), From: -int64(i), Text: s, ClientID: s, SentAt: Time(at), Read: i%2 == 0})
	}
	for _, page := range []MessagesPage{p, {HasMore: true, Messages: []Message{}}, {Messages: p.Messages[:1], HasMore: true}} {
		got, err := json.Marshal(map[string]any{"data": page})
		if err != nil {
			t.Fatal(err)
		}
		type plain MessagesPage // the same fields, without MarshalJSON
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]any{"data": plain(page)}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		enc = json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(map[string]any{"data": page}); err != nil {
			t.Fatal(err)
		}
		if buf.String() != want.String() {
			t.Fatalf("page JSON\n%s\nwant\n%s", buf.String(), want.String())
		}
		if !json.Valid(got) {
			t.Fatalf("invalid JSON %s", got)
		}
	}
}
