package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
)

// msMatch makes a and b a match at.
func msMatch(t testing.TB, st *store.Store, a, b int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, p := range [][2]int64{{a, b}, {b, a}} {
		if _, err := st.Swipe(ctx, store.Swipe{SwiperID: p[0], SwipedID: p[1], Action: store.ActionLike, CreatedAt: at}, "2026-01-01", -1, 5); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := st.Matched(ctx, a, b); err != nil || !ok {
		t.Fatalf("not matched: %v", err)
	}
}

func msSend(t testing.TB, st *store.Store, from, to int64, cid string, at time.Time) store.Sent {
	t.Helper()
	s, err := st.SendMessage(context.Background(), store.NewMessage{From: from, To: to, ClientID: cid, Text: "t " + cid, SentAt: at})
	if err != nil {
		t.Fatalf("send %s: %v", cid, err)
	}
	return s
}

func msCount(t testing.TB, st *store.Store, where string, args ...any) int {
	t.Helper()
	n, err := storetest.DB(t, st).NewSelect().TableExpr("messages").Where(where, args...).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// A send stores one row per client_id (a retry reads the first), raises
// the conversation's state, pages by one key range, and read marks never
// move back; unmatching deletes the conversation.
func TestMessagesLifecycle(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 4)
	a, b, c := ids[0], ids[1], ids[2]
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	msMatch(t, st, a, b, t0)
	msMatch(t, st, a, c, t0.Add(time.Minute))

	if _, err := st.SendMessage(ctx, store.NewMessage{From: a, To: ids[3], ClientID: "x", Text: "x", SentAt: t0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("send to a non-match: %v, want ErrNotFound", err)
	}
	// Conversations: c (matched later) first, nothing sent yet.
	cs, total, err := st.Conversations(ctx, a, 10, 0)
	if err != nil || total != 2 || len(cs) != 2 || cs[0].OtherID != c || cs[1].OtherID != b || cs[0].LastMessageID != 0 {
		t.Fatalf("conversations = %+v %d %v", cs, total, err)
	}

	m1 := msSend(t, st, a, b, "c1", t0.Add(2*time.Minute))
	if !m1.Created || m1.Message.SenderID != a {
		t.Fatalf("first send: %+v", m1)
	}
	// A retry reads the first message (even with another text and time).
	again, err := st.SendMessage(ctx, store.NewMessage{From: a, To: b, ClientID: "c1", Text: "other", SentAt: t0.Add(time.Hour)})
	if err != nil || again.Created || again.Message.ID != m1.Message.ID || again.Message.Text != "t c1" {
		t.Fatalf("retry: %+v %v", again, err)
	}
	// The same client_id from the other sender is another message.
	m2 := msSend(t, st, b, a, "c1", t0.Add(3*time.Minute))
	// A clock behind the last message does not put sent_at back.
	m3 := msSend(t, st, a, b, "c3", t0)
	if !m2.Created || m3.Message.ID <= m2.Message.ID || m3.Message.SentAt.Before(m2.Message.SentAt) {
		t.Fatalf("m2 %+v m3 %+v", m2, m3)
	}
	if n := msCount(t, st, "1 = 1"); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
	// Now b's conversation with a is the latest for a; b has 2 unread.
	cs, _, _ = st.Conversations(ctx, a, 10, 0)
	if cs[0].OtherID != b || cs[0].LastMessageID != m3.Message.ID || cs[0].Unread != 1 {
		t.Fatalf("a's conversations = %+v", cs)
	}
	cs, _, _ = st.Conversations(ctx, b, 10, 0)
	if len(cs) != 1 || cs[0].Unread != 2 {
		t.Fatalf("b's conversations = %+v", cs)
	}
	// Pages: newest first, by before.
	ms, more, conv, err := st.Messages(ctx, b, a, 0, 2)
	if err != nil || !more || len(ms) != 2 || ms[0].ID != m3.Message.ID || ms[1].ID != m2.Message.ID || conv.OtherID != a {
		t.Fatalf("page 1: %+v %v %v", ms, more, err)
	}
	ms, more, _, _ = st.Messages(ctx, b, a, ms[1].ID, 2)
	if more || len(ms) != 1 || ms[0].ID != m1.Message.ID {
		t.Fatalf("page 2: %+v %v", ms, more)
	}
	// Read marks.
	out, err := st.MarkRead(ctx, b, a, m3.Message.ID)
	if err != nil || !out.InConversation || !out.Moved || out.Mark != m3.Message.ID {
		t.Fatalf("read: %+v %v", out, err)
	}
	out, _ = st.MarkRead(ctx, b, a, m1.Message.ID)
	if !out.InConversation || out.Moved || out.Mark != m3.Message.ID {
		t.Fatalf("read back: %+v", out)
	}
	if st, _ := st.Conversation(ctx, b, a); st.MyRead != m3.Message.ID || st.Unread != 0 {
		t.Fatalf("after reads: %+v", st)
	}
	if st, _ := st.Conversation(ctx, a, b); st.OtherRead != m3.Message.ID {
		t.Fatalf("a sees b's mark: %+v", st)
	}
	if out, _ := st.MarkRead(ctx, b, a, m3.Message.ID+1000); out.InConversation {
		t.Fatalf("a foreign id: %+v", out)
	}
	mc := msSend(t, st, a, c, "c1", t0.Add(4*time.Minute))
	if out, _ := st.MarkRead(ctx, b, a, mc.Message.ID); out.InConversation {
		t.Fatalf("an id of another conversation: %+v", out)
	}
	// A read mark below the newest unread recounts what is left.
	m4 := msSend(t, st, a, b, "c4", t0.Add(5*time.Minute))
	msSend(t, st, a, b, "c5", t0.Add(5*time.Minute))
	if out, _ := st.MarkRead(ctx, b, a, m4.Message.ID); !out.Moved {
		t.Fatal("read to m4 did not move")
	}
	if st, _ := st.Conversation(ctx, b, a); st.Unread != 1 {
		t.Fatalf("unread after a partial read = %d, want 1", st.Unread)
	}
	// Unmatch removes the conversation with the match.
	if err := st.Unmatch(ctx, b, a); err != nil {
		t.Fatal(err)
	}
	if n := msCount(t, st, "user_a = ? AND user_b = ?", min(a, b), max(a, b)); n != 0 {
		t.Fatalf("%d messages left after unmatch", n)
	}
	if _, _, _, err := st.Messages(ctx, a, b, 0, 10); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("messages after unmatch: %v", err)
	}
	if _, err := st.MarkRead(ctx, a, b, m1.Message.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("read after unmatch: %v", err)
	}
	// DeleteConversation keeps the match, resets its state.
	if err := st.DeleteConversation(ctx, a, c); err != nil {
		t.Fatal(err)
	}
	if cv, err := st.Conversation(ctx, c, a); err != nil || cv.LastMessageID != 0 || cv.Unread != 0 || msCount(t, st, "1 = 1") != 0 {
		t.Fatalf("after DeleteConversation: %+v %v", cv, err)
	}
}

// DeleteUserMessages deletes every message a user sent or received, in
// batches, and no other.
func TestDeleteUserMessages(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 3)
	a, b, c := ids[0], ids[1], ids[2]
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	msMatch(t, st, a, b, t0)
	msMatch(t, st, b, c, t0)
	msMatch(t, st, a, c, t0)
	for i := range 5 {
		msSend(t, st, a, b, fmt.Sprint("ab", i), t0)
		msSend(t, st, c, b, fmt.Sprint("cb", i), t0)
		msSend(t, st, c, a, fmt.Sprint("ca", i), t0)
	}
	n, err := st.DeleteUserMessages(ctx, b, 2)
	if err != nil || n != 10 {
		t.Fatalf("deleted %d: %v, want 10", n, err)
	}
	if left := msCount(t, st, "1 = 1"); left != 5 {
		t.Fatalf("%d messages left, want c's 5 to a", left)
	}
}

