package deck

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/backend"
)

// LoadChunk is how many users one load query reads.
const LoadChunk = 50_000

// Overlap is how far back a background poll looks before the newest stamp
// it saw: a transaction stamps its rows when it writes them but shows them
// when it commits, so a slow one can reveal rows older than the newest.
const Overlap = 5 * time.Second

// Activity does not stamp a user's row (store.TouchActiveMany): a user
// being active would otherwise make every replica re-read their row. Run
// reads instead, at most every ActivityEvery, the ids and stamps of the
// users active since its last look (one range of an index) and moves them
// up a band; time moves them down (Reband). ActivityOverlap is how far
// before its last look it reads: a stamp is the writer's time of its flush,
// which commits a moment later.
const (
	ActivityEvery   = time.Minute
	ActivityOverlap = 30 * time.Second
)

// LoadWait is how long a deck (Fresh) or a readiness check (Ping) waits
// for the first load of the index before giving up with ErrLoading: a big
// population takes minutes to load, and a replica answers no deck from an
// index that is not loaded.
const LoadWait = 2 * time.Second

// syncState serialises the catch-ups and coalesces the requests waiting
// for one (Fresh).
type syncState struct {
	work    sync.Mutex // held by whoever reads changes and applies them
	loaded  bool
	stamps  model.DeckStamps
	shown   atomic.Pointer[model.DeckStamps] // stamps, for Stamps
	flights sync.Mutex
	running bool
	next    *flight      // the catch-up that starts after the running one
	closed  bool         // Close was called: no catch-up starts any more
	version atomic.Int64 // the deck-state version the index caught up with (Version)
	seen    time.Time    // the index's time of its last look at activity (work held)
	load    *flight      // the first load running in the background (startLoad; flights held)

	// The catch-ups of Fresh run under life, which Close cancels, and are
	// counted in flying, which Close waits for: none outlives the index
	// (nor the database it reads, closed after it).
	life   context.Context
	stop   context.CancelFunc
	flying sync.WaitGroup
}

// ErrClosed answers Fresh after Close.
var ErrClosed = backend.Unavailable(errors.New("deck: index closed"))

// ErrLoading answers Fresh (and Ping) while the index is not loaded yet: a
// deck then answers 503 (Retry-After) rather than a deck from no index.
var ErrLoading = backend.Unavailable(errors.New("deck: index loading"))

func (s *syncState) init() { s.life, s.stop = context.WithCancel(context.Background()) }

// Close cancels the catch-ups running for Fresh and waits for them to end;
// Fresh then fails with ErrClosed. Call it when shutting down, before the
// database closes.
func (ix *Index) Close() {
	s := &ix.sync
	s.flights.Lock()
	s.closed = true
	s.flights.Unlock()
	s.stop()
	s.flying.Wait()
}

type flight struct {
	done chan struct{}
	err  error
}

// Load (re)builds the index from the database, in id order and chunks.
func (ix *Index) Load(ctx context.Context) error {
	ix.sync.work.Lock()
	defer ix.sync.work.Unlock()
	return ix.loadLocked(ctx)
}

func (ix *Index) loadLocked(ctx context.Context) error {
	// The stamps first: what changes during the load is caught up after
	// (activity from the time the load starts).
	stamps, err := ix.src.DeckStampsNow(ctx)
	if err != nil {
		return err
	}
	seen := ix.now()
	fresh := New(ix.src, ix.now)
	t := ix.now().Unix()
	var after int64
	for {
		rows, last, err := ix.src.DeckRowsAfter(ctx, after, LoadChunk)
		if err != nil {
			return fmt.Errorf("deck: load: %w", err)
		}
		if last == 0 {
			break
		}
		fresh.addSorted(rows, t)
		after = last
	}
	fresh.finishLoad()
	ix.mu.Lock()
	ix.entries, ix.texts, ix.byID, ix.buckets = fresh.entries, fresh.texts, fresh.byID, fresh.buckets
	ix.cities, ix.names = fresh.cities, fresh.names
	ix.rebanded = t
	ix.mu.Unlock()
	ix.sync.stamps = stamps
	ix.sync.seen = seen
	ix.sync.shown.Store(&stamps)
	ix.sync.loaded = true
	return ix.catchUpLocked(ctx, Overlap)
}

// Loaded reports whether the index was loaded (and so answers decks).
func (ix *Index) Loaded() bool { return ix.sync.shown.Load() != nil }

// Ping answers nil once the index is loaded, else starts loading it (unless
// a load runs) and waits for it at most LoadWait or until ctx is done: the
// index is a readiness dependency (/readyz), so that a replica whose index
// is still loading gets no traffic.
func (ix *Index) Ping(ctx context.Context) error {
	if err := ix.awaitLoad(ctx); err != nil {
		return fmt.Errorf("deck index loading: %w", err)
	}
	return nil
}

