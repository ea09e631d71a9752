package profile

import "sync"

// recent is a bounded in-process map that keeps the recently used entries:
// for values that never change once known, where a lookup must cost no
// I/O. It holds two generations of at most max/2 entries each: new
// entries go to the current one, and when that is full it becomes the
// previous one (the older previous one is dropped). A hit in the previous
// generation moves the entry back to the current one, so an entry used at
// least once per max/2 insertions stays. Safe for concurrent use.
type recent[K, V comparable] struct {
	half int

	mu   sync.Mutex
	cur  map[K]V
	prev map[K]V
}

// newRecent returns a recent holding at most size entries (at least 2).
func newRecent[K, V comparable](size int) *recent[K, V] {
	half := max(size/2, 1)
	return &recent[K, V]{half: half, cur: make(map[K]V)}
}

// Get returns the value of k.
func (r *recent[K, V]) Get(k K) (V, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.cur[k]; ok {
		return v, true
	}
	v, ok := r.prev[k]
	if ok {
		delete(r.prev, k)
		r.put(k, v)
	}
	return v, ok
}

// Put sets the value of k.
func (r *recent[K, V]) Put(k K, v V) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.prev, k)
	r.put(k, v)
}

// put adds k to the current generation, turning it over when full. r.mu
// must be held.
func (r *recent[K, V]) put(k K, v V) {
	if _, ok := r.cur[k]; !ok && len(r.cur) >= r.half {
		r.prev, r.cur = r.cur, make(map[K]V, r.half)
	}
	r.cur[k] = v
}

// Delete removes k when its value is v (so that a newer value put
// concurrently survives), and reports whether it did.
func (r *recent[K, V]) Delete(k K, v V) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	removed := false
	for _, m := range []map[K]V{r.cur, r.prev} {
		if got, ok := m[k]; ok && got == v {
			delete(m, k)
			removed = true
		}
	}
	return removed
}

// Len is the number of entries held.
func (r *recent[K, V]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.cur) + len(r.prev)
}