// However many retries of one send race, one row is stored and every one
// answers it.
func TestSendMessageRacingRetries(t *testing.T) {
	st := openStore(t)
	ids := newUsers(t, st, 2)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	msMatch(t, st, ids[0], ids[1], t0)
	var wg sync.WaitGroup
	out := make([]store.Sent, 50)
	errs := make([]error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = st.SendMessage(context.Background(), store.NewMessage{From: ids[0], To: ids[1], ClientID: "same", Text: "hi", SentAt: t0})
		}()
	}
	wg.Wait()
	created := 0
	for i := range 50 {
		if errs[i] != nil {
			t.Fatalf("send %d: %v", i, errs[i])
		}
		if out[i].Created {
			created++
		}
		if out[i].Message.ID != out[0].Message.ID {
			t.Fatalf("send %d answered id %d, another %d", i, out[i].Message.ID, out[0].Message.ID)
		}
	}
	if created != 1 || msCount(t, st, "1 = 1") != 1 {
		t.Fatalf("created %d, rows %d; want 1, 1", created, msCount(t, st, "1 = 1"))
	}
	if cv, _ := st.Conversation(context.Background(), ids[1], ids[0]); cv.Unread != 1 {
		t.Fatalf("unread %d, want 1", cv.Unread)
	}
}

