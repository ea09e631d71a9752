package deckstate

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/backend"
)

// Keys, under the prefix: dk:e (epoch, bumped by Reset), dk:v (version),
// and per viewer in the current epoch dk:<epoch>:<viewer>: g (generation),
// s (set of swiped ids, with the sentinel "0" so that a filled empty state
// exists) and l (sorted set of superlikers by unix µs, sentinel "0" too).
// The scripts build the per-viewer names from the epoch they read, so a
// Reset is one INCR. Every script runs atomically.

const luaBase = `
local p = ARGV[1]
local ep = redis.call('GET', p .. 'dk:e') or '0'
local function base(id) return p .. 'dk:' .. ep .. ':' .. id end
local function bump(b, ttl)
  redis.call('INCR', b .. ':g')
  redis.call('PEXPIRE', b .. ':g', ttl)
end
`

// probeScript ARGV: prefix, viewer, limit, ids...
// Returns {hit, version, epoch, gen, swiped ids, superlikers}.
const probeScript = luaBase + `
local ver = redis.call('GET', p .. 'dk:v') or '0'
local b = base(ARGV[2])
local gen = redis.call('GET', b .. ':g') or '0'
local s = b .. ':s'
if redis.call('EXISTS', s) == 0 then return {0, ver, ep, gen} end
local hits = {}
if #ARGV > 3 then
  local m = redis.call('SMISMEMBER', s, unpack(ARGV, 4))
  for i, v in ipairs(m) do
    if v == 1 then hits[#hits + 1] = ARGV[i + 3] end
  end
end
local sl = {}
local limit = tonumber(ARGV[3])
if limit > 0 then
  for _, m in ipairs(redis.call('ZREVRANGE', b .. ':l', 0, limit + 64)) do
    if m ~= '0' and redis.call('SISMEMBER', s, m) == 0 then
      sl[#sl + 1] = m
      if #sl >= limit then break end
    end
  end
end
return {1, ver, ep, gen, hits, sl}
`

// fillScript ARGV: prefix, viewer, epoch, gen, ttl ms, n, n swiped ids,
// then (µs, superliker) pairs. Returns 1 when filled, 0 when dropped.
const fillScript = `
local p = ARGV[1]
if (redis.call('GET', p .. 'dk:e') or '0') ~= ARGV[3] then return 0 end
local b = p .. 'dk:' .. ARGV[3] .. ':' .. ARGV[2]
if (redis.call('GET', b .. ':g') or '0') ~= ARGV[4] then return 0 end
local s, l = b .. ':s', b .. ':l'
redis.call('DEL', s, l)
redis.call('SADD', s, '0')
redis.call('ZADD', l, 0, '0')
local last = 6 + tonumber(ARGV[6])
local i = 7
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
redis.call('PEXPIRE', s, ARGV[5])
redis.call('PEXPIRE', l, ARGV[5])
return 1
`

// swipedScript ARGV: prefix, gen ttl ms, then (swiper, swiped, superlike
// 0|1, µs) quads.
const swipedScript = luaBase + `
for i = 3, #ARGV, 4 do
  local v, t = ARGV[i], ARGV[i + 1]
  local bv = base(v)
  bump(bv, ARGV[2])
  if redis.call('EXISTS', bv .. ':s') == 1 then redis.call('SADD', bv .. ':s', t) end
  redis.call('ZREM', bv .. ':l', t)
  if ARGV[i + 2] == '1' then
    local bt = base(t)
    bump(bt, ARGV[2])
    if redis.call('EXISTS', bt .. ':l') == 1 then redis.call('ZADD', bt .. ':l', ARGV[i + 3], v) end
  end
end
return 1
`

// rewoundScript ARGV: prefix, gen ttl ms, swiper, swiped, superlike 0|1.
const rewoundScript = luaBase + `
local bv = base(ARGV[3])
bump(bv, ARGV[2])
redis.call('DEL', bv .. ':s', bv .. ':l')
if ARGV[5] == '1' then
  local bt = base(ARGV[4])
  bump(bt, ARGV[2])
  redis.call('ZREM', bt .. ':l', ARGV[3])
end
return 1
`

