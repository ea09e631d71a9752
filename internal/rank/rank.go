// Package rank is the hot rank: users by all-time score, highest first,
// ties by lower user id. The scores table is the source of truth; a Board
// serves the top of it — straight from the table on the embedded path
// (Table), from a Redis sorted set on the production path (Redis). Both
// pass the same contract test.
package rank

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/backend"
)

// Entry is one user's score.
type Entry struct {
	UserID int64
	Score  int64
}

// Board serves the top of the rank.
type Board interface {
	// Applied tells the board that a committed write changed the score of
	// userID by delta; gone means the user has no score any more (no swipe
	// received). Boards that read the table directly ignore it.
	Applied(ctx context.Context, userID, delta int64, gone bool) error
	// Added is Applied for many score changes at once (a batch of swipes),
	// none of which leaves a user without a score.
	Added(ctx context.Context, deltas []Entry) error
	// Top returns up to n entries with a positive score, highest first,
	// ties by lower id.
	Top(ctx context.Context, n int) ([]Entry, error)
}

// TopFunc reads the n best positive entries from the source of truth.
type TopFunc func(ctx context.Context, n int) ([]Entry, error)

// ScanFunc reads up to n entries with user id > after, by user id.
type ScanFunc func(ctx context.Context, after int64, n int) ([]Entry, error)

// Sort orders entries by score (highest first), then lower user id.
func Sort(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		switch {
		case a.UserID < b.UserID:
			return -1
		case a.UserID > b.UserID:
			return 1
		}
		return 0
	})
}

// ---------------------------------------------------------------- Table

// Table reads the rank straight from the scores table (its index on
// score, user id makes the top cheap): the in-process board.
type Table struct{ top TopFunc }

// NewTable returns a board over top.
func NewTable(top TopFunc) *Table { return &Table{top: top} }

// Applied does nothing: the table is already up to date.
func (t *Table) Applied(context.Context, int64, int64, bool) error { return nil }

// Added does nothing: the table is already up to date.
func (t *Table) Added(context.Context, []Entry) error { return nil }

// Top reads the table.
func (t *Table) Top(ctx context.Context, n int) ([]Entry, error) { return t.top(ctx, n) }

// ---------------------------------------------------------------- Redis

// Redis keeps the rank in a sorted set shared by every process. Members are
// zero-padded user ids, so that within one score Redis orders them by id.
// The set is rebuilt from the table when it is missing (first start, lost
// Redis data): a marker key says that a complete build is in place.
type Redis struct {
	rc    redis.UniversalClient
	key   string
	ready string
	scan  ScanFunc
	apply *redis.Script
	add   *redis.Script
	mu    sync.Mutex // one rebuild at a time in this process
}

// NewRedis returns a board on the sorted set prefix+"rank".
func NewRedis(rc redis.UniversalClient, prefix string, scan ScanFunc) *Redis {
	return &Redis{rc: rc, key: prefix + "rank", ready: prefix + "rank:ready", scan: scan,
		apply: redis.NewScript(applyScript), add: redis.NewScript(addScript)}
}

func member(id int64) string { return fmt.Sprintf("%019d", id) }

// applyScript adds the delta and drops the member when the user has no
// score any more and the set agrees (value 0): increments commute, so the
// set converges whatever order concurrent requests apply them in.
const applyScript = `
local s = redis.call('ZINCRBY', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' and tonumber(s) == 0 then redis.call('ZREM', KEYS[1], ARGV[2]) end
return s`

// Applied mirrors a committed score change into the set.
func (r *Redis) Applied(ctx context.Context, userID, delta int64, gone bool) error {
	g := "0"
	if gone {
		g = "1"
	}
	if err := r.apply.Run(ctx, r.rc, []string{r.key}, delta, member(userID), g).Err(); err != nil {
		return fmt.Errorf("rank: apply %d: %w", userID, backend.Classify(err))
	}
	return nil
}

// addScript adds each delta ARGV[2i-1] to member ARGV[2i].
const addScript = `
for i = 1, #ARGV, 2 do redis.call('ZINCRBY', KEYS[1], ARGV[i], ARGV[i+1]) end
return 0`

