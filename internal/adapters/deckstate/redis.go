package deckstate

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
)

// Keys, under the prefix. Per viewer V, all under the hash tag {u:V} (one
// Redis Cluster slot, so each script touches one slot and declares every
// key it touches): dk:{u:V}:g (generation), dk:{u:V}:s (set of swiped ids,
// with the sentinel "0" so that a filled empty state exists),
// dk:{u:V}:l (sorted set of superlikers by unix µs, sentinel "0" too) and
// dk:{u:V}:f (the epoch the state was filled in).
//
// The version of deck-visible data and the epoch (bumped by Reset) are
// counted in dk:v and dk:e, and every probe reads them. A key every deck
// reads would make its node the cluster's hotspot, so probes read copies
// instead: versionCopies hashes dk:{dkcN} (fields v and e), each under its
// own hash tag and so spread over the masters. A viewer reads copy
// viewer mod versionCopies. Changed and Reset increment dk:v or dk:e — only
// writers of deck-visible data and operators touch those — and raise every
// copy to the new count (a copy never goes down). A copy thus holds only
// counts that were reached, and once Changed returned every copy holds at
// least its count: a deck read after a change committed and reported sees
// a version above whatever an index caught up with before that change
// (deck.Index.CaughtUp), whichever copies either read.
//
// A state is a hit only when its fill epoch is the epoch its probe read;
// a Reset thus drops every state without touching them, and a fill that
// raced a Reset stamps the old epoch and is never served.

// versionCopies is how many copies of the version and epoch probes spread
// over.
const versionCopies = 16

// probeScript KEYS: g, s, l, f of the viewer. ARGV: limit, ids...
// Returns {filled, gen, fill epoch, swiped ids, superlikers}.
const probeScript = `
local gen = redis.call('GET', KEYS[1]) or '0'
local s = KEYS[2]
if redis.call('EXISTS', s) == 0 then return {0, gen, ''} end
local ep = redis.call('GET', KEYS[4]) or ''
local hits = {}
if #ARGV > 1 then
  local m = redis.call('SMISMEMBER', s, unpack(ARGV, 2))
  for i, v in ipairs(m) do
    if v == 1 then hits[#hits + 1] = ARGV[i + 1] end
  end
end
local sl = {}
local limit = tonumber(ARGV[1])
if limit > 0 then
  for _, m in ipairs(redis.call('ZREVRANGE', KEYS[3], 0, limit + 64)) do
    if m ~= '0' and redis.call('SISMEMBER', s, m) == 0 then
      sl[#sl + 1] = m
      if #sl >= limit then break end
    end
  end
end
return {1, gen, ep, hits, sl}
`

// fillScript KEYS: g, s, l, f of the viewer. ARGV: epoch, gen, ttl ms, n,
// n swiped ids, then (µs, superliker) pairs. Returns 1 when filled, 0 when
// dropped (a report came in since the probe).
const fillScript = `
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[2] then return 0 end
local s, l = KEYS[2], KEYS[3]
redis.call('DEL', s, l)
redis.call('SADD', s, '0')
redis.call('ZADD', l, 0, '0')
local last = 4 + tonumber(ARGV[4])
local i = 5
while i <= last do
  local j = math.min(i + 999, last)
  redis.call('SADD', s, unpack(ARGV, i, j))
  i = j + 1
end
while i <= #ARGV do
  local j = math.min(i + 999, #ARGV)
  redis.call('ZADD', l, unpack(ARGV, i, j))
  i = j + 1
end
redis.call('PEXPIRE', s, ARGV[3])
redis.call('PEXPIRE', l, ARGV[3])
redis.call('SET', KEYS[4], ARGV[1], 'PX', ARGV[3])
return 1
`

// reportScript applies the reports about one user. KEYS: g, s, l, f of
// the user. ARGV: gen ttl ms, then (op, id, µs) triples in report order:
// "s" the user swiped id, "l" id superliked the user at µs, "r" the user
// rewound a swipe (the state is dropped), "u" id's superlike of the user
// was rewound. The generation is bumped first, so a fill that read the
// database before these reports is dropped.
const reportScript = `
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local s, l = KEYS[2], KEYS[3]
for i = 2, #ARGV, 3 do
  local op, id = ARGV[i], ARGV[i + 1]
  if op == 's' then
    if redis.call('EXISTS', s) == 1 then redis.call('SADD', s, id) end
    redis.call('ZREM', l, id)
  elseif op == 'l' then
    if redis.call('EXISTS', l) == 1 then redis.call('ZADD', l, ARGV[i + 2], id) end
  elseif op == 'r' then
    redis.call('DEL', s, l, KEYS[4])
  elseif op == 'u' then
    redis.call('ZREM', l, id)
  end
end
return 1
`

