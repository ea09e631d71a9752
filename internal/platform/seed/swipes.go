package seed

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/social"
	"github.com/swiper-social/swiper/internal/platform/config"
)

// SwipeOptions control the swipes of a seed run.
type SwipeOptions struct {
	PerUser     int // swipes made by each seeded user
	Seed        uint64
	RowsPerStmt int // rows per multi-row INSERT (default 5000)
	Workers     int // transactions inserting at once (default 4)
	Progress    io.Writer
}

// SwipeStats says what a run inserted.
type SwipeStats struct {
	Swipes, Matches, Scores int
}

// Tantan-like rates (percent of swipes).
const (
	likePercent      = 45
	superlikePercent = 3
	// Of the likes, this share is answered by the liked user (who then
	// swipes back: mostly a like), so that the data holds matches; purely
	// random picks in a big city would almost never be mutual.
	answerPercent     = 25
	answerLikePercent = 60
)

// Swipes makes each user with first <= id <= last swipe opts.PerUser
// plausible candidates (same city, mostly the other gender) and inserts
// the swipes, the matches mutual likes imply and the hot-rank scores, with
// multi-row INSERTs in a few parallel transactions. Swipes are dated in the
// 30 days before now, never today (they use no quota of today).
func Swipes(ctx context.Context, st *store.Store, first, last int64, now time.Time, opts SwipeOptions) (SwipeStats, error) {
	if opts.RowsPerStmt <= 0 {
		opts.RowsPerStmt = 5000
	}
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if st.Dialect() == config.SQLite {
		opts.Workers = 1 // one writer at a time anyway
	}
	if opts.PerUser <= 0 || last < first {
		return SwipeStats{}, nil
	}
	users, err := st.SeedUsers(ctx, first, last)
	if err != nil {
		return SwipeStats{}, err
	}
	g := plan(users, opts.PerUser, rand.New(rand.NewPCG(opts.Seed^0x5eed, opts.Seed+1)))

	bar := newProgress(opts.Progress, g.total, "seeding swipes", "swipes")
	var barMu sync.Mutex

	var stats SwipeStats
	err = st.BulkLoadSwipes(ctx, func(ctx context.Context) error {
		var err error
		stats, err = insertPlan(ctx, st, users, g, now, opts, func(n int) {
			barMu.Lock()
			bar.Add(n)
			barMu.Unlock()
		})
		return err
	})
	if err != nil {
		return stats, err
	}
	bar.Finish()
	return stats, nil
}

// insertPlan inserts the plan in batches of consecutive users (about ten
// statements each), opts.Workers transactions at a time.
func insertPlan(ctx context.Context, st *store.Store, users []store.SeedUser, g *swipePlan, now time.Time,
	opts SwipeOptions, progress func(int)) (SwipeStats, error) {
	usersPerBatch := max(1, opts.RowsPerStmt*10/opts.PerUser)
	batches := make(chan [2]int)
	errs := make(chan error, opts.Workers)
	var stats SwipeStats
	var statsMu sync.Mutex
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range batches {
				b := g.batch(users, r[0], r[1], now)
				if err := st.InsertSeedBatch(ctx, b, opts.RowsPerStmt); err != nil {
					errs <- fmt.Errorf("seed: swipes of users %d-%d: %w", users[r[0]].ID, users[r[1]-1].ID, err)
					cancel()
					return
				}
				statsMu.Lock()
				stats.Swipes += len(b.Swipes)
				stats.Matches += len(b.Matches)
				stats.Scores += len(b.Scores)
				statsMu.Unlock()
				progress(len(b.Swipes))
			}
		}()
	}
feed:
	for from := 0; from < len(users); from += usersPerBatch {
		select {
		case batches <- [2]int{from, min(from+usersPerBatch, len(users))}:
		case <-ctx.Done():
			break feed
		}
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errs:
		return stats, err
	default:
	}
	return stats, ctx.Err()
}

// swipePlan holds every seeded swipe compactly: user i's swipes are
// targets[i*per : i*per+count[i]] (indexes into the users slice).
type swipePlan struct {
	per     int
	targets []int32
	actions []int8
	ages    []int32 // seconds before now
	count   []uint16
	score   []int64
	swipes  []int32
	total   int
}