// Added mirrors committed score changes into the set in one round trip
// (one script call: each change is applied once, whatever the others do).
func (r *Redis) Added(ctx context.Context, deltas []Entry) error {
	if len(deltas) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(deltas))
	for _, d := range deltas {
		args = append(args, d.Score, member(d.UserID))
	}
	if err := r.add.Run(ctx, r.rc, []string{r.key}, args...).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("rank: add %d changes: %w", len(deltas), backend.Classify(err))
	}
	return nil
}

// EnsureReady rebuilds the set unless a complete build is in place.
func (r *Redis) EnsureReady(ctx context.Context) error {
	n, err := r.rc.Exists(ctx, r.ready).Result()
	if err != nil {
		return fmt.Errorf("rank: %w", backend.Classify(err))
	}
	if n == 1 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, err = r.rc.Exists(ctx, r.ready).Result(); err != nil {
		return fmt.Errorf("rank: %w", backend.Classify(err))
	} else if n == 1 {
		return nil
	}
	return r.rebuild(ctx)
}

// Rebuild replaces the set with the table's scores (e.g. after seeding).
func (r *Redis) Rebuild(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rebuild(ctx)
}

func (r *Redis) rebuild(ctx context.Context) error {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	tmp := r.key + ":build:" + hex.EncodeToString(b)
	total := 0
	for after := int64(0); ; {
		es, err := r.scan(ctx, after, 5000)
		if err != nil {
			r.rc.Del(context.WithoutCancel(ctx), tmp)
			return err
		}
		if len(es) == 0 {
			break
		}
		zs := make([]redis.Z, len(es))
		for i, e := range es {
			zs[i] = redis.Z{Score: float64(e.Score), Member: member(e.UserID)}
		}
		if err := r.rc.ZAdd(ctx, tmp, zs...).Err(); err != nil {
			r.rc.Del(context.WithoutCancel(ctx), tmp)
			return fmt.Errorf("rank: rebuild: %w", backend.Classify(err))
		}
		total += len(es)
		after = es[len(es)-1].UserID
	}
	pipe := r.rc.TxPipeline()
	if total == 0 {
		pipe.Del(ctx, r.key)
	} else {
		pipe.Rename(ctx, tmp, r.key)
	}
	pipe.Set(ctx, r.ready, "1", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		r.rc.Del(context.WithoutCancel(ctx), tmp)
		return fmt.Errorf("rank: rebuild: %w", backend.Classify(err))
	}
	return nil
}

// Top reads the set: the best n+slack members with a positive score, plus
// the lowest ids of the lowest score among them (ZREVRANGE orders ties by
// higher id first), then sorts in Go.
func (r *Redis) Top(ctx context.Context, n int) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	if err := r.EnsureReady(ctx); err != nil {
		return nil, err
	}
	window := int64(n + 16)
	// Positive scores only: the rank lists nobody at 0 or below.
	zs, err := r.rc.ZRevRangeByScoreWithScores(ctx, r.key, &redis.ZRangeBy{Min: "(0", Max: "+inf", Count: window}).Result()
	if err != nil {
		return nil, fmt.Errorf("rank: top: %w", backend.Classify(err))
	}
	es := make([]Entry, 0, len(zs)+n)
	if int64(len(zs)) < window {
		for _, z := range zs {
			if e, ok := entryOf(z); ok {
				es = append(es, e)
			}
		}
	} else {
		low := zs[len(zs)-1].Score
		for _, z := range zs {
			if z.Score > low {
				if e, ok := entryOf(z); ok {
					es = append(es, e)
				}
			}
		}
		s := strconv.FormatFloat(low, 'f', -1, 64)
		ties, err := r.rc.ZRangeByScoreWithScores(ctx, r.key, &redis.ZRangeBy{Min: s, Max: s, Count: window}).Result()
		if err != nil {
			return nil, fmt.Errorf("rank: top: %w", backend.Classify(err))
		}
		for _, z := range ties {
			if e, ok := entryOf(z); ok {
				es = append(es, e)
			}
		}
	}
	Sort(es)
	if len(es) > n {
		es = es[:n]
	}
	return es, nil
}

func entryOf(z redis.Z) (Entry, bool) {
	m, ok := z.Member.(string)
	if !ok {
		return Entry{}, false
	}
	id, err := strconv.ParseInt(m, 10, 64)
	if err != nil || id <= 0 {
		return Entry{}, false
	}
	return Entry{UserID: id, Score: int64(z.Score)}, true
}
