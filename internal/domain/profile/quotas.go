package profile

import (
	"context"
	"errors"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/batch"
)

// SharedQuotas is a QuotaCounter whose concurrent reads share statements
// (a batch.Committer): every Me (each login answers with one) reads the
// day's quota usage, and one statement for the users of all the reads
// waiting costs the database about what one read does.
//
// The reads stay exact: a read joins only a statement that has not started
// yet, so it sees every write committed before it was asked for (a like
// committed before a login shows in the login's quotas). No read waits for
// more company: a lone read runs at once.
type SharedQuotas struct {
	day func(time.Time) string
	c   *batch.Committer[quotaRead, model.QuotaUse]
}

// QuotaReader reads the quota usage of many users in one statement
// (*store.Store).
type QuotaReader interface {
	UsedTodayMany(ctx context.Context, day string, ids []int64) (map[int64]model.QuotaUse, error)
}

type quotaRead struct {
	id  int64
	day string
}

// maxQuotaReads bounds the reads of one run (the store splits them into
// statements of at most 64 users).
const maxQuotaReads = 1024

// NewSharedQuotas reads the quota usage from st; day is the quota day of
// an instant (the social module's: the local calendar day). Close stops it.
func NewSharedQuotas(st QuotaReader, day func(time.Time) string) *SharedQuotas {
	return &SharedQuotas{day: day, c: batch.New(func(ctx context.Context, reads []quotaRead) ([]model.QuotaUse, error) {
		byDay := make(map[string][]int64, 1) // more than one day only around midnight
		for _, r := range reads {
			byDay[r.day] = append(byDay[r.day], r.id)
		}
		uses := make(map[string]map[int64]model.QuotaUse, len(byDay))
		for day, ids := range byDay {
			u, err := st.UsedTodayMany(ctx, day, ids)
			if err != nil {
				return nil, err
			}
			uses[day] = u
		}
		out := make([]model.QuotaUse, len(reads))
		for i, r := range reads {
			out[i] = uses[r.day][r.id]
		}
		return out, nil
	}, maxQuotaReads)}
}

// UsedToday implements QuotaCounter.
func (q *SharedQuotas) UsedToday(ctx context.Context, userID int64, now time.Time) (likes, rewinds int, err error) {
	u, err := q.c.Do(ctx, quotaRead{id: userID, day: q.day(now)})
	if errors.Is(err, batch.ErrClosed) { // shutting down
		err = backend.Unavailable(err)
	}
	return u.Likes, u.Rewinds, err
}

// Close answers the reads asked for and stops.
func (q *SharedQuotas) Close() { q.c.Close() }
