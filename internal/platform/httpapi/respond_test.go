package httpapi

import (
	"net/http/httptest"
	"strconv"
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
	for _, code := range []int{codeOK, codeInvalid} {
		got, want := httptest.NewRecorder(), httptest.NewRecorder()
		writeJSON(got, 200, envelope{Code: code, Data: page})
		writeJSON(want, 200, envelope{Code: code, Data: plain(page)})
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
}