// startLoad starts the first load in the background unless it is done or
// running, and returns the running one (nil once loaded or closed). The
// load runs under life (Close cancels it, and waits for it) without a
// deadline: a big population takes minutes.
func (ix *Index) startLoad() (*flight, error) {
	s := &ix.sync
	s.flights.Lock()
	defer s.flights.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if ix.Loaded() {
		return nil, nil
	}
	if s.load != nil {
		return s.load, nil
	}
	l := &flight{done: make(chan struct{})}
	s.load = l
	s.flying.Add(1) // before Close can wait: it sets closed under flights first
	go func() {
		defer s.flying.Done()
		s.work.Lock()
		if !s.loaded {
			l.err = ix.loadLocked(s.life)
		}
		s.work.Unlock()
		s.flights.Lock()
		s.load = nil // a failed load is tried again by the next caller
		s.flights.Unlock()
		close(l.done)
	}()
	return l, nil
}

// awaitLoad returns nil once the index is loaded: it starts the load if
// none runs and waits for it at most LoadWait (then ErrLoading), or until
// ctx is done. A load that failed returns its error.
func (ix *Index) awaitLoad(ctx context.Context) error {
	l, err := ix.startLoad()
	if l == nil {
		return err
	}
	t := time.NewTimer(LoadWait)
	defer t.Stop()
	select {
	case <-l.done:
		if l.err != nil && ix.Loaded() {
			return nil // loaded; its catch-up failed, the next one retries
		}
		return l.err
	case <-t.C:
		return ErrLoading
	case <-ctx.Done():
		return ctx.Err()
	}
}

// addSorted appends rows of a load without building buckets yet.
func (ix *Index) addSorted(rows []model.DeckRow, now int64) {
	for _, r := range rows {
		if _, ok := ix.byID[r.ID]; ok {
			continue
		}
		ix.byID[r.ID] = int32(len(ix.entries))
		ix.entries = append(ix.entries, ix.entryOf(r, now))
		ix.texts = append(ix.texts, text{r.Nickname, r.Avatar})
	}
}

// finishLoad builds every bucket in one pass and one sort per bucket.
func (ix *Index) finishLoad() {
	members := map[bkey][]member{}
	for p := range ix.entries {
		e := &ix.entries[p]
		ks, n := e.keys()
		for i := 0; i < n; i++ {
			members[ks[i]] = append(members[ks[i]], member{e.tag, int32(p)})
		}
	}
	for k, ms := range members {
		slices.SortFunc(ms, cmpMember)
		b := &bucket{tags: make([]uint32, len(ms)), pos: make([]int32, len(ms))}
		for i, m := range ms {
			b.tags[i], b.pos[i] = m.tag, m.pos
		}
		ix.buckets[k] = b
	}
}

// catchUpLocked applies the rows changed since the last stamps (moved back
// by overlap); work held.
func (ix *Index) catchUpLocked(ctx context.Context, overlap time.Duration) error {
	ids, next, err := ix.src.DeckChanged(ctx, ix.sync.stamps, overlap)
	if err != nil {
		return err
	}
	for start := 0; start < len(ids); start += LoadChunk { // bounded memory for big changes
		chunk := ids[start:min(start+LoadChunk, len(ids))]
		rows, err := ix.src.DeckRowsOf(ctx, chunk)
		if err != nil {
			return err
		}
		got := make(map[int64]bool, len(rows))
		for _, r := range rows {
			got[r.ID] = true
		}
		var missing []int64
		for _, id := range chunk {
			if !got[id] {
				missing = append(missing, id)
			}
		}
		ix.mu.Lock()
		ix.upsert(rows, missing, ix.now().Unix())
		ix.mu.Unlock()
	}
	ix.sync.stamps = next
	ix.sync.shown.Store(&next)
	return nil
}

// syncOnce loads the index if it is not yet, else applies what changed
// since the newest stamps it saw (when they moved).
func (ix *Index) syncOnce(ctx context.Context) error {
	ix.sync.work.Lock()
	defer ix.sync.work.Unlock()
	if !ix.sync.loaded {
		return ix.loadLocked(ctx)
	}
	now, err := ix.src.DeckStampsNow(ctx)
	if err != nil {
		return err
	}
	if now == ix.sync.stamps {
		return nil
	}
	return ix.catchUpLocked(ctx, 0)
}

