package social

import (
	"context"
	"errors"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/backend"
	"github.com/swiper-social/swiper/internal/platform/batch"
)

// SwipeBatchSize bounds how many swipes share one transaction when
// Deps.SwipeBatchSize is not set.
const SwipeBatchSize = 256

// SwipeCommitters is how many swipe committers a Service runs when
// Deps.SwipeCommitters is not set: one. Two measured worse on a 2-core box
// at 1M users (4 connections: 776–913 swipes/s against 902–1,088, 1.7–1.9
// ms of CPU per swipe against 1.2–1.4, p99 alike), so more are for bigger
// machines.
const SwipeCommitters = 1

// newCommitters starts the group committers of swipes. The first kind
// records them: concurrent swipes share one transaction (recordSwipes),
// one goroutine committing whatever queued while the previous batch
// committed. There are n of them side by side (one by default), each
// swiper's swipes always on the same one, so that a batch's facts (the
// swiper's quota and latest swipe) are never read beside another batch of
// the same swiper on this replica. The second kind, one committer, tells
// the hot rank and the deck state about the recorded ones (tellSwiped). A
// swipe's caller is answered after both; but the first commits the next
// batch while the rank and the deck state hear of the previous one, and
// under load they hear of several batches at once, in two calls. The
// counters go to reg when set.
func (s *Service) newCommitters(n, size int, reg prometheus.Registerer) (batch.Shards[SwipeRequest, recorded], *batch.Committer[[]model.Swipe, struct{}]) {
	if n <= 0 {
		n = SwipeCommitters
	}
	if size <= 0 {
		size = SwipeBatchSize
	}
	c := batch.NewShards(n, s.commitBatch, size)
	told := batch.New(func(ctx context.Context, batches [][]model.Swipe) ([]struct{}, error) {
		s.tellSwiped(ctx, slices.Concat(batches...))
		return make([]struct{}, len(batches)), nil
	}, 16)
	if reg != nil {
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "swiper_swipe_batches_total",
				Help: "Transactions that recorded swipes (group commit)."},
				func() float64 { return float64(c.Stats().Batches) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "swiper_swipe_batched_total",
				Help: "Swipes decided in those transactions."},
				func() float64 { return float64(c.Stats().Requests) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "swiper_swipe_told_total",
				Help: "Times the hot rank and the deck state were told about recorded swipes."},
				func() float64 { return float64(told.Stats().Batches) }))
	}
	return c, told
}

// recorded is a swipe's outcome and, when it was recorded, a channel
// closed once the rank and the deck state were told about its batch.
type recorded struct {
	SwipeOutcome
	told <-chan struct{}
}

// Close stops the swipe committers once the swipes queued are answered
// (later ones get 503): called after the HTTP server drained, before the
// database closes.
func (s *Service) Close() {
	s.swipes.Close()
	s.told.Close()
}

// SwipeBatches counts the transactions that recorded swipes and the swipes
// they carried.
func (s *Service) SwipeBatches() batch.Stats { return s.swipes.Stats() }

// recordSwipe records one swipe through the committers: answered once the
// transaction holding it committed and the rank and the deck state were
// told, so that the swiper's next deck already leaves out what they
// swiped.
func (s *Service) recordSwipe(ctx context.Context, req SwipeRequest) (SwipeOutcome, error) {
	r, err := s.swipes.Do(ctx, uint64(req.Swiper), req)
	if errors.Is(err, batch.ErrClosed) { // shutting down
		return SwipeOutcome{}, backend.Unavailable(err)
	}
	if err != nil {
		return SwipeOutcome{}, err
	}
	if r.told != nil {
		<-r.told
	}
	return r.SwipeOutcome, nil
}

// commitBatch is a run of the swipe committer: it records reqs
// (recordSwipes), hands the recorded swipes to the second committer and
// answers without waiting for it.
func (s *Service) commitBatch(ctx context.Context, reqs []SwipeRequest) ([]recorded, error) {
	out, err := s.recordSwipes(ctx, reqs)
	if err != nil {
		return nil, err
	}
	sws := recordedSwipes(out)
	told := make(chan struct{})
	if len(sws) == 0 {
		close(told)
	} else {
		go func() {
			defer close(told)
			// Committed: told whatever the callers do now. Only a batch
			// committed while Close ran finds the committer closed; it
			// tells them itself.
			if _, err := s.told.Do(context.WithoutCancel(ctx), sws); err != nil {
				s.tellSwiped(ctx, sws)
			}
		}()
	}
	res := make([]recorded, len(out))
	for i, o := range out {
		res[i] = recorded{SwipeOutcome: o}
		if o.Err == nil {
			res[i].told = told
		}
	}
	return res, nil
}

// CommitSwipes records reqs in one transaction (recordSwipes), then tells
// the hot rank and the deck state about the recorded swipes (tellSwiped):
// a batch of the committers, run directly.
func (s *Service) CommitSwipes(ctx context.Context, reqs []SwipeRequest) ([]SwipeOutcome, error) {
	out, err := s.recordSwipes(ctx, reqs)
	if err != nil {
		return nil, err
	}
	sws := recordedSwipes(out)
	s.tellSwiped(ctx, sws)
	return out, nil
}

// recordSwipes records reqs in one transaction: the facts read, the
// decisions (decideSwipes, decideMatches), the outcomes written.
//
// The round trips of one batch on MySQL, whatever its size: the facts; on
// a user's first limited like of a day, two for its quota row; the record
// (swipes, pair rows, quotas and scores written, pair rows read back); and
// the matches when there are some.
func (s *Service) recordSwipes(ctx context.Context, reqs []SwipeRequest) ([]SwipeOutcome, error) {
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
	return out, nil
}

// recordedSwipes returns the swipes of out that were recorded.
func recordedSwipes(out []SwipeOutcome) []model.Swipe {
	var sws []model.Swipe
	for _, o := range out {
		if o.Err == nil {
			sws = append(sws, o.Swipe)
		}
	}
	return sws
}

// tellSwiped tells the hot rank and the deck state about recorded swipes,
// once for all of them (two concurrent calls however many swipes). A
// failure of either is logged: the scores table is the truth of the rank,
// and the deck state retries.
func (s *Service) tellSwiped(ctx context.Context, sws []model.Swipe) {
	if len(sws) == 0 {
		return
	}
	swiped := make([]int64, len(sws)) // the users whose score changed (the board dedupes)
	for i, sw := range sws {
		swiped[i] = sw.SwipedID
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
