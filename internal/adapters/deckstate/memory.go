package deckstate

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Memory is the deck state of one process. Safe for concurrent use.
type Memory struct {
	clock clock.Clock
	ttl   time.Duration

	mu      sync.Mutex
	epoch   int64
	version int64
	viewers map[int64]*viewerState
	ops     int // reports since the last sweep
}

type viewerState struct {
	gen     int64
	touched time.Time // last report
	filled  bool
	expires time.Time
	swiped  map[int64]struct{}
	superBy map[int64]int64 // superliker → unix µs
}

// NewMemory returns an empty deck state whose fills live ttl.
func NewMemory(c clock.Clock, ttl time.Duration) *Memory {
	return &Memory{clock: c, ttl: ttl, viewers: map[int64]*viewerState{}}
}

// live reports whether v holds a filled, unexpired state; mu held.
func (m *Memory) live(v *viewerState, now time.Time) bool {
	return v != nil && v.filled && now.Before(v.expires)
}

// Probe implements Store.
func (m *Memory) Probe(_ context.Context, viewer int64, ids []int64, limit int) (Probe, error) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.viewers[viewer]
	p := Probe{Version: m.version, Token: Token{Epoch: strconv.FormatInt(m.epoch, 10)}}
	if v != nil {
		p.Token.Gen = strconv.FormatInt(v.gen, 10)
	} else {
		p.Token.Gen = "0"
	}
	if !m.live(v, now) {
		return p, nil
	}
	p.Hit = true
	p.Swiped = map[int64]bool{}
	for _, id := range ids {
		if _, ok := v.swiped[id]; ok {
			p.Swiped[id] = true
		}
	}
	if limit > 0 && len(v.superBy) > 0 {
		type sl struct{ id, at int64 }
		all := make([]sl, 0, len(v.superBy))
		for id, at := range v.superBy {
			if _, gone := v.swiped[id]; !gone {
				all = append(all, sl{id, at})
			}
		}
		slices.SortFunc(all, func(a, b sl) int {
			if c := cmp.Compare(b.at, a.at); c != 0 {
				return c
			}
			return cmp.Compare(b.id, a.id)
		})
		for _, x := range all[:min(limit, len(all))] {
			p.Superlikers = append(p.Superlikers, x.id)
		}
	}
	return p, nil
}

// Fill implements Store.
func (m *Memory) Fill(_ context.Context, viewer int64, tok Token, swiped []int64, superlikers []Superliker) error {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.viewers[viewer]
	gen := int64(0)
	if v != nil {
		gen = v.gen
	}
	if tok.Epoch != strconv.FormatInt(m.epoch, 10) || tok.Gen != strconv.FormatInt(gen, 10) {
		return nil // a report came in since the probe: this read may be older
	}
	if v == nil {
		v = &viewerState{touched: now}
		m.viewers[viewer] = v
	}
	v.filled, v.expires = true, now.Add(m.ttl)
	v.swiped = make(map[int64]struct{}, len(swiped))
	for _, id := range swiped {
		v.swiped[id] = struct{}{}
	}
	v.superBy = make(map[int64]int64, len(superlikers))
	for _, s := range superlikers {
		v.superBy[s.ID] = s.At.UnixMicro()
	}
	m.sweepLocked(now)
	return nil
}

// report returns viewer's state with its generation bumped; mu held.
func (m *Memory) report(viewer int64, now time.Time) *viewerState {
	v := m.viewers[viewer]
	if v == nil {
		v = &viewerState{}
		m.viewers[viewer] = v
	}
	v.gen++
	v.touched = now
	return v
}

// Swiped implements Store.
func (m *Memory) Swiped(_ context.Context, sws []Swipe) error {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sw := range sws {
		v := m.report(sw.Swiper, now)
		if m.live(v, now) {
			v.swiped[sw.Swiped] = struct{}{}
			delete(v.superBy, sw.Swiped)
		}
		if sw.Superlike {
			t := m.report(sw.Swiped, now)
			if m.live(t, now) {
				t.superBy[sw.Swiper] = sw.At.UnixMicro()
			}
		}
	}
	m.sweepLocked(now)
	return nil
}

// Rewound implements Store. The viewer's state is dropped: a rewound swipe
// of a superliker puts them back among the viewer's superlikers, which the
// next fill reads.
func (m *Memory) Rewound(_ context.Context, sw Swipe) error {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.report(sw.Swiper, now)
	v.filled, v.swiped, v.superBy = false, nil, nil
	if sw.Superlike {
		t := m.report(sw.Swiped, now)
		if m.live(t, now) {
			delete(t.superBy, sw.Swiper)
		}
	}
	return nil
}

// Changed implements Store.
func (m *Memory) Changed(context.Context) error {
	m.mu.Lock()
	m.version++
	m.mu.Unlock()
	return nil
}

// Reset implements Store.
func (m *Memory) Reset(context.Context) error {
	m.mu.Lock()
	m.epoch++
	m.viewers = map[int64]*viewerState{}
	m.mu.Unlock()
	return nil
}

// sweepLocked forgets, every 4096 writes, the states that expired and
// whose generation no fill can still be waiting on; mu held.
func (m *Memory) sweepLocked(now time.Time) {
	m.ops++
	if m.ops < 4096 {
		return
	}
	m.ops = 0
	for id, v := range m.viewers {
		if v.filled && now.After(v.expires) {
			v.filled, v.swiped, v.superBy = false, nil, nil
		}
		if !v.filled && now.Sub(v.touched) > genTTL {
			delete(m.viewers, id)
		}
	}
}
