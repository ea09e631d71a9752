package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
)

// MessagesPage answers what Visible, Conversation and Messages answer
// together, in one statement: the same pages and state, ErrNotFound when
// the other user is not visible or not matched.
func TestMessagesPageIsVisibleConversationAndMessages(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	ids := newUsers(t, st, 4)
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	msMatch(t, st, a, b, t0)
	msMatch(t, st, a, c, t0)

	check := func(me, other, before int64, limit int) {
		t.Helper()
		ms, more, myRead, otherRead, err := st.MessagesPage(ctx, me, other, before, limit)
		if err != nil {
			t.Fatalf("page %d/%d before %d: %v", me, other, before, err)
		}
		wms, wmore, wconv, err := st.Messages(ctx, me, other, before, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != len(wms) || (len(ms) > 0 && !reflect.DeepEqual(ms, wms)) || more != wmore ||
			myRead != wconv.MyRead || otherRead != wconv.OtherRead {
			t.Fatalf("page %d/%d before %d limit %d:\n%+v %v %d %d\nwant\n%+v %v %+v", me, other, before, limit, ms, more, myRead, otherRead, wms, wmore, wconv)
		}
	}
	check(a, b, 0, 50) // no message yet
	var sent []int64
	for i := range 7 {
		from, to := a, b
		if i%3 == 1 {
			from, to = b, a
		}
		sent = append(sent, msSend(t, st, from, to, fmt.Sprint("p", i), t0.Add(time.Duration(i)*time.Second)).Message.ID)
	}
	if _, err := st.MarkRead(ctx, b, a, sent[3]); err != nil {
		t.Fatal(err)
	}
	for _, me := range []int64{a, b} {
		other := a + b - me
		for _, limit := range []int{1, 3, 7, 50} {
			check(me, other, 0, limit)
			check(me, other, sent[4], limit)
			check(me, other, sent[0], limit) // nothing below the first
		}
	}
	if ms, more, myRead, otherRead, err := st.MessagesPage(ctx, b, a, 0, 3); err != nil || len(ms) != 3 || !more ||
		ms[0].ID != sent[6] || myRead != sent[3] || otherRead != 0 {
		t.Fatalf("b's page of 3: %+v %v %d %d %v", ms, more, myRead, otherRead, err)
	}
	check(a, c, 0, 50)

	notFound := func(me, other int64, why string) {
		t.Helper()
		if _, _, _, _, err := st.MessagesPage(ctx, me, other, 0, 50); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: %v, want ErrNotFound", why, err)
		}
	}
	notFound(a, d, "not matched")
	notFound(a, 1<<40, "unknown user")
	banned := t0
	if err := st.SetBanned(ctx, b, &banned, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Conversation(ctx, a, b); err != nil {
		t.Fatalf("the ban removed the match: %v", err)
	}
	notFound(a, b, "banned peer")
	if _, err := st.Block(ctx, c, a, t0); err != nil {
		t.Fatal(err)
	}
	notFound(a, c, "blocked by the peer")
}
