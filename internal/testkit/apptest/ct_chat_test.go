package apptest_test

// Black-box tests of API.md §3 Conversations (the REST routes), on
// whichever path the suite runs (embedded, or SWIPER_TEST_BACKEND=production).

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/testkit/apptest"
)

type chMessage struct {
	ID       int64  `json:"id"`
	From     int64  `json:"from"`
	Text     string `json:"text"`
	ClientID string `json:"client_id"`
	SentAt   string `json:"sent_at"`
	Read     bool   `json:"read"`
}

type chConversation struct {
	User        soCard     `json:"user"`
	MatchedAt   time.Time  `json:"matched_at"`
	LastMessage *chMessage `json:"last_message"`
	Unread      int        `json:"unread"`
}

type chPage struct {
	Messages []chMessage `json:"messages"`
	HasMore  bool        `json:"has_more"`
}

// chMatch makes a and b a match.
func chMatch(t testing.TB, e *apptest.Env, a, b soUser) {
	t.Helper()
	soExpect(t, soSwipe(e, a, b.ID, "like"), 200, 0)
	r := soSwipe(e, b, a.ID, "like")
	soExpect(t, r, 200, 0)
	var res struct {
		Matched bool `json:"matched"`
	}
	r.Decode(t, &res)
	if !res.Matched {
		t.Fatalf("%d and %d did not match", a.ID, b.ID)
	}
}

func chMessagesPath(other int64) string {
	return "/api/v1/conversations/" + strconv.FormatInt(other, 10) + "/messages"
}

func chSendRaw(e *apptest.Env, from soUser, to int64, body any) *apptest.Response {
	return e.Do(apptest.Request{Method: "POST", Path: chMessagesPath(to), Token: from.Token, JSON: body})
}

// chSend sends text with clientID and expects success.
func chSend(t testing.TB, e *apptest.Env, from soUser, to int64, text, clientID string) chMessage {
	t.Helper()
	r := chSendRaw(e, from, to, map[string]any{"text": text, "client_id": clientID})
	soExpect(t, r, 200, 0)
	var m chMessage
	r.Decode(t, &m)
	return m
}

func chRead(e *apptest.Env, u soUser, other int64, body any) *apptest.Response {
	return e.Do(apptest.Request{Method: "POST", Path: "/api/v1/conversations/" + strconv.FormatInt(other, 10) + "/read", Token: u.Token, JSON: body})
}

func chPageOf(t testing.TB, e *apptest.Env, u soUser, other int64, query string) chPage {
	t.Helper()
	r := soGet(e, u, chMessagesPath(other)+query)
	soExpect(t, r, 200, 0)
	var p chPage
	r.Decode(t, &p)
	return p
}

func chConversations(t testing.TB, e *apptest.Env, u soUser, query string) (int, []chConversation) {
	t.Helper()
	r := soGet(e, u, "/api/v1/conversations"+query)
	soExpect(t, r, 200, 0)
	var p struct {
		Total         int              `json:"total"`
		Conversations []chConversation `json:"conversations"`
	}
	r.Decode(t, &p)
	return p.Total, p.Conversations
}

func chIDs(ms []chMessage) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

