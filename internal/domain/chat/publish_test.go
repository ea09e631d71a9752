package chat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/ratelimit"
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/adapters/store/storetest"
	"github.com/swiper-social/swiper/internal/domain/chat"
	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// downOnce is the events service, out of order for its next `down` calls
// (as when Redis is cut off after the message was stored).
type downOnce struct {
	svc   *events.Service
	down  atomic.Int32
	calls atomic.Int32
}

func (d *downOnce) Publish(ctx context.Context, evs ...events.Outgoing) error {
	d.calls.Add(1)
	if d.down.Add(-1) >= 0 {
		return backend.Unavailable(errors.New("events: connection refused"))
	}
	return d.svc.Publish(ctx, evs...)
}

// downStore is the database, cut off for its next `down` sends.
type downStore struct {
	*store.Store
	down atomic.Int32
}

func (d *downStore) SendMessages(ctx context.Context, ms []model.NewMessage) ([]model.SendOutcome, error) {
	if d.down.Add(-1) >= 0 {
		return nil, backend.Unavailable(errors.New("store: connection refused"))
	}
	return d.Store.SendMessages(ctx, ms)
}

// rig is a Service on a real database and a real in-memory event log.
func rig(t *testing.T) (*chat.Service, *events.Memory, *downOnce, [2]int64) {
	svc, log, pub, _, ids := rigWith(t)
	return svc, log, pub, ids
}