// Fresh returns once the index holds every change committed before the call.
// Before the index is loaded it starts loading it and waits at most LoadWait
// (ErrLoading after). Concurrent callers share one catch-up: a caller joins
// the next one to start, never one already running.
func (ix *Index) Fresh(ctx context.Context) error {
	s := &ix.sync
	if !ix.Loaded() {
		if err := ix.awaitLoad(ctx); err != nil {
			return err
		}
	}
	s.flights.Lock()
	if s.closed {
		s.flights.Unlock()
		return ErrClosed
	}
	if s.next == nil {
		s.next = &flight{done: make(chan struct{})}
	}
	f := s.next
	if !s.running {
		s.running = true
		s.next = nil
		s.flying.Add(1) // before Close can wait: it sets closed under flights first
		s.flights.Unlock()
		ix.fly(f)
	} else {
		s.flights.Unlock()
	}
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fly runs flight f (counted in flying), then the one queued behind it (in
// another goroutine), unless the index was closed.
func (ix *Index) fly(f *flight) {
	s := &ix.sync
	defer s.flying.Done()
	ctx, cancel := context.WithTimeout(s.life, time.Minute)
	f.err = ix.syncOnce(ctx)
	cancel()
	close(f.done)
	s.flights.Lock()
	g := s.next
	s.next = nil
	if g == nil {
		s.running = false
		s.flights.Unlock()
		return
	}
	if s.closed {
		s.running = false
		s.flights.Unlock()
		g.err = ErrClosed
		close(g.done)
		return
	}
	s.flying.Add(1) // flying is at least 1 here (this flight)
	s.flights.Unlock()
	go ix.fly(g)
}

// Poll applies the changes of the last Overlap and more (late commits).
func (ix *Index) Poll(ctx context.Context) error {
	ix.sync.work.Lock()
	defer ix.sync.work.Unlock()
	if !ix.sync.loaded {
		return ix.loadLocked(ctx)
	}
	return ix.catchUpLocked(ctx, Overlap)
}

// Run loads the index, then polls every interval, and every minute reads
// the users active since its last look and re-bands, until ctx is done.
func (ix *Index) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	start := time.Now()
	if err := ix.Poll(ctx); err != nil && ctx.Err() == nil {
		log.Warn("deck index: load failed; the first deck retries", "err", err)
	} else if ctx.Err() == nil {
		log.Info("deck index loaded", "users", ix.Len(), "took", time.Since(start).Round(time.Millisecond).String())
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := ix.Poll(ctx); err != nil && ctx.Err() == nil {
				log.Warn("deck index: poll failed; will retry", "err", err)
			}
			if err := ix.refreshActivity(ctx, ActivityEvery); err != nil && ctx.Err() == nil {
				log.Warn("deck index: activity read failed; will retry", "err", err)
			}
			ix.rebandIfStale(ix.now())
		}
	}
}

// RefreshActivity moves up a band the users active since the last look
// (ActivityOverlap before it): Run does it every ActivityEvery.
func (ix *Index) RefreshActivity(ctx context.Context) error { return ix.refreshActivity(ctx, 0) }

// refreshActivity is RefreshActivity when the last look is at least every
// old (or in the future: the clock moved back).
func (ix *Index) refreshActivity(ctx context.Context, every time.Duration) error {
	ix.sync.work.Lock()
	defer ix.sync.work.Unlock()
	if !ix.sync.loaded {
		return nil
	}
	now := ix.now()
	if d := now.Sub(ix.sync.seen); d < every && d >= 0 {
		return nil
	}
	acts, err := ix.src.DeckActiveSince(ctx, ix.sync.seen.Add(-ActivityOverlap))
	if err != nil {
		return fmt.Errorf("deck: activity: %w", err)
	}
	ix.mu.Lock()
	ix.activate(acts, now.Unix())
	ix.mu.Unlock()
	ix.sync.seen = now
	return nil
}

// Stamps returns the newest stamps the index has caught up with (false
// before the first load). A reader that finds the database's newest stamps
// equal knows the index held every committed change when it read them.
func (ix *Index) Stamps() (model.DeckStamps, bool) {
	p := ix.sync.shown.Load()
	if p == nil {
		return model.DeckStamps{}, false
	}
	return *p, true
}

// Version returns the newest version of deck-visible user data
// (model.DeckProbe.Version) the index is known to hold.
func (ix *Index) Version() int64 { return ix.sync.version.Load() }

// CaughtUp records that the index holds every change counted by version: a
// Fresh that started after version was read returned.
func (ix *Index) CaughtUp(version int64) {
	for {
		v := ix.sync.version.Load()
		if version <= v || ix.sync.version.CompareAndSwap(v, version) {
			return
		}
	}
}