var chSentAt = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// A conversation from the first message to read marks: the Message and
// Conversation objects, unread counts, read flags on both sides, and a
// read mark that never moves back.
func TestChatSendReadFlow(t *testing.T) {
	e := apptest.New(t)
	a, b := soNewUser(t, e), soNewUser(t, e)
	chMatch(t, e, a, b)

	total, cs := chConversations(t, e, a, "")
	if total != 1 || len(cs) != 1 || cs[0].User.ID != b.ID || cs[0].LastMessage != nil || cs[0].Unread != 0 {
		t.Fatalf("before any message: %d %+v", total, cs)
	}
	m1 := chSend(t, e, a, b.ID, "  hello \n", "c-1")
	if m1.Text != "hello" || m1.From != a.ID || m1.ClientID != "c-1" || m1.Read || !chSentAt.MatchString(m1.SentAt) {
		t.Fatalf("sent: %+v", m1)
	}
	e.Clock.Advance(time.Second)
	m2 := chSend(t, e, a, b.ID, "line one\nline two", "c-2")
	m3 := chSend(t, e, a, b.ID, "third", "c-3")
	if !(m1.ID < m2.ID && m2.ID < m3.ID) || m2.SentAt < m1.SentAt {
		t.Fatalf("ids/times do not increase: %+v %+v %+v", m1, m2, m3)
	}
	_, cs = chConversations(t, e, b, "")
	if len(cs) != 1 || cs[0].Unread != 3 || cs[0].LastMessage == nil || cs[0].LastMessage.ID != m3.ID || cs[0].User.ID != a.ID {
		t.Fatalf("b's conversations: %+v", cs)
	}
	if len(cs[0].User.Photos) != 0 || cs[0].MatchedAt.IsZero() {
		t.Fatalf("card/matched_at: %+v", cs[0])
	}
	// b reads up to m2: one unread left; a sees m1, m2 read, m3 not.
	soExpect(t, chRead(e, b, a.ID, map[string]any{"up_to": m2.ID}), 200, 0)
	_, cs = chConversations(t, e, b, "")
	if cs[0].Unread != 1 {
		t.Fatalf("unread after reading to m2 = %d, want 1", cs[0].Unread)
	}
	p := chPageOf(t, e, a, b.ID, "")
	if got := chIDs(p.Messages); !slices.Equal(got, []int64{m3.ID, m2.ID, m1.ID}) || p.HasMore {
		t.Fatalf("page = %v %v", got, p.HasMore)
	}
	if p.Messages[0].Read || !p.Messages[1].Read || !p.Messages[2].Read || p.Messages[1].Text != "line one\nline two" {
		t.Fatalf("read flags seen by the sender: %+v", p.Messages)
	}
	// b answers; a's unread counts it, b's own message is not unread for b.
	mb := chSend(t, e, b, a.ID, "hi!", "c-1") // the same client_id from the other sender is a new message
	if mb.ID == m1.ID || mb.From != b.ID {
		t.Fatalf("b's message: %+v", mb)
	}
	_, cs = chConversations(t, e, a, "")
	if cs[0].Unread != 1 || cs[0].LastMessage.ID != mb.ID {
		t.Fatalf("a's conversation: %+v", cs[0])
	}
	// b reads all, then an older id: the mark stays.
	soExpect(t, chRead(e, b, a.ID, map[string]any{"up_to": mb.ID}), 200, 0)
	soExpect(t, chRead(e, b, a.ID, map[string]any{"up_to": m1.ID}), 200, 0)
	p = chPageOf(t, e, a, b.ID, "")
	for _, m := range p.Messages {
		if m.From == a.ID && !m.Read {
			t.Fatalf("the mark moved back: %+v", p.Messages)
		}
	}
	_, cs = chConversations(t, e, b, "")
	if cs[0].Unread != 0 {
		t.Fatalf("b unread = %d after reading all", cs[0].Unread)
	}
	// b's view: a's messages read (by b), b's own not yet read by a.
	p = chPageOf(t, e, b, a.ID, "")
	if p.Messages[0].ID != mb.ID || p.Messages[0].Read || !p.Messages[1].Read {
		t.Fatalf("b's page: %+v", p.Messages)
	}
	soExpect(t, chRead(e, a, b.ID, map[string]any{"up_to": mb.ID}), 200, 0)
	if p = chPageOf(t, e, b, a.ID, ""); !p.Messages[0].Read {
		t.Fatalf("a read mb but b sees it unread: %+v", p.Messages[0])
	}
	_, cs = chConversations(t, e, a, "")
	if cs[0].Unread != 0 || !cs[0].LastMessage.Read {
		t.Fatalf("a's conversation after reading: %+v", cs[0])
	}
}

