package profile

import (
	"fmt"
	"sync"
	"testing"
)

func TestRecentGetPutDelete(t *testing.T) {
	r := newRecent[string, int64](8)
	if _, ok := r.Get("a"); ok {
		t.Fatal("hit in an empty map")
	}
	r.Put("a", 1)
	r.Put("b", 2)
	if v, ok := r.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v", v, ok)
	}
	r.Put("a", 3) // a newer value replaces
	if v, _ := r.Get("a"); v != 3 {
		t.Fatalf("Get(a) = %d after Put 3", v)
	}
	if r.Delete("a", 1) { // an older value does not remove the newer one
		t.Fatal("Delete(a, 1) removed a 3")
	}
	if !r.Delete("a", 3) {
		t.Fatal("Delete(a, 3) did not remove it")
	}
	if _, ok := r.Get("a"); ok {
		t.Fatal("a still there after Delete")
	}
	if v, ok := r.Get("b"); !ok || v != 2 {
		t.Fatalf("Get(b) = %d, %v", v, ok)
	}
}

// The map never holds more than its size, and an entry used at least once
// per size/2 insertions stays.
func TestRecentBoundAndRetention(t *testing.T) {
	r := newRecent[string, int](100)
	r.Put("hot", -1)
	for i := range 10_000 {
		r.Put(fmt.Sprint(i), i)
		if n := r.Len(); n > 100 {
			t.Fatalf("%d entries after %d puts, want at most 100", n, i+1)
		}
		if i%40 == 0 {
			if _, ok := r.Get("hot"); !ok {
				t.Fatalf("the hot entry was dropped after %d puts", i)
			}
		}
	}
	if _, ok := r.Get("0"); ok {
		t.Error("a cold entry survived 10,000 puts into 100 places")
	}
	if v, ok := r.Get("9999"); !ok || v != 9999 {
		t.Errorf("the newest entry: %d, %v", v, ok)
	}
	if got := newRecent[int, int](0).half; got != 1 {
		t.Errorf("size 0: half %d, want 1", got)
	}
}

func TestRecentConcurrent(t *testing.T) {
	r := newRecent[int, int](64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := (g*7 + i) % 200
				r.Put(k, k)
				if v, ok := r.Get(k); ok && v != k {
					t.Errorf("Get(%d) = %d", k, v)
				}
				r.Delete(k+1, k+1)
			}
		}()
	}
	wg.Wait()
	if r.Len() > 64 {
		t.Errorf("%d entries, want at most 64", r.Len())
	}
}