// A page of 50 is one range of the pair's key, whatever the length of the
// conversation: compare 1, 100 and 100,000 messages (go test -bench
// MessagesPage; 100 reads the same 50 rows as 100,000).
func BenchmarkMessagesPage(b *testing.B) {
	for _, n := range []int{1, 100, 100_000} {
		b.Run(fmt.Sprintf("messages=%d", n), func(b *testing.B) {
			st := openStore(b)
			ctx := context.Background()
			ids := newUsers(b, st, 4)
			t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			msMatch(b, st, ids[0], ids[1], t0)
			msMatch(b, st, ids[2], ids[3], t0)
			x, y := min(ids[0], ids[1]), max(ids[0], ids[1])
			db := storetest.DB(b, st)
			// Fill the conversation (and another one as long, interleaved).
			for start := 0; start < n; start += 1000 {
				var sb strings.Builder
				sb.WriteString("INSERT INTO messages (user_a, user_b, sender_id, client_id, text, sent_at) VALUES ")
				for i := start; i < min(start+1000, n); i++ {
					if i > start {
						sb.WriteByte(',')
					}
					fmt.Fprintf(&sb, "(%d,%d,%d,'c%d','message number %d','2026-03-01 10:00:00')", x, y, x, i, i)
					fmt.Fprintf(&sb, ",(%d,%d,%d,'c%d','message number %d','2026-03-01 10:00:00')", min(ids[2], ids[3]), max(ids[2], ids[3]), ids[2], i, i)
				}
				if _, err := db.ExecContext(ctx, sb.String()); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				ms, _, _, err := st.Messages(ctx, ids[0], ids[1], 0, 50)
				if err != nil || len(ms) != min(50, n) {
					b.Fatalf("%d messages: %v", len(ms), err)
				}
			}
		})
	}
}