// raiseScript raises field ARGV[1] of the copy KEYS[1] to ARGV[2] unless
// it is higher already.
const raiseScript = `
local c = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > c then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
`

// Redis is the deck state shared by every replica; on one Redis server or
// a Redis Cluster alike.
type Redis struct {
	rc                         redis.UniversalClient
	prefix                     string
	ttl                        time.Duration
	probe, fill, report, raise *redis.Script
}

// NewRedis returns the deck state in rc under prefix; fills live ttl.
func NewRedis(rc redis.UniversalClient, prefix string, ttl time.Duration) *Redis {
	return &Redis{rc: rc, prefix: prefix, ttl: ttl, probe: redis.NewScript(probeScript),
		fill: redis.NewScript(fillScript), report: redis.NewScript(reportScript), raise: redis.NewScript(raiseScript)}
}

// userKeys are the g, s, l and f keys of user id.
func (r *Redis) userKeys(id int64) []string {
	b := r.prefix + "dk:{u:" + strconv.FormatInt(id, 10) + "}:"
	return []string{b + "g", b + "s", b + "l", b + "f"}
}

// copyKey is the copy of the version and epoch viewer reads.
func (r *Redis) copyKey(viewer int64) string {
	return r.copyKeyN(int(uint64(viewer) % versionCopies))
}

func (r *Redis) copyKeyN(n int) string { return r.prefix + "dk:{dkc" + strconv.Itoa(n) + "}" }

func fail(op string, err error) error {
	return fmt.Errorf("deckstate: %s: %w", op, kv.Classify(err))
}

// call is one run of a script.
type call struct {
	keys []string
	args []any
}

// runAll runs s once per call in one pipeline (go-redis sends every node
// of a cluster its share at once) and returns the answers in order. Calls
// that found a node without the script are run again one by one, loading
// it.
func (r *Redis) runAll(ctx context.Context, s *redis.Script, calls []call) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(calls))
	_, err := r.rc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range calls {
			cmds[i] = s.EvalSha(ctx, p, c.keys, c.args...)
		}
		return nil
	})
	if err == nil {
		return cmds, nil
	}
	for i, c := range calls {
		if redis.HasErrorPrefix(cmds[i].Err(), "NOSCRIPT") {
			cmds[i] = s.Run(ctx, r.rc, c.keys, c.args...)
		}
	}
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
	}
	return cmds, nil
}

// Probe implements Store: the viewer's script and its copy of the version
// and epoch, in one pipeline.
func (r *Redis) Probe(ctx context.Context, viewer int64, ids []int64, limit int) (Probe, error) {
	args := make([]any, 0, 1+len(ids))
	args = append(args, limit)
	for _, id := range ids {
		args = append(args, id)
	}
	var counts *redis.SliceCmd
	run := func(p redis.Pipeliner) *redis.Cmd {
		counts = p.HMGet(ctx, r.copyKey(viewer), "v", "e")
		return r.probe.EvalSha(ctx, p, r.userKeys(viewer), args...)
	}
	var state *redis.Cmd
	_, err := r.rc.Pipelined(ctx, func(p redis.Pipeliner) error { state = run(p); return nil })
	if err != nil && redis.HasErrorPrefix(state.Err(), "NOSCRIPT") {
		if err = r.probe.Load(ctx, r.rc).Err(); err == nil {
			_, err = r.rc.Pipelined(ctx, func(p redis.Pipeliner) error { state = run(p); return nil })
		}
	}
	if err != nil {
		return Probe{}, fail("probe", err)
	}
	c := counts.Val()
	v, err := state.Slice()
	if err != nil || len(c) != 2 || len(v) < 3 {
		return Probe{}, fmt.Errorf("deckstate: probe: unexpected answer %v, %v (%v)", c, v, err)
	}
	epoch := toStr(c[1])
	if epoch == "" {
		epoch = "0"
	}
	p := Probe{Version: toInt(c[0]), Token: Token{Epoch: epoch, Gen: toStr(v[1])}}
	p.Hit = toInt(v[0]) == 1 && toStr(v[2]) == epoch
	if !p.Hit {
		return p, nil
	}
	p.Swiped = map[int64]bool{}
	if len(v) > 3 {
		for _, x := range list(v[3]) {
			p.Swiped[toInt(x)] = true
		}
	}
	if len(v) > 4 {
		for _, x := range list(v[4]) {
			p.Superlikers = append(p.Superlikers, toInt(x))
		}
	}
	return p, nil
}

