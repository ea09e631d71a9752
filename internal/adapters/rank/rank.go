// Package rank is the hot rank: users by all-time score, highest first,
// ties by lower user id, only users with a positive score (API.md GET
// /rank). The scores table is the source of truth; a Board serves the top
// of it — straight from the table on the embedded path (Table), from a
// bounded Redis list on the production path (Redis). Both pass the same
// contract test.
//
// # The Redis board
//
// Redis holds at most K members (Options.Size, 1000 by default: well above
// the API's 100), never every user with a score: the board's memory does not
// grow with the number of users. Its keys share one hash tag, so that they
// live in one Redis Cluster slot and every script declares them:
//
//	{rank}:top    sorted set: member = zero-padded user id, score = -score,
//	              so that ZRANGE's order (score, then member) is the rank's
//	              order (highest score, then lower id)
//	{rank}:meta   hash: epoch, seq (ticket counter), low (marks trimmed up
//	              to), ready, at (ms of the last refill), fs/fm (the floor)
//	{rank}:marks  sorted set: member = user id, score = the latest ticket of
//	              a change of that user (the last Options.Window tickets)
//
// Every member holds the user's exact score. The floor is a position in
// the rank (a score and a user id), absent when the list is complete (the
// table had fewer than K ranked users at the last refill). The invariant:
// every ranked user who is not in the list comes after the floor. So the
// members up to the floor are exactly the true top; members after it are
// exact but may have unknown users between them. Top(n) answers from Redis
// when the n-th member is at or before the floor (or the list is complete);
// otherwise the list is refilled from the table (one indexed query: scores
// ORDER BY score DESC, user_id LIMIT K, swapped in atomically) — which
// happens when members fell past the floor (dislikes, rewinds) until fewer
// than n are left before it. A Top(n) with n > K reads the table.
//
// A change sets the user's exact score read from the table (or removes the
// user, who no longer ranks), then trims the list to K members; trimming
// moves the floor up to the last member kept when that is before it, which
// keeps the invariant (whoever is trimmed comes after the new floor). A
// member that falls past the floor stays, exact, but no longer counts; a
// user who rises from outside enters, and counts once before the floor.
//
// # Concurrency
//
// Changes are told after their commit, by any number of processes, in any
// order; an absolute score read from the table can be overtaken by a later
// commit's. Tickets order them. A change first marks each user (one
// script: ticket = HINCRBY seq, ZADD marks ticket user), then reads the
// users' scores, then places them (one script) — only for users whose
// latest mark is still its own ticket. The holder of a user's latest ticket
// read after every mark of that user, hence after every commit whose mark
// exists; a commit not yet marked will mark later and place again. So the
// last placement of a user is the last commit's score, and a stale read
// never overwrites a fresher one.
//
// A refill takes a ticket tR before its table read (one statement: one
// snapshot). A commit after that read marks after tR, so the rows of users
// not marked after tR are at least as fresh as anything the list held.
// When it swaps the new list in, the users marked after tR are re-marked
// with new tickets and the refilling process re-reads and places them as a
// change would (until then their rows may be stale, as during any change
// in flight). Marks are kept for the last Options.Window tickets (meta.low
// says up to where they were trimmed): a refill whose tR is older than that
// gives up (another attempt, then Top reads the table), and a change whose
// mark was trimmed before it placed is dropped. The epoch, created with
// meta, makes tickets of a Redis that lost its data useless: a lost meta
// means "not ready", changes are then ignored and the next Top refills.
//
// A change lost between the commit and Redis (a crash, a Redis error, which
// the caller logs, a dropped change) is repaired by the refill Top does
// when the list is older than Options.MaxAge. The reads after a mark must
// see the commits before it (one primary; on a multi-writer cluster,
// causal reads, or the MaxAge refill repairs what they missed).
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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/backend"
)

// Entry is one user's score (the domain's model.RankEntry).
type Entry = model.RankEntry

