package batch

import (
	"context"
	"testing"
	"time"
)

// TestShardsRunKeysBesideEachOther: while a batch of one key's committer
// is held, a request of a key on the other committer is answered, and a
// request of the held key waits for its committer; the counts add up.
func TestShardsRunKeysBesideEachOther(t *testing.T) {
	// Keys 1..: find one on each of the two shards.
	var a, b uint64
	for k := uint64(1); b == 0; k++ {
		switch {
		case a == 0:
			a = k
		case Pick(k, 2) != Pick(a, 2):
			b = k
		}
	}
	held := newGate()
	run := func(ctx context.Context, reqs []int) ([]int, error) {
		if reqs[0] < 0 { // the held key's requests are negative
			return held.run(ctx, reqs)
		}
		out := make([]int, len(reqs))
		for i, r := range reqs {
			out[i] = r * 10
		}
		return out, nil
	}
	sh := NewShards(2, run, 8)
	defer sh.Close()
	first := make(chan int)
	go func() {
		r, _ := sh.Do(context.Background(), a, -1)
		first <- r
	}()
	<-held.started
	second := make(chan int)
	go func() {
		r, _ := sh.Do(context.Background(), a, -2)
		second <- r
	}()
	queued(t, sh[Pick(a, 2)], 1) // behind the held batch, on its committer
	if r, err := sh.Do(context.Background(), b, 3); err != nil || r != 30 {
		t.Fatalf("other key: %d, %v (want 30 while the first key's batch is held)", r, err)
	}
	select {
	case r := <-second:
		t.Fatalf("a request of the held key was answered (%d) while its committer was busy", r)
	case <-time.After(20 * time.Millisecond):
	}
	held.open()
	if r := <-first; r != -10 {
		t.Fatalf("first: %d", r)
	}
	<-held.started
	if r := <-second; r != -20 {
		t.Fatalf("second: %d", r)
	}
	if st := sh.Stats(); st.Batches != 3 || st.Requests != 3 {
		t.Fatalf("stats %+v, want 3 batches of 1", st)
	}
}

// TestPickSpreadsKeys: keys in steps of n (user ids of one residue) still
// spread over the n shards, and a key's shard never changes.
func TestPickSpreadsKeys(t *testing.T) {
	for _, n := range []int{2, 3, 4} {
		used := make([]int, n)
		for k := uint64(0); k < 4000; k += uint64(n) {
			p := Pick(k, n)
			if p != Pick(k, n) || p < 0 || p >= n {
				t.Fatalf("Pick(%d, %d) = %d", k, n, p)
			}
			used[p]++
		}
		for i, c := range used {
			if c < 4000/n/n/2 {
				t.Fatalf("n=%d: shard %d got %d of %d keys: %v", n, i, c, 4000/n, used)
			}
		}
	}
	if Pick(12345, 1) != 0 {
		t.Fatal("one shard")
	}
}