// Redis is the deck state shared by every replica.
type Redis struct {
	rc                           redis.UniversalClient
	prefix                       string
	ttl                          time.Duration
	probe, fill, swiped, rewound *redis.Script
}

// NewRedis returns the deck state in rc under prefix; fills live ttl.
func NewRedis(rc redis.UniversalClient, prefix string, ttl time.Duration) *Redis {
	return &Redis{rc: rc, prefix: prefix, ttl: ttl, probe: redis.NewScript(probeScript),
		fill: redis.NewScript(fillScript), swiped: redis.NewScript(swipedScript), rewound: redis.NewScript(rewoundScript)}
}

func fail(op string, err error) error {
	return fmt.Errorf("deckstate: %s: %w", op, backend.Classify(err))
}

// Probe implements Store.
func (r *Redis) Probe(ctx context.Context, viewer int64, ids []int64, limit int) (Probe, error) {
	args := make([]any, 0, 3+len(ids))
	args = append(args, r.prefix, viewer, limit)
	for _, id := range ids {
		args = append(args, id)
	}
	v, err := r.probe.Run(ctx, r.rc, nil, args...).Slice()
	if err != nil {
		return Probe{}, fail("probe", err)
	}
	if len(v) < 4 {
		return Probe{}, fmt.Errorf("deckstate: probe: %d values", len(v))
	}
	p := Probe{Hit: toInt(v[0]) == 1, Version: toInt(v[1]), Token: Token{epoch: toStr(v[2]), gen: toStr(v[3])}}
	if !p.Hit {
		return p, nil
	}
	p.Swiped = map[int64]bool{}
	if len(v) > 4 {
		for _, x := range list(v[4]) {
			p.Swiped[toInt(x)] = true
		}
	}
	if len(v) > 5 {
		for _, x := range list(v[5]) {
			p.Superlikers = append(p.Superlikers, toInt(x))
		}
	}
	return p, nil
}

// Fill implements Store.
func (r *Redis) Fill(ctx context.Context, viewer int64, tok Token, swiped []int64, superlikers []Superliker) error {
	args := make([]any, 0, 6+len(swiped)+2*len(superlikers))
	args = append(args, r.prefix, viewer, tok.epoch, tok.gen, r.ttl.Milliseconds(), len(swiped))
	for _, id := range swiped {
		args = append(args, id)
	}
	for _, s := range superlikers {
		args = append(args, s.At.UnixMicro(), s.ID)
	}
	if err := r.fill.Run(ctx, r.rc, nil, args...).Err(); err != nil {
		return fail("fill", err)
	}
	return nil
}

// Swiped implements Store.
func (r *Redis) Swiped(ctx context.Context, sws []Swipe) error {
	if len(sws) == 0 {
		return nil
	}
	args := make([]any, 0, 2+4*len(sws))
	args = append(args, r.prefix, genTTL.Milliseconds())
	for _, sw := range sws {
		args = append(args, sw.Swiper, sw.Swiped, flag(sw.Superlike), sw.At.UnixMicro())
	}
	if err := r.swiped.Run(ctx, r.rc, nil, args...).Err(); err != nil {
		return fail("swiped", err)
	}
	return nil
}

// Rewound implements Store.
func (r *Redis) Rewound(ctx context.Context, sw Swipe) error {
	if err := r.rewound.Run(ctx, r.rc, nil, r.prefix, genTTL.Milliseconds(), sw.Swiper, sw.Swiped, flag(sw.Superlike)).Err(); err != nil {
		return fail("rewound", err)
	}
	return nil
}

// Changed implements Store.
func (r *Redis) Changed(ctx context.Context) error {
	if err := r.rc.Incr(ctx, r.prefix+"dk:v").Err(); err != nil {
		return fail("changed", err)
	}
	return nil
}

// Reset implements Store.
func (r *Redis) Reset(ctx context.Context) error {
	if err := r.rc.Incr(ctx, r.prefix+"dk:e").Err(); err != nil {
		return fail("reset", err)
	}
	return nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
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