// Every error code of the section, and the order in which they win.
func TestChatErrorCodes(t *testing.T) {
	e := apptest.New(t)
	a, b, c := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	chMatch(t, e, a, b)
	ok := map[string]any{"text": "hi", "client_id": "ok1"}

	// 1010 without a session, on every route.
	for _, r := range []*apptest.Response{
		e.Do(apptest.Request{Method: "GET", Path: "/api/v1/conversations"}),
		e.Do(apptest.Request{Method: "GET", Path: chMessagesPath(b.ID)}),
		e.Do(apptest.Request{Method: "POST", Path: chMessagesPath(b.ID), JSON: ok}),
		e.Do(apptest.Request{Method: "POST", Path: "/api/v1/conversations/1/read", JSON: map[string]any{"up_to": 1}}),
	} {
		soExpect(t, r, 401, 1010)
	}
	// 2001 myself; 1003 unknown; 2007 known but not matched.
	soExpect(t, chSendRaw(e, a, a.ID, ok), 400, 2001)
	soExpect(t, soGet(e, a, chMessagesPath(a.ID)), 400, 2001)
	soExpect(t, chRead(e, a, a.ID, map[string]any{"up_to": 1}), 400, 2001)
	for _, other := range []int64{c.ID + 1_000_000} {
		soExpect(t, chSendRaw(e, a, other, ok), 404, 1003)
		soExpect(t, soGet(e, a, chMessagesPath(other)), 404, 1003)
		soExpect(t, chRead(e, a, other, map[string]any{"up_to": 1}), 404, 1003)
	}
	soExpect(t, chSendRaw(e, a, c.ID, ok), 404, 2007)
	soExpect(t, soGet(e, a, chMessagesPath(c.ID)), 404, 2007)
	soExpect(t, chRead(e, a, c.ID, map[string]any{"up_to": 1}), 404, 2007)

	// Input (1000/1001) wins over 1003 and 2007.
	r := chSendRaw(e, a, c.ID, map[string]any{})
	soExpect(t, r, 400, 1000)
	ctErrFields(t, r, "text", "client_id")
	r = chSendRaw(e, a, c.ID+1_000_000, map[string]any{"text": "", "client_id": "x"})
	soExpect(t, r, 400, 1001)
	ctErrFields(t, r, "text")
	r = chSendRaw(e, a, b.ID, map[string]any{"text": nil, "client_id": "x"})
	soExpect(t, r, 400, 1000)
	ctErrFields(t, r, "text")
	r = chSendRaw(e, a, b.ID, map[string]any{"text": "hi"})
	soExpect(t, r, 400, 1000)
	ctErrFields(t, r, "client_id")
	r = chRead(e, a, b.ID, map[string]any{})
	soExpect(t, r, 400, 1000)
	ctErrFields(t, r, "up_to")
	for _, bad := range []any{0, -1, "5", 1.5, true} {
		r = chRead(e, a, b.ID, map[string]any{"up_to": bad})
		soExpect(t, r, 400, 1001)
		ctErrFields(t, r, "up_to")
	}
	// Bad path ids and query parameters are 1001.
	for _, p := range []string{"/api/v1/conversations/abc/messages", "/api/v1/conversations/0/messages",
		chMessagesPath(b.ID) + "?limit=0", chMessagesPath(b.ID) + "?limit=101", chMessagesPath(b.ID) + "?before=0",
		chMessagesPath(b.ID) + "?before=x", "/api/v1/conversations?limit=101", "/api/v1/conversations?page=0"} {
		soExpect(t, soGet(e, a, p), 400, 1001)
	}
	soExpect(t, e.Do(apptest.Request{Method: "POST", Path: "/api/v1/conversations/-3/messages", Token: a.Token, JSON: ok}), 400, 1001)
	soExpect(t, e.Do(apptest.Request{Method: "POST", Path: chMessagesPath(b.ID), Token: a.Token, JSON: `{"text": "hi", "client_id": "x"}]`}), 400, 1001)
	// 4002 before anything about the input.
	big := `{"text": "` + strings.Repeat("a", 70_000) + `", "client_id": "x"}`
	soExpect(t, e.Do(apptest.Request{Method: "POST", Path: "/api/v1/conversations/abc/messages", Token: a.Token, JSON: big}), 413, 4002)

	// text: trimmed, 1-1000 Unicode characters, no controls but \n.
	for i, tc := range []struct {
		text string
		ok   bool
		want string
	}{
		{"   ", false, ""},
		{"\n\n", false, ""},
		{strings.Repeat("a", 1001), false, ""},
		{strings.Repeat("a", 1000), true, strings.Repeat("a", 1000)},
		{"  " + strings.Repeat("爱", 1000) + "  ", true, strings.Repeat("爱", 1000)}, // 3000 bytes, 1000 characters
		{strings.Repeat("😀", 1000), true, strings.Repeat("😀", 1000)},
		{strings.Repeat("爱", 1001), false, ""},
		{"a\tb", false, ""},
		{"a\rb", false, ""},
		{"a\r\n", false, ""},
		{"a\u007fb", false, ""},
		{"a\u0085b", false, ""},
		{"a\x00b", false, ""},
		{"a\u3000", true, "a"}, // ideographic space trimmed
		{"one\ntwo", true, "one\ntwo"},
	} {
		r := chSendRaw(e, a, b.ID, map[string]any{"text": tc.text, "client_id": fmt.Sprint("t", i)})
		if !tc.ok {
			soExpect(t, r, 400, 1001)
			ctErrFields(t, r, "text")
			continue
		}
		soExpect(t, r, 200, 0)
		var m chMessage
		r.Decode(t, &m)
		if m.Text != tc.want {
			t.Errorf("case %d: stored %q, want %q", i, m.Text, tc.want)
		}
		e.Clock.Advance(time.Second) // stay under the rate limit
	}
	// client_id: 1-64 of A-Z a-z 0-9 _ -.
	for _, id := range []any{"", "has space", "ü", "a.b", strings.Repeat("x", 65), 7} {
		r := chSendRaw(e, a, b.ID, map[string]any{"text": "hi", "client_id": id})
		soExpect(t, r, 400, 1001)
		ctErrFields(t, r, "client_id")
	}
	soExpect(t, chSendRaw(e, a, b.ID, map[string]any{"text": "hi", "client_id": "A-z_09" + strings.Repeat("x", 58)}), 200, 0)

	// up_to not a message of this conversation: 1001 (after 2007).
	mine := chSend(t, e, a, b.ID, "x", "for-read")
	chMatch(t, e, a, c)
	r = chRead(e, c, a.ID, map[string]any{"up_to": mine.ID})
	soExpect(t, r, 400, 1001)
	ctErrFields(t, r, "up_to")
	soExpect(t, chRead(e, b, a.ID, map[string]any{"up_to": mine.ID + 1_000_000}), 400, 1001)
	soExpect(t, chRead(e, a, b.ID, map[string]any{"up_to": mine.ID}), 200, 0) // my own message is in the conversation

	// 4003: a send or read authenticated by the cookie from another origin.
	evil := h2Cookie(a.Token, "Origin", "http://evil.example")
	soExpect(t, e.Do(apptest.Request{Method: "POST", Path: chMessagesPath(b.ID), Header: evil,
		JSON: map[string]any{"text": "csrf", "client_id": "csrf"}}), 403, 4003)
	soExpect(t, e.Do(apptest.Request{Method: "POST", Path: "/api/v1/conversations/" + strconv.FormatInt(b.ID, 10) + "/read", Header: evil,
		JSON: map[string]any{"up_to": mine.ID}}), 403, 4003)
	for _, m := range chPageOf(t, e, b, a.ID, "?limit=100").Messages {
		if m.Text == "csrf" {
			t.Fatal("a cross-origin send was stored")
		}
	}
}

