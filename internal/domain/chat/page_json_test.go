package chat

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
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
		// AppendJSON (the HTTP answer's path) appends the same, after what b held.
		wantData := bytes.TrimSuffix(bytes.TrimPrefix(want.Bytes(), []byte(`{"data":`)), []byte("}\n"))
		if got := page.AppendJSON([]byte("x")); string(got) != "x"+string(wantData) {
			t.Fatalf("AppendJSON\n%s\nwant\nx%s", got, wantData)
		}
		if !json.Valid(got) {
			t.Fatalf("invalid JSON %s", got)
		}
	}
}

// A Time's JSON is its layout's, digit for digit, for any instant and
// zone, and through the layout for years beyond four digits.
func TestTimeJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	times := []time.Time{{}, time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 30, 0, 1_500_000, time.FixedZone("x", 3600))}
	for range 10000 {
		times = append(times, time.Unix(r.Int64N(400e9)-62e9, r.Int64N(1e9)).In(time.FixedZone("z", r.IntN(50000)-25000)))
	}
	for _, at := range times {
		got, err := Time(at).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + at.UTC().Format(timeLayout) + `"`; string(got) != want {
			t.Fatalf("%v: %s, want %s", at, got, want)
		}
	}
}