func rigWith(t *testing.T) (*chat.Service, *events.Memory, *downOnce, *downStore, [2]int64) {
	t.Helper()
	st := storetest.Open(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var ids [2]int64
	for i := range ids {
		u, _, err := st.Register(ctx, model.User{Phone: fmt.Sprintf("+8613900%06d", i), Nickname: "n", Gender: "male",
			Birthday: "1990-01-01", City: "北京", CreatedAt: now, ActiveAt: now},
			model.Profile{DatingGender: "female", DatingCity: "北京", MaxDistance: 50, MinDatingAge: 18, MaxDatingAge: 50})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	storetest.Like(t, st, now, [2]int64{ids[0], ids[1]}, [2]int64{ids[1], ids[0]})
	clk := clock.NewFake(now)
	log := events.NewMemory(clk, events.DefaultLimits())
	pub := &downOnce{svc: events.New(events.Deps{Log: log})}
	ds := &downStore{Store: st}
	svc := chat.New(chat.Deps{Store: ds, Events: pub, Limiter: ratelimit.NewRolling(ratelimit.NewMemoryWindow(), clk, ""),
		Limit: chat.DefaultLimit(), Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return svc, log, pub, ds, ids
}

func held(t *testing.T, log *events.Memory, user int64) []events.Event {
	t.Helper()
	r, err := log.Since(context.Background(), user, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r.Events
}

// A send whose event cannot be published fails as unavailable (503) with
// the message stored; its retry publishes the event, to both users, once.
func TestSendPublishesOnceAcrossRetries(t *testing.T) {
	svc, log, pub, ids := rig(t)
	ctx := context.Background()
	a, b := ids[0], ids[1]
	pub.down.Store(1)
	if _, err := svc.Send(ctx, a, b, "hello", "c1"); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("send with the events down: %v, want unavailable", err)
	}
	if n := len(held(t, log, b)); n != 0 {
		t.Fatalf("%d events before the retry", n)
	}
	m, err := svc.Send(ctx, a, b, "hello", "c1")
	if err != nil {
		t.Fatal(err)
	}
	page, err := svc.Messages(ctx, b, a, 0, 10)
	if err != nil || len(page.Messages) != 1 || page.Messages[0].ID != m.ID {
		t.Fatalf("stored: %+v %v", page, err)
	}
	for range 2 { // more retries publish nothing more
		if _, err := svc.Send(ctx, a, b, "hello", "c1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []struct{ to, other int64 }{{a, b}, {b, a}} {
		evs := held(t, log, u.to)
		if len(evs) != 1 || evs[0].Type != events.TypeMessage {
			t.Fatalf("user %d holds %+v, want one message event", u.to, evs)
		}
		var data struct {
			UserID  int64        `json:"user_id"`
			Message chat.Message `json:"message"`
		}
		if err := json.Unmarshal(evs[0].Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.UserID != u.other || data.Message.ID != m.ID || data.Message.Text != "hello" {
			t.Fatalf("user %d got %s", u.to, evs[0].Data)
		}
	}
}

// A read publishes a read event to the other user when its mark moves; a
// failed publish is made up by the retry, once; an older id publishes
// nothing.
func TestReadPublishes(t *testing.T) {
	svc, log, pub, ids := rig(t)
	ctx := context.Background()
	a, b := ids[0], ids[1]
	m1, err := svc.Send(ctx, a, b, "one", "c1")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := svc.Send(ctx, a, b, "two", "c2")
	if err != nil {
		t.Fatal(err)
	}
	pub.down.Store(1)
	if err := svc.Read(ctx, b, a, m2.ID); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("read with the events down: %v", err)
	}
	for range 2 {
		if err := svc.Read(ctx, b, a, m2.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.Read(ctx, b, a, m1.ID); err != nil {
		t.Fatal(err)
	}
	var reads []string
	for _, ev := range held(t, log, a) {
		if ev.Type == events.TypeRead {
			reads = append(reads, string(ev.Data))
		}
	}
	if want := fmt.Sprintf(`{"user_id":%d,"up_to":%d}`, b, m2.ID); len(reads) != 1 || reads[0] != want {
		t.Fatalf("a got read events %v, want [%s]", reads, want)
	}
	for _, ev := range held(t, log, b) {
		if ev.Type == events.TypeRead {
			t.Fatalf("the reader got a read event: %s", ev.Data)
		}
	}
}

// A send the database failed (503) consumes nothing of the rolling limit:
// 20 more sends pass within the same 10 s.
func TestFailedSendDoesNotCount(t *testing.T) {
	svc, _, _, ds, ids := rigWith(t)
	ctx := context.Background()
	ds.down.Store(1)
	if _, err := svc.Send(ctx, ids[0], ids[1], "lost", "f0"); !errors.Is(err, backend.ErrUnavailable) {
		t.Fatalf("send with the database down: %v", err)
	}
	for i := range 20 {
		if _, err := svc.Send(ctx, ids[0], ids[1], "hi", fmt.Sprint("m", i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	var le *ratelimit.Error
	if _, err := svc.Send(ctx, ids[0], ids[1], "hi", "m20"); !errors.As(err, &le) {
		t.Fatalf("21st send: %v, want the limit", err)
	}
}

// A batch of sends publishes the events of all its stored messages in one
// call; when that fails, each stored message of the batch is unpublished
// (and stored), a refused one is not; the batch's retry publishes each
// message once, to both users.
func TestCommitSendsPublishesTheBatch(t *testing.T) {
	svc, log, pub, ids := rig(t)
	ctx := context.Background()
	a, b := ids[0], ids[1]
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ms := []model.NewMessage{
		{From: a, To: b, ClientID: "x", Text: "x", SentAt: now},
		{From: b, To: a, ClientID: "y", Text: "y", SentAt: now},
		{From: a, To: a + b + 100, ClientID: "z", Text: "z", SentAt: now}, // no such user
	}
	pub.down.Store(1)
	out, err := svc.CommitSends(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Unpublished == nil || out[1].Unpublished == nil || !out[0].Created || !out[1].Created {
		t.Fatalf("with the events down: %+v", out)
	}
	if !out[2].Hidden || out[2].Unpublished != nil {
		t.Fatalf("unknown recipient: %+v", out[2])
	}
	if n := len(held(t, log, a)) + len(held(t, log, b)); n != 0 {
		t.Fatalf("%d events held after the failed publication", n)
	}
	calls := pub.calls.Load()
	again, err := svc.CommitSends(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	if pub.calls.Load() != calls+1 {
		t.Fatalf("the batch published in %d calls, want 1", pub.calls.Load()-calls)
	}
	for i := range 2 {
		if again[i].Unpublished != nil || again[i].Created || again[i].Message.ID != out[i].Message.ID {
			t.Fatalf("retry %d: %+v, first %+v", i, again[i], out[i])
		}
	}
	if _, err := svc.CommitSends(ctx, ms); err != nil { // published already: nothing more
		t.Fatal(err)
	}
	for _, u := range []int64{a, b} {
		if evs := held(t, log, u); len(evs) != 2 {
			t.Fatalf("user %d holds %d events, want 2", u, len(evs))
		}
	}
}