// 50 parallel sends with one client_id store one message, and all 50
// answers carry it; a later retry too, whatever its text.
func TestChatParallelRetriesOneMessage(t *testing.T) {
	e := apptest.New(t)
	a, b := soNewUser(t, e), soNewUser(t, e)
	chMatch(t, e, a, b)
	var wg sync.WaitGroup
	got := make([]*apptest.Response, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = chSendRaw(e, a, b.ID, map[string]any{"text": "once", "client_id": "same-id"})
		}()
	}
	wg.Wait()
	var first chMessage
	for i, r := range got {
		soExpect(t, r, 200, 0)
		var m chMessage
		r.Decode(t, &m)
		if i == 0 {
			first = m
		}
		if m != first {
			t.Fatalf("answer %d = %+v, answer 0 = %+v", i, m, first)
		}
	}
	again := chSend(t, e, a, b.ID, "another text", "same-id")
	if again != first {
		t.Fatalf("later retry = %+v, want %+v", again, first)
	}
	if p := chPageOf(t, e, b, a.ID, ""); len(p.Messages) != 1 || p.Messages[0].ID != first.ID {
		t.Fatalf("b sees %+v, want the one message", p.Messages)
	}
	if _, cs := chConversations(t, e, b, ""); cs[0].Unread != 1 {
		t.Fatalf("b's unread = %d, want 1", cs[0].Unread)
	}
	// The retries counted once toward the limit: 19 more go through.
	for i := range 19 {
		chSend(t, e, a, b.ID, "more", fmt.Sprint("m", i))
	}
	soExpect(t, chSendRaw(e, a, b.ID, map[string]any{"text": "over", "client_id": "over"}), 429, 2008)
}