// Board serves the top of the rank. The domain declares the parts it calls
// (social.RankBoard, safety.Rank).
type Board interface {
	// Changed tells the board that committed writes changed the scores of
	// ids (called after the commit; the board reads the scores it needs from
	// the source of truth). Boards that read the table directly ignore it.
	Changed(ctx context.Context, ids []int64) error
	// Remove drops userID from the board at once: a user who no longer
	// ranks (account deleted, banned). The source of truth must already
	// leave the user out (score row deleted, or excluded by the TopFunc and
	// ScoresFunc), or a later refill brings the user back.
	Remove(ctx context.Context, userID int64) error
	// Top returns up to n entries with a positive score, highest first,
	// ties by lower id.
	Top(ctx context.Context, n int) ([]Entry, error)
}

// TopFunc reads the n best positive entries from the source of truth.
type TopFunc func(ctx context.Context, n int) ([]Entry, error)

// ScoresFunc reads the entries of those of ids that rank (a positive
// score) from the source of truth; the others are left out.
type ScoresFunc func(ctx context.Context, ids []int64) ([]Entry, error)

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

// Changed does nothing: the table is already up to date.
func (t *Table) Changed(context.Context, []int64) error { return nil }

// Remove does nothing: the table already leaves the user out.
func (t *Table) Remove(context.Context, int64) error { return nil }

// Top reads the table.
func (t *Table) Top(ctx context.Context, n int) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	return t.top(ctx, n)
}

// ---------------------------------------------------------------- Redis

// Options tune the Redis board; zero values take the defaults.
type Options struct {
	Size   int           // K: members held at most (default 1000)
	Window int           // tickets whose marks are kept (default 10000)
	MaxAge time.Duration // Top refills a list older than this (default 10 min)
}

// Defaults of Options.
const (
	DefaultSize   = 1000
	DefaultWindow = 10000
	DefaultMaxAge = 10 * time.Minute
)

// errBusy: a refill saw more changes than the marks window keeps.
var errBusy = errors.New("rank: too many changes during the refill")

// Redis keeps the top K of the rank in Redis, shared by every process (see
// the package doc).
type Redis struct {
	rc                redis.UniversalClient
	top, meta, marks  string
	legacy            []string // keys of the unbounded set of earlier versions
	size, window      int
	maxAge            time.Duration
	topOf             TopFunc
	scores            ScoresFunc
	mark, place, read *redis.Script
	begin, swap       *redis.Script
	mu                sync.Mutex // one refill at a time in this process
}

// NewRedis returns a board on the keys prefix+"{rank}:*" over the table's
// top and scores.
func NewRedis(rc redis.UniversalClient, prefix string, top TopFunc, scores ScoresFunc, o Options) *Redis {
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	return &Redis{rc: rc,
		top: prefix + "{rank}:top", meta: prefix + "{rank}:meta", marks: prefix + "{rank}:marks",
		legacy: []string{prefix + "rank", prefix + "rank:ready"},
		size:   o.Size, window: o.Window, maxAge: o.MaxAge, topOf: top, scores: scores,
		mark: redis.NewScript(markScript), place: redis.NewScript(lib + placeScript),
		read: redis.NewScript(lib + readScript), begin: redis.NewScript(beginScript),
		swap: redis.NewScript(lib + swapScript)}
}

func member(id int64) string { return fmt.Sprintf("%019d", id) }

// lib: positions in the list are (zset score, member); before tells
// whether one comes strictly before another; trim cuts the list to K
// members, moving the floor up to the last member kept when that is
// before it.
const lib = `
local function before(s1, m1, s2, m2)
  if s1 ~= s2 then return s1 < s2 end
  return m1 < m2
end
local function trim(top, meta, k)
  if redis.call('ZCARD', top) <= k then return end
  local last = redis.call('ZRANGE', top, k - 1, k - 1, 'WITHSCORES')
  local fs = redis.call('HGET', meta, 'fs')
  if not fs or before(tonumber(last[2]), last[1], tonumber(fs), redis.call('HGET', meta, 'fm')) then
    redis.call('HSET', meta, 'fs', last[2], 'fm', last[1])
  end
  redis.call('ZREMRANGEBYRANK', top, k, -1)
end
`