// A batch of sends is one transaction: each message gets its outcome in
// order; a client_id repeated in the batch or stored before answers the
// first message (one row); a banned recipient is hidden and an unmatched
// one unmatched, with nothing stored; each conversation's state counts
// its new messages once, the last one last.
func TestSendMessagesBatch(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 6)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	msMatch(t, st, ids[0], ids[1], t0)
	msMatch(t, st, ids[2], ids[3], t0)
	msMatch(t, st, ids[0], ids[4], t0)
	before := msSend(t, st, ids[0], ids[1], "old", t0)
	if _, err := storetest.DB(t, st).NewUpdate().TableExpr("users").Set("banned_at = ?", t0).Where("id = ?", ids[4]).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(time.Minute)
	ms := []store.NewMessage{
		{From: ids[0], To: ids[1], ClientID: "a", Text: "first a", SentAt: t1},
		{From: ids[1], To: ids[0], ClientID: "b", Text: "b", SentAt: t1},
		{From: ids[0], To: ids[1], ClientID: "a", Text: "second a", SentAt: t1},
		{From: ids[0], To: ids[1], ClientID: "old", Text: "again", SentAt: t1},
		{From: ids[3], To: ids[2], ClientID: "a", Text: "other pair", SentAt: t1.Add(-time.Hour)},
		{From: ids[0], To: ids[4], ClientID: "x", Text: "banned", SentAt: t1},
		{From: ids[0], To: ids[5], ClientID: "x", Text: "unmatched", SentAt: t1},
		{From: ids[1], To: ids[0], ClientID: "c", Text: "c", SentAt: t1.Add(-time.Second)},
	}
	out, err := st.SendMessages(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(ms) {
		t.Fatalf("%d outcomes for %d messages", len(out), len(ms))
	}
	for i, want := range []struct {
		created, hidden, unmatched bool
		text                       string
	}{{true, false, false, "first a"}, {true, false, false, "b"}, {false, false, false, "first a"}, {false, false, false, "t old"},
		{true, false, false, "other pair"}, {false, true, false, ""}, {false, false, true, ""}, {true, false, false, "c"}} {
		o := out[i]
		if o.Created != want.created || o.Hidden != want.hidden || o.Unmatched != want.unmatched || o.Message.Text != want.text {
			t.Errorf("message %d: %+v, want %+v", i, o, want)
		}
	}
	if out[2].Message.ID != out[0].Message.ID || out[3].Message.ID != before.Message.ID {
		t.Fatalf("repeated client_ids answered %d and %d, want %d and %d", out[2].Message.ID, out[3].Message.ID, out[0].Message.ID, before.Message.ID)
	}
	if !(out[0].Message.ID < out[1].Message.ID && out[1].Message.ID < out[7].Message.ID) {
		t.Fatalf("ids not in the batch's order: %d %d %d", out[0].Message.ID, out[1].Message.ID, out[7].Message.ID)
	}
	if out[7].Message.SentAt.Before(out[1].Message.SentAt) {
		t.Fatalf("sent_at went back within the conversation: %v after %v", out[7].Message.SentAt, out[1].Message.SentAt)
	}
	if n := msCount(t, st, "1 = 1"); n != 5 {
		t.Fatalf("%d rows, want 5", n)
	}
	for _, c := range []struct {
		me, other, last int64
		unread          int
	}{{ids[1], ids[0], out[7].Message.ID, 2}, {ids[0], ids[1], out[7].Message.ID, 2}, {ids[2], ids[3], out[4].Message.ID, 1},
		{ids[3], ids[2], out[4].Message.ID, 0}, {ids[4], ids[0], 0, 0}} {
		cv, err := st.Conversation(ctx, c.me, c.other)
		if err != nil {
			t.Fatal(err)
		}
		if cv.LastMessageID != c.last || cv.Unread != c.unread {
			t.Errorf("conversation of %d with %d: last %d unread %d; want %d, %d", c.me, c.other, cv.LastMessageID, cv.Unread, c.last, c.unread)
		}
	}
}

// A batch of 40 sends, one per conversation (the send committer's batch
// at bench-chat's maximum): its transaction's cost per batch (go test
// -bench SendMessages; on MariaDB with SWIPER_TEST_MYSQL_URL).
func BenchmarkSendMessages(b *testing.B) {
	const pairs = 40
	st := openStore(b)
	ctx := context.Background()
	ids := newUsers(b, st, 2*pairs)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; i < pairs; i++ {
		msMatch(b, st, ids[2*i], ids[2*i+1], t0)
	}
	ms := make([]store.NewMessage, pairs)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		for i := range ms {
			n++
			ms[i] = store.NewMessage{From: ids[2*i+n%2], To: ids[2*i+1-n%2], ClientID: "c" + strconv.Itoa(n), Text: "a message of a few words", SentAt: t0.Add(time.Duration(n) * time.Millisecond)}
		}
		out, err := st.SendMessages(ctx, ms)
		if err != nil || !out[0].Created {
			b.Fatalf("%v %+v", err, out[0])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*pairs), "µs/msg")
}