// Two users sending at once see the same order, ids and times increasing
// together.
func TestChatConcurrentSendersSameOrder(t *testing.T) {
	e := apptest.New(t)
	a, b := soNewUser(t, e), soNewUser(t, e)
	chMatch(t, e, a, b)
	var wg sync.WaitGroup
	for _, u := range []struct {
		from soUser
		to   int64
	}{{a, b.ID}, {b, a.ID}} {
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := chSendRaw(e, u.from, u.to, map[string]any{"text": fmt.Sprint("from ", u.from.ID, " #", i), "client_id": fmt.Sprint("k", i)})
				if r.Status != 200 || r.Code != 0 {
					t.Errorf("send: %d %s", r.Status, r.Body)
				}
				e.Clock.Advance(time.Millisecond)
			}()
		}
	}
	wg.Wait()
	pa := chPageOf(t, e, a, b.ID, "?limit=100")
	pb := chPageOf(t, e, b, a.ID, "?limit=100")
	if len(pa.Messages) != 40 || !slices.Equal(chIDs(pa.Messages), chIDs(pb.Messages)) {
		t.Fatalf("a sees %v, b sees %v", chIDs(pa.Messages), chIDs(pb.Messages))
	}
	for i := 1; i < len(pa.Messages); i++ {
		if pa.Messages[i].ID >= pa.Messages[i-1].ID || pa.Messages[i].SentAt > pa.Messages[i-1].SentAt {
			t.Fatalf("not newest first by id and time at %d: %+v %+v", i, pa.Messages[i-1], pa.Messages[i])
		}
	}
}

