// Package eventstest is the contract test every events.Log passes.
package eventstest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/swiper-social/swiper/internal/domain/events"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Factory returns a fresh, isolated log with limits for one subtest, whose
// time is clk.
type Factory func(t *testing.T, clk clock.Clock, limits events.Limits) events.Log

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Run runs the contract suite against logs made by newLog. Subtests run in
// parallel, each with its own log.
func Run(t *testing.T, newLog Factory) {
	t.Helper()
	tests := []struct {
		name   string
		limits events.Limits
		fn     func(t *testing.T, l events.Log, clk *clock.Fake)
	}{
		{"SeqPerUserFromOne", events.Limits{}, testSeqPerUser},
		{"SinceReplaysInOrder", events.Limits{}, testSince},
		{"DataRoundTrip", events.Limits{}, testData},
		{"KeyIdempotent", events.Limits{Horizon: time.Hour}, testKey},
		{"HorizonDropsOldEvents", events.Limits{Horizon: time.Hour}, testHorizon},
		{"CapDropsOldest", events.Limits{Cap: 3}, testCap},
		{"ConcurrentAppendsNoGaps", events.Limits{}, testConcurrent},
		{"ConcurrentSameKeyOnce", events.Limits{}, testConcurrentKey},
		{"ForgetOneUser", events.Limits{}, testForget},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(start)
			tc.fn(t, newLog(t, clk, tc.limits), clk)
		})
	}
}

func rec(to int64, typ string, data any, key string) events.Record {
	b, _ := json.Marshal(data)
	return events.Record{To: to, Type: typ, Data: b, Key: key}
}

func appendAll(t *testing.T, l events.Log, recs ...events.Record) []events.Stored {
	t.Helper()
	out, err := l.Append(context.Background(), recs...)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return out
}

func since(t *testing.T, l events.Log, user, n int64) events.Replay {
	t.Helper()
	r, err := l.Since(context.Background(), user, n)
	if err != nil {
		t.Fatalf("Since(%d, %d): %v", user, n, err)
	}
	return r
}

