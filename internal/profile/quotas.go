package profile

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/swiper-social/swiper/internal/store"
)

// SharedQuotas is a QuotaCounter whose concurrent reads share statements:
// every Me (each login answers with one) reads the day's quota usage, and
// one statement for the users of all the reads waiting costs the database
// about what one read does.
//
// The reads stay exact: a read joins only a statement that has not started
// yet, so it sees every write committed before it was asked for (a like
// committed before a login shows in the login's quotas). While a statement
// runs, the next reads queue; when it is done, one of them runs the next
// statement for all of them. No read waits for more company: a lone read
// runs at once, and each caller runs at most the one statement it is in.
type SharedQuotas struct {
	store QuotaReader
	day   func(time.Time) string

	mu      sync.Mutex
	running bool
	pending []*quotaRead
}

// QuotaReader reads the quota usage of many users in one statement
// (*store.Store).
type QuotaReader interface {
	UsedTodayMany(ctx context.Context, day string, ids []int64) (map[int64]store.QuotaUse, error)
}

// NewSharedQuotas reads the quota usage from st; day is the quota day of
// an instant (the social module's: the local calendar day).
func NewSharedQuotas(st QuotaReader, day func(time.Time) string) *SharedQuotas {
	return &SharedQuotas{store: st, day: day}
}

type quotaRead struct {
	id   int64
	day  string
	lead chan struct{} // closed: run the next statement
	done chan struct{} // closed: use and err are set
	use  store.QuotaUse
	err  error
	read bool // use and err were set by a statement
}

// errQuotaReadFailed answers the reads of a statement that panicked.
var errQuotaReadFailed = errors.New("profile: quota read failed")

// UsedToday implements QuotaCounter.
func (q *SharedQuotas) UsedToday(ctx context.Context, userID int64, now time.Time) (likes, rewinds int, err error) {
	r := &quotaRead{id: userID, day: q.day(now), lead: make(chan struct{}), done: make(chan struct{})}
	q.mu.Lock()
	q.pending = append(q.pending, r)
	leader := !q.running
	q.running = true
	q.mu.Unlock()
	if !leader {
		// Not on ctx: a waiter may be handed the next statement, which
		// the others wait for; a statement is bounded by the database's
		// timeouts.
		select {
		case <-r.done:
			return r.use.Likes, r.use.Rewinds, r.err
		case <-r.lead:
		}
	}
	q.run(ctx)
	<-r.done
	return r.use.Likes, r.use.Rewinds, r.err
}

// run reads for every pending read (the caller's among them), answers
// them, and hands the next statement to a read that queued meanwhile —
// also when the read panics, so that no caller waits forever.
func (q *SharedQuotas) run(ctx context.Context) {
	q.mu.Lock()
	batch := q.pending
	q.pending = nil
	q.mu.Unlock()
	defer func() {
		for _, r := range batch {
			if !r.read {
				r.err = errQuotaReadFailed
			}
			close(r.done)
		}
		q.mu.Lock()
		if len(q.pending) > 0 {
			close(q.pending[0].lead)
		} else {
			q.running = false
		}
		q.mu.Unlock()
	}()

	// The statement serves other callers too: the leader going away must
	// not fail it.
	ctx = context.WithoutCancel(ctx)
	byDay := make(map[string][]int64, 1)
	for _, r := range batch {
		byDay[r.day] = append(byDay[r.day], r.id)
	}
	for day, ids := range byDay {
		uses, err := q.store.UsedTodayMany(ctx, day, ids)
		for _, r := range batch {
			if r.day == day {
				r.use, r.err, r.read = uses[r.id], err, true
			}
		}
	}
}