// 20 messages per sender in any rolling 10 s over all conversations;
// refused sends and retries do not count; 2007 wins over 2008.
func TestChatRateLimitRolling(t *testing.T) {
	e := apptest.New(t)
	a, b, c, d := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	chMatch(t, e, a, b)
	chMatch(t, e, a, c)
	var firstID int64
	for i := range 10 { // t = 0: 10 messages to two conversations
		to := b.ID
		if i%2 == 1 {
			to = c.ID
		}
		m := chSend(t, e, a, to, "hi", fmt.Sprint("early", i))
		if i == 0 {
			firstID = m.ID
		}
	}
	e.Clock.Advance(5 * time.Second) // t = 5: 10 more
	for i := range 10 {
		chSend(t, e, a, c.ID, "hi", fmt.Sprint("late", i))
	}
	r := chSendRaw(e, a, b.ID, map[string]any{"text": "21st", "client_id": "x21"})
	soExpect(t, r, 429, 2008)
	if ra := r.Header.Get("Retry-After"); ra != "5" {
		t.Fatalf("Retry-After = %q, want 5 (the first 10 leave the window at t = 10)", ra)
	}
	// A retry of a stored message still answers it and counts nothing.
	if m := chSend(t, e, a, b.ID, "hi", "early0"); m.ID != firstID {
		t.Fatalf("retry answered %+v", m)
	}
	// Refused sends do not count.
	for i := range 5 {
		soExpect(t, chSendRaw(e, a, b.ID, map[string]any{"text": "no", "client_id": fmt.Sprint("refused", i)}), 429, 2008)
	}
	// 2007 before 2008, 1001 before both.
	soExpect(t, chSendRaw(e, a, d.ID, map[string]any{"text": "hi", "client_id": "d1"}), 404, 2007)
	soExpect(t, chSendRaw(e, a, b.ID, map[string]any{"text": "\t", "client_id": "d1"}), 400, 1001)
	// b is not limited by a's sends.
	chSend(t, e, b, a.ID, "me too", "b1")
	e.Clock.Advance(5 * time.Second) // t = 10: the first 10 left, the late 10 stay
	for i := range 10 {
		chSend(t, e, a, b.ID, "hi", fmt.Sprint("later", i))
	}
	soExpect(t, chSendRaw(e, a, b.ID, map[string]any{"text": "no", "client_id": "over"}), 429, 2008)
	e.Clock.Advance(5 * time.Second) // t = 15: the late 10 left
	chSend(t, e, a, b.ID, "again", "over")
}

// Unmatching ends the conversation for both: 2007 on every route, the
// messages are gone, and it leaves both lists.
func TestChatUnmatchEndsConversation(t *testing.T) {
	e := apptest.New(t)
	a, b, c := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	chMatch(t, e, a, b)
	chMatch(t, e, a, c)
	m := chSend(t, e, a, b.ID, "hello", "u1")
	chSend(t, e, b, a.ID, "hey", "u2")
	chSend(t, e, a, c.ID, "hello c", "u3")
	soExpect(t, soDelete(e, b, "/api/v1/matches/"+strconv.FormatInt(a.ID, 10)), 200, 0)
	for _, u := range []struct{ me, other soUser }{{a, b}, {b, a}} {
		soExpect(t, soGet(e, u.me, chMessagesPath(u.other.ID)), 404, 2007)
		soExpect(t, chSendRaw(e, u.me, u.other.ID, map[string]any{"text": "still there?", "client_id": "u1"}), 404, 2007)
		soExpect(t, chRead(e, u.me, u.other.ID, map[string]any{"up_to": m.ID}), 404, 2007)
	}
	if total, cs := chConversations(t, e, a, ""); total != 1 || len(cs) != 1 || cs[0].User.ID != c.ID {
		t.Fatalf("a's conversations after unmatch: %d %+v", total, cs)
	}
	if total, _ := chConversations(t, e, b, ""); total != 0 {
		t.Fatalf("b still has %d conversations", total)
	}
	var n int
	if err := e.DB().NewRaw("SELECT COUNT(*) FROM messages WHERE (user_a = ? AND user_b = ?) OR (user_a = ? AND user_b = ?)",
		a.ID, b.ID, b.ID, a.ID).Scan(t.Context(), &n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d messages of the unmatched pair left in the database", n)
	}
	if p := chPageOf(t, e, c, a.ID, ""); len(p.Messages) != 1 {
		t.Fatalf("another conversation lost messages: %+v", p)
	}
}