// Fill implements Store.
func (r *Redis) Fill(ctx context.Context, viewer int64, tok Token, swiped []int64, superlikers []Superliker) error {
	args := make([]any, 0, 4+len(swiped)+2*len(superlikers))
	args = append(args, tok.Epoch, tok.Gen, r.ttl.Milliseconds(), len(swiped))
	for _, id := range swiped {
		args = append(args, id)
	}
	for _, s := range superlikers {
		args = append(args, s.At.UnixMicro(), s.ID)
	}
	if err := r.fill.Run(ctx, r.rc, r.userKeys(viewer), args...).Err(); err != nil {
		return fail("fill", err)
	}
	return nil
}

// reports gathers report ops per user, in order.
type reports struct {
	order []int64
	ops   map[int64][]any
}

func (rs *reports) add(user int64, op string, id int64, us int64) {
	if rs.ops == nil {
		rs.ops = map[int64][]any{}
	}
	if _, ok := rs.ops[user]; !ok {
		rs.order = append(rs.order, user)
	}
	rs.ops[user] = append(rs.ops[user], op, id, us)
}

// send runs reportScript once per user, all in one pipeline. Each user's
// reports are atomic; a batch as a whole is not, and need not be: a report
// delivered again (deckstate.Retrying) changes nothing more.
func (r *Redis) send(ctx context.Context, op string, rs reports) error {
	calls := make([]call, 0, len(rs.order))
	for _, u := range rs.order {
		args := append([]any{genTTL.Milliseconds()}, rs.ops[u]...)
		calls = append(calls, call{keys: r.userKeys(u), args: args})
	}
	if _, err := r.runAll(ctx, r.report, calls); err != nil {
		return fail(op, err)
	}
	return nil
}

// Swiped implements Store.
func (r *Redis) Swiped(ctx context.Context, sws []Swipe) error {
	if len(sws) == 0 {
		return nil
	}
	var rs reports
	for _, sw := range sws {
		rs.add(sw.Swiper, "s", sw.Swiped, 0)
		if sw.Superlike {
			rs.add(sw.Swiped, "l", sw.Swiper, sw.At.UnixMicro())
		}
	}
	return r.send(ctx, "swiped", rs)
}

// Rewound implements Store.
func (r *Redis) Rewound(ctx context.Context, sw Swipe) error {
	var rs reports
	rs.add(sw.Swiper, "r", sw.Swiped, 0)
	if sw.Superlike {
		rs.add(sw.Swiped, "u", sw.Swiper, 0)
	}
	return r.send(ctx, "rewound", rs)
}

// Changed implements Store.
func (r *Redis) Changed(ctx context.Context) error {
	return r.bump(ctx, "changed", "dk:v", "v")
}

// Reset implements Store.
func (r *Redis) Reset(ctx context.Context) error {
	return r.bump(ctx, "reset", "dk:e", "e")
}

// bump increments the counter key and raises field of every copy to it.
func (r *Redis) bump(ctx context.Context, op, key, field string) error {
	n, err := r.rc.Incr(ctx, r.prefix+key).Result()
	if err != nil {
		return fail(op, err)
	}
	calls := make([]call, versionCopies)
	for i := range calls {
		calls[i] = call{keys: []string{r.copyKeyN(i)}, args: []any{field, n}}
	}
	if _, err := r.runAll(ctx, r.raise, calls); err != nil {
		return fail(op, err)
	}
	return nil
}

func list(x any) []any {
	l, _ := x.([]any)
	return l
}

func toStr(x any) string {
	switch v := x.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}

func toInt(x any) int64 {
	switch v := x.(type) {
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}
