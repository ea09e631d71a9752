package chat_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/chat"
	"github.com/swiper-social/swiper/internal/domain/model"
)

func TestCleanText(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"hi", "hi", true},
		{"  hi \n", "hi", true},
		{"\u3000hi\u00a0", "hi", true},
		{"a\nb", "a\nb", true},
		{strings.Repeat("a", 1000), strings.Repeat("a", 1000), true},
		{" " + strings.Repeat("爱", 1000) + " ", strings.Repeat("爱", 1000), true},
		{strings.Repeat("👩‍👩‍👧", 200), strings.Repeat("👩‍👩‍👧", 200), true}, // 5 code points each: 1000
		{strings.Repeat("👩‍👩‍👧", 201), "", false},
		{strings.Repeat("a", 1001), "", false},
		{"", "", false},
		{" \n ", "", false},
		{"a\tb", "", false},
		{"a\rb", "", false},
		{"hi\t", "", false}, // controls are refused wherever they are, not trimmed away
		{"a\x7fb", "", false},
		{"a\u0085b", "", false},
		{"a\u009fb", "", false},
		{"a\x00", "", false},
	} {
		got, why := chat.CleanText(tc.in)
		if (why == "") != tc.ok || got != tc.want {
			t.Errorf("CleanText(%q) = %q, %q; want %q, ok=%v", tc.in, got, why, tc.want, tc.ok)
		}
	}
}

func TestCheckClientID(t *testing.T) {
	for id, ok := range map[string]bool{
		"a": true, "A-z_09": true, strings.Repeat("x", 64): true,
		"": false, strings.Repeat("x", 65): false, "a b": false, "a.b": false, "ü": false, "a/b": false, "a\n": false,
	} {
		if got := chat.CheckClientID(id) == ""; got != ok {
			t.Errorf("CheckClientID(%q) ok = %v, want %v", id, got, ok)
		}
	}
}

// A message is read when its recipient's mark reached it: mine by the
// other's mark, theirs by mine.
func TestReadTo(t *testing.T) {
	st := model.ConvState{OtherID: 2, MyRead: 10, OtherRead: 5}
	for _, tc := range []struct {
		m    model.Message
		want bool
	}{
		{model.Message{ID: 5, SenderID: 1}, true},
		{model.Message{ID: 6, SenderID: 1}, false},
		{model.Message{ID: 10, SenderID: 2}, true},
		{model.Message{ID: 11, SenderID: 2}, false},
	} {
		if got := chat.ReadTo(tc.m, 1, st); got != tc.want {
			t.Errorf("ReadTo(%+v) = %v, want %v", tc.m, got, tc.want)
		}
	}
}

// A read publishes when the mark moved, or stands at up_to already (the
// retry of a read whose event failed); never for an older id or one not in
// the conversation.
func TestShouldPublishRead(t *testing.T) {
	for _, tc := range []struct {
		out  model.ReadOutcome
		upTo int64
		want bool
	}{
		{model.ReadOutcome{InConversation: true, Moved: true, Mark: 7}, 7, true},
		{model.ReadOutcome{InConversation: true, Mark: 7}, 7, true},
		{model.ReadOutcome{InConversation: true, Mark: 9}, 7, false},
		{model.ReadOutcome{InConversation: false}, 7, false},
	} {
		if got := chat.ShouldPublishRead(tc.out, tc.upTo); got != tc.want {
			t.Errorf("ShouldPublishRead(%+v, %d) = %v, want %v", tc.out, tc.upTo, got, tc.want)
		}
	}
}

// sent_at is RFC 3339 UTC with milliseconds, whatever the zone and
// precision of the stored time.
func TestMessageJSON(t *testing.T) {
	at := time.Date(2026, 3, 1, 18, 4, 5, 120_999_000, time.FixedZone("CST", 8*3600))
	b, err := json.Marshal(chat.MessageOf(model.Message{ID: 3, SenderID: 9, Text: "hi", ClientID: "c", SentAt: at}, true))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":3,"from":9,"text":"hi","client_id":"c","sent_at":"2026-03-01T10:04:05.120Z","read":true}`; string(b) != want {
		t.Fatalf("got %s\nwant %s", b, want)
	}
}