func plan(users []store.SeedUser, per int, rng *rand.Rand) *swipePlan {
	n := len(users)
	p := &swipePlan{per: per, targets: make([]int32, n*per), actions: make([]int8, n*per), ages: make([]int32, n*per),
		count: make([]uint16, n), score: make([]int64, n), swipes: make([]int32, n)}
	type key struct{ city, gender string }
	groups := map[key][]int32{}
	for i, u := range users {
		k := key{u.City, u.Gender}
		groups[k] = append(groups[k], int32(i))
	}
	other := map[string]string{"male": "female", "female": "male"}
	answers := make([][]int32, n) // users who liked i and whom i will answer
	const month = 29 * 24 * 3600
	for i, u := range users {
		base := i * per
		k := 0
		has := func(j int32) bool {
			for _, t := range p.targets[base : base+k] {
				if t == j {
					return true
				}
			}
			return false
		}
		add := func(j int32, act int8) {
			p.targets[base+k], p.actions[base+k] = j, act
			p.ages[base+k] = 24*3600 + int32(rng.IntN(month))
			k++
			p.score[j] += social.ScoreOf(act)
			p.swipes[j]++
		}
		for _, j := range answers[i] {
			if k == per {
				break
			}
			if has(j) {
				continue
			}
			act := model.ActionDislike
			if rng.IntN(100) < answerLikePercent {
				act = model.ActionLike
			}
			add(j, act)
		}
		answers[i] = nil
		same := groups[key{u.City, u.Gender}]
		opp := groups[key{u.City, other[u.Gender]}]
		for tries := 0; k < per && tries < 4*per; tries++ {
			pool := opp
			if len(pool) == 0 || rng.IntN(100) < 15 {
				pool = same
			}
			if len(pool) == 0 {
				break
			}
			j := pool[rng.IntN(len(pool))]
			if int(j) == i || has(j) {
				continue
			}
			var act int8
			switch r := rng.IntN(100); {
			case r < likePercent:
				act = model.ActionLike
			case r < likePercent+superlikePercent:
				act = model.ActionSuperlike
			default:
				act = model.ActionDislike
			}
			add(j, act)
			if act != model.ActionDislike && int(j) > i && rng.IntN(100) < answerPercent {
				answers[j] = append(answers[j], int32(i))
			}
		}
		p.count[i] = uint16(k)
		p.total += k
	}
	return p
}

// action returns i's swipe of j and its age, if any.
func (p *swipePlan) action(i, j int32) (int8, int32, bool) {
	base := int(i) * p.per
	for k := 0; k < int(p.count[i]); k++ {
		if p.targets[base+k] == j {
			return p.actions[base+k], p.ages[base+k], true
		}
	}
	return 0, 0, false
}

// batch builds the rows of users [from, to): their swipes, the matches
// they form with later users (each pair once), their scores.
func (p *swipePlan) batch(users []store.SeedUser, from, to int, now time.Time) store.SeedBatch {
	now = now.UTC().Truncate(time.Second)
	var b store.SeedBatch
	for i := from; i < to; i++ {
		base := i * p.per
		for k := 0; k < int(p.count[i]); k++ {
			j, act, age := p.targets[base+k], p.actions[base+k], p.ages[base+k]
			b.Swipes = append(b.Swipes, model.Swipe{SwiperID: users[i].ID, SwipedID: users[j].ID, Action: act,
				CreatedAt: now.Add(-time.Duration(age) * time.Second)})
			if int(j) <= i || !model.IsLike(act) {
				continue
			}
			back, backAge, ok := p.action(j, int32(i))
			if !ok || !model.IsLike(back) {
				continue
			}
			b.Matches = append(b.Matches, [2]int64{users[i].ID, users[j].ID})
			b.MatchAt = append(b.MatchAt, now.Add(-time.Duration(min(age, backAge))*time.Second))
		}
		if p.swipes[i] > 0 {
			b.Scores = append(b.Scores, model.Score{UserID: users[i].ID, Score: p.score[i], Swipes: int(p.swipes[i])})
		}
	}
	return b
}