func seqs(evs []events.Event) []int64 {
	out := []int64{}
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

func storedSeqs(st []events.Stored) []string {
	out := []string{}
	for _, s := range st {
		out = append(out, fmt.Sprintf("%d:%d", s.To, s.Seq))
	}
	return out
}

func testSeqPerUser(t *testing.T, l events.Log, _ *clock.Fake) {
	got := appendAll(t, l, rec(1, "match", 1, ""), rec(2, "match", 2, ""), rec(1, "read", 3, ""))
	got = append(got, appendAll(t, l, rec(1, "message", 4, ""), rec(2, "message", 5, ""))...)
	want := []string{"1:1", "2:1", "1:2", "1:3", "2:2"}
	if diff := cmp.Diff(want, storedSeqs(got)); diff != "" {
		t.Fatalf("seqs (-want +got):\n%s", diff)
	}
	if r := since(t, l, 1, 0); r.Latest != 3 || r.Gap || !slices.Equal(seqs(r.Events), []int64{1, 2, 3}) {
		t.Fatalf("user 1 since 0 = %+v", r)
	}
	if r := since(t, l, 3, 0); r.Latest != 0 || r.Gap || len(r.Events) != 0 {
		t.Fatalf("a user without events: %+v", r)
	}
}

func testSince(t *testing.T, l events.Log, _ *clock.Fake) {
	for i := range 5 {
		appendAll(t, l, rec(7, "message", i, ""))
	}
	for _, tc := range []struct {
		since int64
		want  []int64
	}{{0, []int64{1, 2, 3, 4, 5}}, {2, []int64{3, 4, 5}}, {4, []int64{5}}, {5, nil}, {99, nil}} {
		r := since(t, l, 7, tc.since)
		if r.Gap || r.Latest != 5 || !slices.Equal(seqs(r.Events), append([]int64{}, tc.want...)) {
			t.Errorf("since %d = gap %v latest %d seqs %v; want %v", tc.since, r.Gap, r.Latest, seqs(r.Events), tc.want)
		}
	}
}

func testData(t *testing.T, l events.Log, _ *clock.Fake) {
	data := map[string]any{"user_id": 42, "message": map[string]any{"text": "你好 👋 \"quoted\"\n", "id": 9007199254740993}}
	appendAll(t, l, rec(8, "message", data, ""))
	appendAll(t, l, events.Record{To: 8, Type: "unmatch", Data: json.RawMessage(`{"user_id":3}`)})
	r := since(t, l, 8, 0)
	if len(r.Events) != 2 {
		t.Fatalf("events = %+v", r.Events)
	}
	want, _ := json.Marshal(data)
	if string(r.Events[0].Data) != string(want) || r.Events[0].Type != "message" {
		t.Fatalf("data = %s %s; want %s", r.Events[0].Type, r.Events[0].Data, want)
	}
	if string(r.Events[1].Data) != `{"user_id":3}` || r.Events[1].Type != "unmatch" {
		t.Fatalf("second = %s %s", r.Events[1].Type, r.Events[1].Data)
	}
}

func testKey(t *testing.T, l events.Log, clk *clock.Fake) {
	first := appendAll(t, l, rec(9, "message", 1, "m:1"), rec(10, "message", 1, "m:1"))
	again := appendAll(t, l, rec(9, "message", 1, "m:1"), rec(9, "message", 2, "m:2"), rec(9, "read", 3, ""))
	if diff := cmp.Diff([]string{"9:1", "10:1"}, storedSeqs(first)); diff != "" {
		t.Fatalf("first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"9:2", "9:3"}, storedSeqs(again)); diff != "" {
		t.Fatalf("a used key must be skipped (-want +got):\n%s", diff)
	}
	clk.Advance(2 * time.Hour) // past the horizon: the key is forgotten
	if got := appendAll(t, l, rec(9, "message", 1, "m:1")); len(got) != 1 || got[0].Seq != 4 {
		t.Fatalf("after the horizon: %v", storedSeqs(got))
	}
}

func testHorizon(t *testing.T, l events.Log, clk *clock.Fake) {
	appendAll(t, l, rec(11, "message", 1, ""), rec(11, "message", 2, ""))
	clk.Advance(30 * time.Minute)
	appendAll(t, l, rec(11, "message", 3, ""))
	clk.Advance(45 * time.Minute) // 1 and 2 are 75 min old, 3 is 45
	appendAll(t, l, rec(11, "message", 4, ""))
	if r := since(t, l, 11, 0); r.Gap || !slices.Equal(seqs(r.Events), []int64{3, 4}) {
		t.Fatalf("since 0 after the horizon = %v gap %v; want [3 4], no gap", seqs(r.Events), r.Gap)
	}
	if r := since(t, l, 11, 1); !r.Gap || r.Latest != 4 {
		t.Fatalf("since 1 (2 dropped) = %+v; want a gap", r)
	}
	if r := since(t, l, 11, 2); r.Gap || !slices.Equal(seqs(r.Events), []int64{3, 4}) {
		t.Fatalf("since 2 = %+v; want 3 4 without gap", r)
	}
	if r := since(t, l, 11, 4); r.Gap || len(r.Events) != 0 {
		t.Fatalf("since latest = %+v; want nothing", r)
	}
}

func testCap(t *testing.T, l events.Log, _ *clock.Fake) {
	for i := range 5 {
		appendAll(t, l, rec(12, "message", i, ""))
	}
	if r := since(t, l, 12, 0); r.Gap || !slices.Equal(seqs(r.Events), []int64{3, 4, 5}) {
		t.Fatalf("since 0 = %v; want the last 3", seqs(r.Events))
	}
	if r := since(t, l, 12, 1); !r.Gap {
		t.Fatalf("since 1 = %+v; want a gap (2 dropped)", r)
	}
	if r := since(t, l, 12, 2); r.Gap || !slices.Equal(seqs(r.Events), []int64{3, 4, 5}) {
		t.Fatalf("since 2 = %+v", r)
	}
}

func testConcurrent(t *testing.T, l events.Log, _ *clock.Fake) {
	const workers, each = 20, 10
	var mu sync.Mutex
	var got []int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				st, err := l.Append(context.Background(), rec(13, "message", w*100+i, ""), rec(14, "read", i, ""))
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				for _, s := range st {
					if s.To == 13 {
						got = append(got, s.Seq)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	slices.Sort(got)
	want := make([]int64, workers*each)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("seqs of parallel appends = %v; want 1..%d each once", got, len(want))
	}
	r := since(t, l, 13, 0)
	if !slices.Equal(seqs(r.Events), want) || r.Latest != int64(len(want)) {
		t.Fatalf("replay = %v latest %d", seqs(r.Events), r.Latest)
	}
	if r := since(t, l, 14, 0); r.Latest != int64(len(want)) {
		t.Fatalf("second user latest = %d", r.Latest)
	}
}

func testConcurrentKey(t *testing.T, l events.Log, _ *clock.Fake) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	n := 0
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := l.Append(context.Background(), rec(15, "message", 1, "same"))
			if err != nil {
				t.Errorf("Append: %v", err)
				return
			}
			mu.Lock()
			n += len(st)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if r := since(t, l, 15, 0); n != 1 || len(r.Events) != 1 || r.Latest != 1 {
		t.Fatalf("30 publishes of one key: %d appended, held %v", n, seqs(r.Events))
	}
}

func testForget(t *testing.T, l events.Log, _ *clock.Fake) {
	appendAll(t, l, rec(16, "match", 1, "k"), rec(17, "match", 1, "k"), rec(16, "unmatch", 2, ""))
	if err := l.Forget(context.Background(), 16); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if r := since(t, l, 16, 0); r.Latest != 0 || len(r.Events) != 0 || r.Gap {
		t.Fatalf("after Forget: %+v", r)
	}
	if r := since(t, l, 17, 0); r.Latest != 1 || len(r.Events) != 1 {
		t.Fatalf("another user's events: %+v", r)
	}
	if err := l.Forget(context.Background(), 99); err != nil {
		t.Fatalf("Forget of a user without events: %v", err)
	}
}