// Pages by before, newest first, with has_more; conversations by latest
// activity with total and pages.
func TestChatPagination(t *testing.T) {
	e := apptest.New(t)
	a, b, c, d := soNewUser(t, e), soNewUser(t, e), soNewUser(t, e), soNewUser(t, e)
	chMatch(t, e, a, b)
	e.Clock.Advance(time.Minute)
	chMatch(t, e, a, c)
	e.Clock.Advance(time.Minute)
	chMatch(t, e, a, d)
	var sent []int64
	for i := range 25 {
		sent = append(sent, chSend(t, e, a, b.ID, fmt.Sprint("n", i), fmt.Sprint("p", i)).ID)
		e.Clock.Advance(time.Second)
	}
	slices.Reverse(sent)
	p1 := chPageOf(t, e, b, a.ID, "?limit=10")
	if !slices.Equal(chIDs(p1.Messages), sent[:10]) || !p1.HasMore {
		t.Fatalf("page 1: %v %v", chIDs(p1.Messages), p1.HasMore)
	}
	p2 := chPageOf(t, e, b, a.ID, "?limit=10&before="+strconv.FormatInt(p1.Messages[9].ID, 10))
	if !slices.Equal(chIDs(p2.Messages), sent[10:20]) || !p2.HasMore {
		t.Fatalf("page 2: %v %v", chIDs(p2.Messages), p2.HasMore)
	}
	p3 := chPageOf(t, e, b, a.ID, "?limit=10&before="+strconv.FormatInt(p2.Messages[9].ID, 10))
	if !slices.Equal(chIDs(p3.Messages), sent[20:]) || p3.HasMore {
		t.Fatalf("page 3: %v %v", chIDs(p3.Messages), p3.HasMore)
	}
	if p := chPageOf(t, e, b, a.ID, ""); len(p.Messages) != 25 || p.HasMore { // default limit 50
		t.Fatalf("default page: %d %v", len(p.Messages), p.HasMore)
	}
	if p := chPageOf(t, e, b, a.ID, "?limit=25"); len(p.Messages) != 25 || p.HasMore {
		t.Fatalf("exact page: %d %v", len(p.Messages), p.HasMore)
	}
	if p := chPageOf(t, e, b, a.ID, "?before="+strconv.FormatInt(sent[24], 10)); len(p.Messages) != 0 || p.HasMore || p.Messages == nil {
		t.Fatalf("below the oldest: %+v", p)
	}

	// a's conversations: b (messages) first, then by matched_at: d, c.
	order := func(u soUser, q string) []int64 {
		_, cs := chConversations(t, e, u, q)
		var ids []int64
		for _, c := range cs {
			ids = append(ids, c.User.ID)
		}
		return ids
	}
	if got := order(a, ""); !slices.Equal(got, []int64{b.ID, d.ID, c.ID}) {
		t.Fatalf("order = %v, want b, d, c", got)
	}
	chSend(t, e, c, a.ID, "news", "c1")
	if got := order(a, ""); !slices.Equal(got, []int64{c.ID, b.ID, d.ID}) {
		t.Fatalf("order after c wrote = %v, want c, b, d", got)
	}
	total, cs := chConversations(t, e, a, "?limit=2&page=2")
	if total != 3 || len(cs) != 1 || cs[0].User.ID != d.ID {
		t.Fatalf("page 2 of 2: %d %+v", total, cs)
	}
	if total, cs := chConversations(t, e, a, "?page=5"); total != 3 || len(cs) != 0 || cs == nil {
		t.Fatalf("beyond the last page: %d %+v", total, cs)
	}
	_, cs = chConversations(t, e, a, "?limit=1")
	if cs[0].Unread != 1 || cs[0].LastMessage == nil || cs[0].LastMessage.Text != "news" {
		t.Fatalf("c's conversation: %+v", cs[0])
	}
}
