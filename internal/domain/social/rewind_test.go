package social

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A like that made a match cannot be rewound (2010): the match stays and
// no rewind is used — neither by the liker whose like made it, nor by the
// other, whose like is part of it. A like without a match rewinds.
func TestRewindRefusesAMatch(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ids := r.users(t, 3)
	a, b, c := ids[0], ids[1], ids[2]
	r.vip(t, a, 2)
	r.vip(t, b, 2)
	if res, err := r.svc.Swipe(ctx, a, c, Like); err != nil || res.Matched {
		t.Fatalf("a likes c: %+v %v", res, err)
	}
	if _, err := r.svc.Rewind(ctx, a); err != nil {
		t.Fatalf("rewinding a like without a match: %v", err)
	}
	if res, err := r.svc.Swipe(ctx, a, b, Like); err != nil || res.Matched {
		t.Fatalf("a likes b: %+v %v", res, err)
	}
	res, err := r.svc.Swipe(ctx, b, a, Superlike)
	if err != nil || !res.Matched {
		t.Fatalf("b superlikes a: %+v %v", res, err)
	}
	r.clock.Advance(10 * time.Second)
	for _, who := range []int64{b, a} {
		if _, err := r.svc.Rewind(ctx, who); !errors.Is(err, ErrRewindMatched) {
			t.Fatalf("rewind by %d of a like in a match: %v, want ErrRewindMatched", who, err)
		}
	}
	if ok, err := r.st.Matched(ctx, a, b); err != nil || !ok {
		t.Fatalf("the match went: %v %v", ok, err)
	}
	for _, who := range []int64{a, b} {
		_, rewinds, err := r.st.UsedToday(ctx, who, Day(r.clock.Now(), r.tz))
		if err != nil || rewinds != map[int64]int{a: 1, b: 0}[who] {
			t.Fatalf("rewinds used by %d: %d %v", who, rewinds, err)
		}
	}
	// After an unmatch, the way out, the like rewinds.
	if err := r.svc.Unmatch(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if rw, err := r.svc.Rewind(ctx, b); err != nil || rw.User.ID != a || rw.Action != Superlike {
		t.Fatalf("rewind after the unmatch: %+v %v", rw, err)
	}
}
