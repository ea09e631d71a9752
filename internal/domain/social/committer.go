package social

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/batch"
)

// SwipeBatchSize bounds how many swipes share one transaction when
// Deps.SwipeBatchSize is not set.
const SwipeBatchSize = 256

// newCommitter starts the group committer of swipes: concurrent swipes
// share one transaction (CommitSwipes), one goroutine committing whatever
// queued while the previous batch committed. Its counters go to reg when
// set.
func (s *Service) newCommitter(size int, reg prometheus.Registerer) *batch.Committer[SwipeRequest, SwipeOutcome] {
	if size <= 0 {
		size = SwipeBatchSize
	}
	c := batch.New(s.CommitSwipes, size)
	if reg != nil {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "swiper_swipe_batches_total",
				Help: "Transactions that recorded swipes (group commit)."},
				func() float64 { return float64(c.Stats().Batches) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "swiper_swipe_batched_total",
				Help: "Swipes decided in those transactions."},
				func() float64 { return float64(c.Stats().Requests) }))
	}
	return c
}

// Close stops the swipe committer once the swipes queued are answered
// (later ones get 503): called after the HTTP server drained, before the
// database closes.
func (s *Service) Close() { s.swipes.Close() }

// SwipeBatches counts the transactions that recorded swipes and the swipes
// they carried.
func (s *Service) SwipeBatches() batch.Stats { return s.swipes.Stats() }

// recordSwipe records one swipe through the committer.
func (s *Service) recordSwipe(ctx context.Context, req SwipeRequest) (SwipeOutcome, error) {
	out, err := s.swipes.Do(ctx, req)
	if errors.Is(err, batch.ErrClosed) { // shutting down
		return SwipeOutcome{}, backend.Unavailable(err)
	}
	return out, err
}

// CommitSwipes records reqs in one transaction: the facts read, the
// decisions (decideSwipes, decideMatches), the outcomes written. Then it
// tells the hot rank and the deck state about the recorded swipes, once
// for the whole batch (two concurrent calls however many swipes). Both
// happen before any caller is answered, so that a swiper's next deck
// already leaves out what they swiped; a failure of either is logged (the
// scores table is the truth of the rank; the deck state retries).
//
// The round trips of one batch on MySQL, whatever its size: the facts; on
// a user's first limited like of a day, two for its quota row; the record
// (swipes, pair rows, quotas and scores written, pair rows read back); and
// the matches when there are some.
func (s *Service) CommitSwipes(ctx context.Context, reqs []SwipeRequest) ([]SwipeOutcome, error) {
	p := swipePolicy{FreeDailyLikes: s.d.FreeDailyLikes, TZ: s.d.TZ}
	var out []SwipeOutcome
	err := s.d.Store.InSwipeTx(ctx, func(ctx context.Context, tx model.SwipeTx) error {
		var err error
		out, err = commitIn(ctx, tx, reqs, p) // decided again on a retry
		return err
	})
	if err != nil {
		return nil, err
	}
	var sws []model.Swipe
	var swiped []int64 // the users whose score changed (the board dedupes)
	for _, o := range out {
		if o.Err == nil {
			sws = append(sws, o.Swipe)
			swiped = append(swiped, o.Swipe.SwipedID)
		}
	}
	if len(sws) == 0 {
		return out, nil
	}
	// The rank and the deck state are told together: the batch waits for
	// the slower.
	ranked := make(chan struct{})
	go func() {
		defer close(ranked)
		if err := s.d.Rank.Changed(context.WithoutCancel(ctx), swiped); err != nil {
			s.d.Log.ErrorContext(ctx, "hot rank not updated", "users", len(swiped), "err", err)
		}
	}()
	s.deckSwiped(ctx, sws)
	<-ranked
	return out, nil
}

// commitIn reads, decides and writes one batch in tx.
func commitIn(ctx context.Context, tx model.SwipeTx, reqs []SwipeRequest, p swipePolicy) ([]SwipeOutcome, error) {
	f, err := tx.Facts(ctx, factsQuery(reqs, p))
	if err != nil {
		return nil, err
	}
	if keys := quotaRowsToLock(reqs, f, p); len(keys) > 0 {
		used, err := tx.LockQuotas(ctx, keys)
		if err != nil {
			return nil, err
		}
		for q, n := range used {
			f.Used[q] = n
		}
	}
	d := decideSwipes(reqs, f, p)
	if len(d.Swipes) == 0 {
		return d.Outcomes, nil
	}
	pairs, err := tx.Record(ctx, model.SwipeRecord{Swipes: d.Swipes, Likes: d.Likes, Quota: d.Quota, Scores: d.Scores})
	if err != nil {
		return nil, err
	}
	if err := tx.InsertMatches(ctx, decideMatches(&d, pairs)); err != nil {
		return nil, err
	}
	return d.Outcomes, nil
}