// markScript (KEYS meta, marks; ARGV window, members...) gives each member
// a ticket and trims the marks to the window; nil when there is no board.
const markScript = `
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return false end
local n = #ARGV - 1
local seq = redis.call('HINCRBY', KEYS[1], 'seq', n)
local first = seq - n + 1
for i = 2, #ARGV do redis.call('ZADD', KEYS[2], first + i - 2, ARGV[i]) end
local low = seq - tonumber(ARGV[1])
if low > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', low)
  redis.call('HSET', KEYS[1], 'low', low)
end
return {epoch, first}`

// placeScript (KEYS top, meta, marks; ARGV epoch, K, then member, ticket,
// -score or "" for a user who does not rank) places each member whose
// latest mark is its ticket, then trims.
const placeScript = `
if redis.call('HGET', KEYS[2], 'epoch') ~= ARGV[1] or redis.call('HGET', KEYS[2], 'ready') ~= '1' then return 0 end
local placed = 0
for i = 3, #ARGV, 3 do
  local m = ARGV[i]
  if tonumber(redis.call('ZSCORE', KEYS[3], m)) == tonumber(ARGV[i + 1]) then
    if ARGV[i + 2] == '' then redis.call('ZREM', KEYS[1], m) else redis.call('ZADD', KEYS[1], ARGV[i + 2], m) end
    placed = placed + 1
  end
end
trim(KEYS[1], KEYS[2], tonumber(ARGV[2]))
return placed`

// readScript (KEYS top, meta; ARGV n, max age in ms) returns the first n
// members with their scores, or nil when they cannot be trusted: no
// complete refill yet, too old, or the n-th member after the floor.
const readScript = `
if redis.call('HGET', KEYS[2], 'ready') ~= '1' then return false end
local t = redis.call('TIME')
if t[1] * 1000 + math.floor(t[2] / 1000) - tonumber(redis.call('HGET', KEYS[2], 'at')) > tonumber(ARGV[2]) then return false end
local n = tonumber(ARGV[1])
local zs = redis.call('ZRANGE', KEYS[1], 0, n - 1, 'WITHSCORES')
local fs = redis.call('HGET', KEYS[2], 'fs')
if fs then
  if #zs < 2 * n then return false end
  if before(tonumber(fs), redis.call('HGET', KEYS[2], 'fm'), tonumber(zs[#zs]), zs[#zs - 1]) then return false end
end
return zs`

// beginScript (KEYS meta; ARGV a new epoch) returns the epoch (created when
// missing), a ticket, and 1 when the epoch is new.
const beginScript = `
local e = redis.call('HGET', KEYS[1], 'epoch')
local new = 0
if not e then e = ARGV[1]; new = 1; redis.call('HSET', KEYS[1], 'epoch', e) end
return {e, redis.call('HINCRBY', KEYS[1], 'seq', 1), new}`

// swapScript (KEYS top, meta, marks; ARGV epoch, tR, K, complete, then
// member, -score of the table's top K in order) replaces the list and
// re-marks the users marked after tR (returned after their first new
// ticket); nil when the marks after tR are not all kept.
const swapScript = `
local top, meta, marks = KEYS[1], KEYS[2], KEYS[3]
if redis.call('HGET', meta, 'epoch') ~= ARGV[1] then return false end
if tonumber(redis.call('HGET', meta, 'low') or '0') > tonumber(ARGV[2]) then return false end
redis.call('DEL', top)
for i = 5, #ARGV, 400 do
  local batch = {}
  for j = i, math.min(i + 399, #ARGV), 2 do batch[#batch + 1] = ARGV[j + 1]; batch[#batch + 1] = ARGV[j] end
  redis.call('ZADD', top, unpack(batch))
end
if ARGV[4] == '1' then
  redis.call('HDEL', meta, 'fs', 'fm')
else
  redis.call('HSET', meta, 'fs', ARGV[#ARGV], 'fm', ARGV[#ARGV - 1])
end
trim(top, meta, tonumber(ARGV[3]))
local t = redis.call('TIME')
redis.call('HSET', meta, 'ready', '1', 'at', t[1] * 1000 + math.floor(t[2] / 1000))
local changed = redis.call('ZRANGEBYSCORE', marks, '(' .. ARGV[2], '+inf')
local out = {0}
if #changed > 0 then
  local seq = redis.call('HINCRBY', meta, 'seq', #changed)
  out[1] = seq - #changed + 1
  for i, m in ipairs(changed) do
    redis.call('ZADD', marks, out[1] + i - 1, m)
    out[#out + 1] = m
  end
end
return out`

