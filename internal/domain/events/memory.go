package events

import (
	"context"
	"sync"
	"time"

	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Memory is a Log in this process's memory (the embedded path without a
// SQLite file, and tests): a restart forgets it.
type Memory struct {
	clk    clock.Clock
	limits Limits

	mu    sync.Mutex
	users map[int64]*memUser
}

type memUser struct {
	seq  int64
	evs  []memEvent
	keys map[string]time.Time // publish key → when
}

type memEvent struct {
	Event
	at time.Time
}

var _ Log = (*Memory)(nil)

// NewMemory returns an empty Memory log that reads the time from clk.
func NewMemory(clk clock.Clock, limits Limits) *Memory {
	return &Memory{clk: clk, limits: limits.orDefault(), users: map[int64]*memUser{}}
}

// Append implements Log.
func (m *Memory) Append(ctx context.Context, recs ...Record) ([]Stored, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := m.clk.Now()
	cut := now.Add(-m.limits.Horizon)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Stored, 0, len(recs))
	for _, r := range recs {
		u := m.users[r.To]
		if u == nil {
			u = &memUser{keys: map[string]time.Time{}}
			m.users[r.To] = u
		}
		if r.Key != "" {
			if at, ok := u.keys[r.Key]; ok && at.After(cut) {
				continue
			}
			u.keys[r.Key] = now
		}
		u.seq++
		ev := Event{Seq: u.seq, Type: r.Type, Data: append([]byte(nil), r.Data...)}
		u.evs = append(u.evs, memEvent{Event: ev, at: now})
		u.trim(cut, m.limits.Cap)
		out = append(out, Stored{To: r.To, Event: ev})
	}
	return out, nil
}

// trim drops the events older than cut and beyond the cap, and old keys.
func (u *memUser) trim(cut time.Time, limit int) {
	i := 0
	for i < len(u.evs) && (!u.evs[i].at.After(cut) || len(u.evs)-i > limit) {
		i++
	}
	if i > 0 {
		u.evs = append(u.evs[:0:0], u.evs[i:]...)
	}
	if len(u.keys) > limit { // an old key never blocks (Append checks its time); this bounds memory
		for k, at := range u.keys {
			if !at.After(cut) {
				delete(u.keys, k)
			}
		}
	}
}

// Since implements Log.
func (m *Memory) Since(ctx context.Context, user, since int64) (Replay, error) {
	if err := ctx.Err(); err != nil {
		return Replay{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.users[user]
	if u == nil {
		return Replay{}, nil
	}
	var first int64
	if len(u.evs) > 0 {
		first = u.evs[0].Seq
	}
	rep := Replay{Latest: u.seq, Gap: gap(since, first, u.seq)}
	for _, e := range u.evs {
		if e.Seq > since {
			rep.Events = append(rep.Events, Event{Seq: e.Seq, Type: e.Type, Data: append([]byte(nil), e.Data...)})
		}
	}
	return rep, nil
}

// Forget implements Log.
func (m *Memory) Forget(ctx context.Context, user int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.users, user)
	m.mu.Unlock()
	return nil
}
