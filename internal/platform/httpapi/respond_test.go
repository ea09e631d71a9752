package httpapi

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/domain/chat"
)

// An answer whose data writes its own JSON (a page of messages) is the
// same body, byte for byte, as encoding/json writes for the same fields;
// either way its length is sent.
func TestWriteJSONAppender(t *testing.T) {
	at := chat.Time(time.Date(2026, 3, 1, 10, 4, 5, 0, time.UTC))
	page := chat.MessagesPage{HasMore: true, Messages: []chat.Message{
		{ID: 2, From: 7, Text: `<b>"hi"</b> & 中文`, ClientID: "c2", SentAt: at, Read: true},
		{ID: 1, From: 8, Text: "line\nbreak", ClientID: "c1", SentAt: at},
	}}
	type plain chat.MessagesPage // the same fields, through encoding/json
	var s server
	got, want := httptest.NewRecorder(), httptest.NewRecorder()
	s.okAppended(got, page)
	ok(want, plain(page))
	if got.Body.String() != want.Body.String() {
		t.Fatalf("body\n%s\nwant\n%s", got.Body, want.Body)
	}
	for _, w := range []*httptest.ResponseRecorder{got, want} {
		h := w.Header()
		if h.Get("Content-Type") != "application/json; charset=utf-8" || h.Get("Cache-Control") != "no-store" ||
			h.Get("Content-Length") != strconv.Itoa(w.Body.Len()) { // never chunked
			t.Fatalf("headers %v for a body of %d bytes", h, w.Body.Len())
		}
	}
}

// Answers written in the server's reused buffers are each what
// encoding/json writes: a shorter page after a longer one keeps nothing of
// it, and a buffer grown past the limit is not kept.
func TestOKAppendedReusesBuffers(t *testing.T) {
	at := chat.Time(time.Date(2026, 3, 1, 10, 4, 5, 0, time.UTC))
	long := chat.MessagesPage{HasMore: true}
	for i := range 100 {
		long.Messages = append(long.Messages, chat.Message{ID: int64(100 - i), From: 7, Text: strings.Repeat("长", 500), ClientID: "c", SentAt: at})
	}
	pages := []chat.MessagesPage{
		long,
		{Messages: []chat.Message{{ID: 1, From: 8, Text: "hi", ClientID: "c1", SentAt: at, Read: true}}},
		{Messages: []chat.Message{}},
		long,
	}
	type plain chat.MessagesPage
	var s server
	for i, page := range pages {
		got, want := httptest.NewRecorder(), httptest.NewRecorder()
		s.okAppended(got, page)
		writeJSON(want, 200, envelope{Code: codeOK, Data: plain(page)})
		if got.Code != 200 || got.Body.String() != want.Body.String() {
			t.Fatalf("page %d: %d\n%.300s\nwant\n%.300s", i, got.Code, got.Body, want.Body)
		}
		if got.Header().Get("Content-Length") != strconv.Itoa(got.Body.Len()) {
			t.Fatalf("page %d: Content-Length %q for %d bytes", i, got.Header().Get("Content-Length"), got.Body.Len())
		}
	}
	b := s.answers.get()
	*b = make([]byte, 0, maxPooledAnswer+1)
	s.answers.put(b)
	if c := cap(*s.answers.get()); c > maxPooledAnswer {
		t.Fatalf("a buffer of %d bytes was kept", c)
	}
}