// Changed marks ids, reads their scores and places them.
func (r *Redis) Changed(ctx context.Context, ids []int64) error {
	ids = unique(ids)
	if len(ids) == 0 {
		return nil
	}
	epoch, first, ok, err := r.marked(ctx, ids)
	if err != nil || !ok {
		return err
	}
	return r.placeFrom(ctx, epoch, first, ids)
}

// Remove marks userID and removes it from the list.
func (r *Redis) Remove(ctx context.Context, userID int64) error {
	epoch, first, ok, err := r.marked(ctx, []int64{userID})
	if err != nil || !ok {
		return err
	}
	return r.placeAll(ctx, epoch, first, []int64{userID}, nil)
}

// marked gives each of ids a ticket (ok false: no board yet, the next Top
// builds it from the table).
func (r *Redis) marked(ctx context.Context, ids []int64) (epoch string, first int64, ok bool, err error) {
	args := make([]any, 0, len(ids)+1)
	args = append(args, r.window)
	for _, id := range ids {
		args = append(args, member(id))
	}
	res, err := r.mark.Run(ctx, r.rc, []string{r.meta, r.marks}, args...).Slice()
	if errors.Is(err, redis.Nil) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("rank: mark %d users: %w", len(ids), backend.Classify(err))
	}
	epoch, first, err = ticketOf(res)
	return epoch, first, err == nil, err
}

// placeFrom reads the scores of ids (tickets first, first+1, ...) and
// places them.
func (r *Redis) placeFrom(ctx context.Context, epoch string, first int64, ids []int64) error {
	es, err := r.scores(ctx, ids)
	if err != nil {
		return fmt.Errorf("rank: scores of %d users: %w", len(ids), err)
	}
	return r.placeAll(ctx, epoch, first, ids, es)
}

func (r *Redis) placeAll(ctx context.Context, epoch string, first int64, ids []int64, es []Entry) error {
	score := make(map[int64]int64, len(es))
	for _, e := range es {
		if e.Score > 0 {
			score[e.UserID] = e.Score
		}
	}
	args := make([]any, 0, 2+3*len(ids))
	args = append(args, epoch, r.size)
	for i, id := range ids {
		s := ""
		if v, ok := score[id]; ok {
			s = strconv.FormatInt(-v, 10)
		}
		args = append(args, member(id), first+int64(i), s)
	}
	if err := r.place.Run(ctx, r.rc, []string{r.top, r.meta, r.marks}, args...).Err(); err != nil {
		return fmt.Errorf("rank: place %d users: %w", len(ids), backend.Classify(err))
	}
	return nil
}

// EnsureReady refills the list unless a complete one is in place.
func (r *Redis) EnsureReady(ctx context.Context) error {
	_, ok, err := r.cached(ctx, 1)
	if err != nil || ok {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refill(ctx)
}

// Rebuild refills the list from the table (after seeding).
func (r *Redis) Rebuild(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refill(ctx)
}

// refill reads the table's top K and swaps it in (see the package doc).
func (r *Redis) refill(ctx context.Context) error {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	res, err := r.begin.Run(ctx, r.rc, []string{r.meta}, hex.EncodeToString(b)).Slice()
	if err != nil {
		return fmt.Errorf("rank: refill: %w", backend.Classify(err))
	}
	epoch, tR, err := ticketOf(res)
	if err != nil {
		return err
	}
	if len(res) == 3 && res[2] == int64(1) {
		// A first build: the unbounded set of earlier versions goes (one
		// key per call: they are in other slots).
		for _, k := range r.legacy {
			r.rc.Unlink(ctx, k)
		}
	}
	es, err := r.topOf(ctx, r.size)
	if err != nil {
		return fmt.Errorf("rank: refill: %w", err)
	}
	complete := "0"
	if len(es) < r.size {
		complete = "1"
	}
	args := make([]any, 0, 4+2*len(es))
	args = append(args, epoch, tR, r.size, complete)
	for _, e := range es {
		args = append(args, member(e.UserID), -e.Score)
	}
	out, err := r.swap.Run(ctx, r.rc, []string{r.top, r.meta, r.marks}, args...).Slice()
	if errors.Is(err, redis.Nil) {
		return errBusy
	}
	if err != nil {
		return fmt.Errorf("rank: refill: %w", backend.Classify(err))
	}
	if len(out) < 2 {
		return nil
	}
	first, _ := out[0].(int64)
	ids := make([]int64, 0, len(out)-1)
	for _, m := range out[1:] {
		s, _ := m.(string)
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) != len(out)-1 {
		return fmt.Errorf("rank: refill: bad marks %v", out[1:])
	}
	return r.placeFrom(ctx, epoch, first, ids)
}

// Top reads the list when its first n can be trusted, refilling it when
// not (a few attempts, then the table answers).
func (r *Redis) Top(ctx context.Context, n int) ([]Entry, error) {
	if n <= 0 {
		return nil, nil
	}
	if n > r.size {
		return r.topOf(ctx, n)
	}
	for range 3 {
		if es, ok, err := r.cached(ctx, n); err != nil || ok {
			return es, err
		}
		es, ok, err := r.refilled(ctx, n)
		if err != nil || ok {
			return es, err
		}
	}
	return r.topOf(ctx, n)
}

// refilled refills the list unless another caller of this process did
// meanwhile, then reads it.
func (r *Redis) refilled(ctx context.Context, n int) ([]Entry, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if es, ok, err := r.cached(ctx, n); err != nil || ok {
		return es, ok, err
	}
	if err := r.refill(ctx); errors.Is(err, errBusy) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	return r.cached(ctx, n)
}

// cached reads the first n members when they can be trusted.
func (r *Redis) cached(ctx context.Context, n int) ([]Entry, bool, error) {
	zs, err := r.read.Run(ctx, r.rc, []string{r.top, r.meta}, n, r.maxAge.Milliseconds()).StringSlice()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("rank: top: %w", backend.Classify(err))
	}
	es := make([]Entry, 0, len(zs)/2)
	for i := 0; i+1 < len(zs); i += 2 {
		id, err1 := strconv.ParseInt(zs[i], 10, 64)
		s, err2 := strconv.ParseFloat(zs[i+1], 64)
		if err1 != nil || err2 != nil || id <= 0 || s >= 0 {
			return nil, false, fmt.Errorf("rank: top: bad member %q %q", zs[i], zs[i+1])
		}
		es = append(es, Entry{UserID: id, Score: -int64(s)})
	}
	return es, true, nil
}

func ticketOf(res []any) (string, int64, error) {
	if len(res) < 2 {
		return "", 0, fmt.Errorf("rank: bad ticket %v", res)
	}
	epoch, ok1 := res[0].(string)
	t, ok2 := res[1].(int64)
	if !ok1 || !ok2 {
		return "", 0, fmt.Errorf("rank: bad ticket %v", res)
	}
	return epoch, t, nil
}

func unique(ids []int64) []int64 {
	out := make([]int64, 0, len(ids))
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
