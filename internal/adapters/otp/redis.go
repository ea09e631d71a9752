package otp

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	phonenum "github.com/swiper-social/swiper/internal/domain/phone"
)

// keyMargin is added to every key's PEXPIRE so that Redis forgets state only
// well after it stopped mattering; the hash also lives at least this long.
const keyMargin = 5 * time.Minute

// Outcome numbers shared with the Lua scripts (must match the Outcome
// constants).
const luaOutcomes = `
local OK, LOCKED, TOOSOON, DAILY, IPLIM, WRONG, NOCODE = 0, 1, 2, 3, 4, 5, 6
`

// luaExpire sets the PEXPIRE of the phone hash from its fields: until the
// last of code expiry, end of the resend interval, end of the day, failure
// counter expiry and lock end, plus a margin, at least the margin.
// expireAt does it from field values the script already holds (as they are
// after its writes), expire reads them.
const luaExpire = `
local function num(x) return tonumber(x) or 0 end
local function expireAt(key, now, interval, margin, ce, ls, de, fe, lu)
  local t = math.max(ce, ls + interval, de, fe, lu)
  local ttl = t - now + margin
  if ttl < margin then ttl = margin end
  redis.call('PEXPIRE', key, ttl)
end
local function expire(key, now, interval, margin)
  local v = redis.call('HMGET', key, 'ce', 'ls', 'de', 'fe', 'lu')
  expireAt(key, now, interval, margin, num(v[1]), num(v[2]), num(v[3]), num(v[4]), num(v[5]))
end
`

// issueScript: KEYS[1] phone hash, KEYS[2] (optional) IP window counter.
// ARGV: now ms, code hash hex, code TTL ms, interval ms, day key, day end ms,
// daily limit, IP limit, IP window end ms, margin ms, mode: "issue", or
// "check" to answer what the phone's state allows (lock, interval, day)
// and change nothing. Returns {outcome, retry after ms}.
const issueScript = luaOutcomes + luaExpire + `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[4])
local dayEnd = tonumber(ARGV[6])
local margin = tonumber(ARGV[10])
local v = redis.call('HMGET', key, 'lu', 'ls', 'dk', 'dc')
local lu = num(v[1])
if now < lu then return {LOCKED, lu - now} end
if v[2] then
  local nxt = num(v[2]) + interval
  if now < nxt then return {TOOSOON, nxt - now} end
end
local sent = 0
if v[3] == ARGV[5] then sent = num(v[4]) end
if sent >= tonumber(ARGV[7]) then return {DAILY, dayEnd - now} end
if ARGV[11] == 'check' then return {OK, 0} end
local ipKey = KEYS[2]
local ipLimit = tonumber(ARGV[8])
local winEnd = tonumber(ARGV[9])
if ipKey then
  if num(redis.call('GET', ipKey)) >= ipLimit then return {IPLIM, winEnd - now} end
end
redis.call('HSET', key, 'h', ARGV[2], 'ce', now + tonumber(ARGV[3]), 'ls', now,
  'dk', ARGV[5], 'dc', sent + 1, 'de', dayEnd)
expire(key, now, interval, margin)
if ipKey then
  redis.call('INCR', ipKey)
  redis.call('PEXPIRE', ipKey, winEnd - now + margin)
end
return {OK, 0}
`

// ipScript counts a send in the IP window counter KEYS[1] when it is below
// the limit. ARGV: mode, limit, PEXPIRE ms. Mode "take" answers 1 when it
// counted one, 0 when the window is full; "give" takes one back (a send
// the phone's state refused after all) and answers 1.
const ipScript = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[1] == 'give' then
  if n > 0 then redis.call('DECR', KEYS[1]) end
  return 1
end
if n >= tonumber(ARGV[2]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`

// verifyScript serves Verify, Check and their chained forms. KEYS[1] is
// the phone hash; ARGV: now ms, code hash hex, max failures, lock ms,
// failure TTL ms, interval ms, margin ms, mode:
//   - "verify": a match consumes the code; with KEYS[2] (VerifyThen) it also
//     sets KEYS[2] to ARGV[10], expiring after ARGV[9] ms (0: never);
//   - "check": a match changes nothing; the values of KEYS[2..] (CheckRead)
//     are read.
//
// Wrong codes count the same in both modes.
// Returns {outcome, retry after ms}, followed on OK by the values read.
//
// The hash comparison is Lua string equality; it runs inside Redis on keyed
// hashes, so its timing reveals nothing useful to a client.
const verifyScript = luaOutcomes + luaExpire + `
local key = KEYS[1]
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', key, 'lu', 'h', 'ce', 'f', 'fe', 'ls', 'de')
local lu = num(v[1])
if now < lu then return {LOCKED, lu - now} end
if not v[2] or now >= num(v[3]) then return {NOCODE, 0} end
local interval = tonumber(ARGV[6])
local margin = tonumber(ARGV[7])
local ls, de = num(v[6]), num(v[7])
if v[2] == ARGV[2] then
  local out = {OK, 0}
  if ARGV[8] == 'check' then
    if #KEYS >= 2 then
      local vals = redis.call('MGET', unpack(KEYS, 2))
      for i = 1, #vals do out[#out + 1] = vals[i] end
    end
    return out
  end
  redis.call('HDEL', key, 'h', 'ce', 'f', 'fe')
  expireAt(key, now, interval, margin, 0, ls, de, 0, lu)
  if #KEYS >= 2 then
    local ttl = tonumber(ARGV[9])
    if ttl > 0 then
      redis.call('SET', KEYS[2], ARGV[10], 'PX', ttl)
    else
      redis.call('SET', KEYS[2], ARGV[10])
    end
  end
  return out
end
local f = 0
if now < num(v[5]) then f = num(v[4]) end
f = f + 1
local fe = now + tonumber(ARGV[5])
if f >= tonumber(ARGV[3]) then
  local lock = tonumber(ARGV[4])
  redis.call('HDEL', key, 'h', 'ce')
  redis.call('HSET', key, 'f', f, 'fe', fe, 'lu', now + lock)
  expireAt(key, now, interval, margin, 0, ls, de, fe, now + lock)
  return {LOCKED, lock}
end
redis.call('HSET', key, 'f', f, 'fe', fe)
expireAt(key, now, interval, margin, num(v[3]), ls, de, fe, lu)
return {WRONG, 0}
`

// Redis is the production Store: all per-phone state lives in one hash
// (key "otp:{"+phone+"}") and each IP hour window in a counter (key
// "otp:ip:{"+ip+"}:"+window start unix seconds), keys of the kv.Redis it
// was made with, as are the keys of Then and CheckRead: that kv.Redis owns
// the layout (kv.Redis.Key), so nothing here assumes a prefix. Decisions
// compare against the caller's now (milliseconds), never Redis time; keys
// carry a PEXPIRE so Redis forgets them once they no longer matter.
//
// On one Redis server Issue, Check and Verify are each one Lua script, so
// every decision is atomic. On a Redis Cluster the phone's hash and an IP
// counter are in different hash slots, which no script may span: Issue
// then takes a send from the IP window first (atomically, never beyond the
// limit), runs the phone's script, and gives the send back when the phone's
// state refuses it; see Issue. Check and Verify touch the phone's hash
// only and stay one script each — a code is consumed exactly once.
type Redis struct {
	c       redis.UniversalClient
	kv      *kv.Redis // names every key (kv.Redis.Key)
	p       Policy
	cluster bool // c is a Redis Cluster: no script spans the phone and other keys
	issue   *redis.Script
	ip      *redis.Script
	verify  *redis.Script
}

var (
	_ Chainer = (*Redis)(nil)
	_ Reader  = (*Redis)(nil)
)

// NewRedis returns a store keeping its state among the keys of kvs (on its
// client); the keys of Then and CheckRead are keys of kvs too.
func NewRedis(kvs *kv.Redis, p Policy) *Redis {
	client := kvs.Client()
	_, cluster := client.(*redis.ClusterClient)
	return &Redis{
		c: client, kv: kvs, p: p, cluster: cluster,
		issue:  redis.NewScript(issueScript),
		ip:     redis.NewScript(ipScript),
		verify: redis.NewScript(verifyScript),
	}
}

func (r *Redis) phoneKey(phone string) string { return r.kv.Key("otp:{" + phone + "}") }

func (r *Redis) ipKey(ip string, windowStart time.Time) string {
	return r.kv.Key("otp:ip:{" + ip + "}:" + strconv.FormatInt(windowStart.Unix(), 10))
}

// Issue implements Store.
func (r *Redis) Issue(ctx context.Context, req IssueRequest) (Result, error) {
	if err := checkIssue(ctx, req); err != nil {
		return Result{}, err
	}
	winEnd := req.Now.Truncate(time.Hour).Add(time.Hour)
	counted := r.p.IPLimit > 0 && req.IP != ""
	if r.cluster && counted {
		res, err := r.issueApart(ctx, req, winEnd)
		if err != nil {
			return Result{}, fmt.Errorf("otp: issue %s: %w", phonenum.Mask(req.Phone), err)
		}
		return res, nil
	}
	keys := []string{r.phoneKey(req.Phone)}
	if counted {
		keys = append(keys, r.ipKey(req.IP, req.Now.Truncate(time.Hour)))
	}
	res, err := r.issuePhone(ctx, req, winEnd, keys, "issue")
	if err != nil {
		return Result{}, fmt.Errorf("otp: issue %s: %w", phonenum.Mask(req.Phone), err)
	}
	return res, nil
}

// issuePhone runs issueScript on keys in mode.
func (r *Redis) issuePhone(ctx context.Context, req IssueRequest, winEnd time.Time, keys []string, mode string) (Result, error) {
	return r.run(ctx, r.issue, keys,
		req.Now.UnixMilli(), hex.EncodeToString(req.CodeHash), r.p.CodeTTL.Milliseconds(),
		r.p.Interval.Milliseconds(), req.DayKey, req.DayEnd.UnixMilli(), r.p.DailyLimit,
		r.p.IPLimit, winEnd.UnixMilli(), keyMargin.Milliseconds(), mode)
}

// issueApart is Issue on a Redis Cluster, in two atomic steps on two
// slots. The IP window first: when it has room, one send is taken, the
// phone's script runs (lock, interval, day; on OK it stores the code) and
// a refusal gives the send back. When it is full, the phone's state is
// asked without a change, so that a lock, the interval or the day is
// answered before the IP limit, as on one server.
//
// The IP limit is never exceeded, and every answer is one the single
// script could give, with one difference: while a send that will be
// refused holds its place (one round trip), a concurrent send from the
// same IP may find the window full one send early. A crash or an outage
// between the steps leaves at most one send counted too many, for the
// rest of the hour: the limit errs on the strict side only.
func (r *Redis) issueApart(ctx context.Context, req IssueRequest, winEnd time.Time) (Result, error) {
	ipKey := r.ipKey(req.IP, req.Now.Truncate(time.Hour))
	ipTTL := winEnd.Sub(req.Now) + keyMargin
	took, err := r.ip.Run(ctx, r.c, []string{ipKey}, "take", r.p.IPLimit, ipTTL.Milliseconds()).Int()
	if err != nil {
		return Result{}, fmt.Errorf("redis script: %w", kv.Classify(err))
	}
	phone := []string{r.phoneKey(req.Phone)}
	if took == 0 {
		res, err := r.issuePhone(ctx, req, winEnd, phone, "check")
		if err != nil || res.Outcome != OK {
			return res, err
		}
		return Result{Outcome: IPLimit, RetryAfter: winEnd.Sub(req.Now)}, nil
	}
	res, err := r.issuePhone(ctx, req, winEnd, phone, "issue")
	if err != nil {
		// Perhaps stored after all: the send stays counted.
		return Result{}, err
	}
	if res.Outcome != OK {
		// Refused: give the send back. Should that fail, one send too many
		// stays counted.
		if err := r.ip.Run(context.WithoutCancel(ctx), r.c, []string{ipKey}, "give", 0, 0).Err(); err != nil {
			return Result{}, fmt.Errorf("redis script: give back an IP send: %w", kv.Classify(err))
		}
	}
	return res, nil
}

// Verify implements Store.
func (r *Redis) Verify(ctx context.Context, phone string, codeHash []byte, now time.Time) (Result, error) {
	res, _, err := r.verifyRun(ctx, phone, codeHash, now, "verify", nil)
	return res, err
}

// Check implements Store.
func (r *Redis) Check(ctx context.Context, phone string, codeHash []byte, now time.Time) (Result, error) {
	res, _, err := r.verifyRun(ctx, phone, codeHash, now, "check", nil)
	return res, err
}

// CheckRead implements Reader: the keys are read inside the script, so the
// answer comes in one round trip. Keys are keys of the store's kv.Redis.
// On a Redis Cluster (keys in other hash slots than the phone's) the
// script and the reads go in one pipeline instead, still one round trip;
// the values are dropped unless the code matched.
func (r *Redis) CheckRead(ctx context.Context, phone string, codeHash []byte, now time.Time, keys []string) (Result, [][]byte, error) {
	if r.cluster {
		return r.checkReadApart(ctx, phone, codeHash, now, keys)
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.kv.Key(k)
	}
	return r.verifyRun(ctx, phone, codeHash, now, "check", full)
}

// VerifyThen implements Chainer: then runs inside the verification script.
// Its key is a key of the store's kv.Redis. On a Redis Cluster (a key in
// another hash slot than the phone's) then's key is set first and deleted
// again unless the verification succeeds (verifyThenApart).
func (r *Redis) VerifyThen(ctx context.Context, phone string, codeHash []byte, now time.Time, then Then) (Result, error) {
	if then.Key == "" {
		return r.Verify(ctx, phone, codeHash, now)
	}
	if r.cluster {
		return r.verifyThenApart(ctx, phone, codeHash, now, then)
	}
	ttl := int64(0)
	if then.TTL > 0 {
		ttl = max(then.TTL.Milliseconds(), 1)
	}
	value := then.Value
	if value == nil {
		value = []byte{}
	}
	res, _, err := r.verifyRun(ctx, phone, codeHash, now, "verify", []string{r.kv.Key(then.Key)}, ttl, value)
	return res, err
}

// verifyRun runs verifyScript in mode with the extra keys (already
// prefixed) and arguments, and decodes its answer.
func (r *Redis) verifyRun(ctx context.Context, phone string, codeHash []byte, now time.Time, mode string, keys []string, extra ...any) (Result, [][]byte, error) {
	if err := checkVerify(ctx, phone); err != nil {
		return Result{}, nil, err
	}
	args := append(r.verifyArgs(codeHash, now, mode), extra...)
	v, err := r.verify.Run(ctx, r.c, append([]string{r.phoneKey(phone)}, keys...), args...).Slice()
	if err != nil {
		return Result{}, nil, fmt.Errorf("otp: %s %s: redis script: %w", mode, phonenum.Mask(phone), kv.Classify(err))
	}
	gets := 0
	if mode == "check" {
		gets = len(keys)
	}
	res, vals, err := decodeVerify(v, gets)
	if err != nil {
		return Result{}, nil, fmt.Errorf("otp: %s %s: %w", mode, phonenum.Mask(phone), err)
	}
	return res, vals, nil
}

// verifyArgs are verifyScript's ARGV up to the mode.
func (r *Redis) verifyArgs(codeHash []byte, now time.Time, mode string) []any {
	return []any{now.UnixMilli(), hex.EncodeToString(codeHash), r.p.MaxFailures,
		r.p.LockDuration.Milliseconds(), r.p.FailureTTL.Milliseconds(),
		r.p.Interval.Milliseconds(), keyMargin.Milliseconds(), mode}
}

// decodeVerify decodes {outcome, retry after ms, values...}; values come
// only with OK (gets of them; nil when gets is 0).
func decodeVerify(v []any, gets int) (Result, [][]byte, error) {
	if len(v) < 2 {
		return Result{}, nil, fmt.Errorf("redis script: unexpected answer %v", v)
	}
	o, ok1 := v[0].(int64)
	ms, ok2 := v[1].(int64)
	if !ok1 || !ok2 || o < int64(OK) || o > int64(NoCode) {
		return Result{}, nil, fmt.Errorf("redis script: unexpected answer %v", v)
	}
	res := Result{Outcome: Outcome(o), RetryAfter: time.Duration(ms) * time.Millisecond}
	if res.Outcome != OK || gets == 0 {
		if len(v) != 2 {
			return Result{}, nil, fmt.Errorf("redis script: unexpected answer %v", v)
		}
		return res, nil, nil
	}
	if len(v) != 2+gets {
		return Result{}, nil, fmt.Errorf("redis script: %d values for %d keys", len(v)-2, gets)
	}
	vals := make([][]byte, gets)
	for i, x := range v[2:] {
		switch x := x.(type) {
		case nil:
		case string:
			vals[i] = []byte(x)
		default:
			return Result{}, nil, fmt.Errorf("redis script: unexpected value type %T", x)
		}
	}
	return res, vals, nil
}

// verifyThenApart is VerifyThen where then's key cannot join the script
// (another hash slot): the key is set first, then the code is verified —
// consumed atomically, exactly once, by the phone's script — and the key is
// deleted again unless that succeeded. So a code is never consumed without
// the key set; the key exists without a consumed code only in between (a
// login's session, whose token nobody has seen yet), or until its expiry
// should the deletion fail too.
func (r *Redis) verifyThenApart(ctx context.Context, phone string, codeHash []byte, now time.Time, then Then) (Result, error) {
	if err := checkVerify(ctx, phone); err != nil {
		return Result{}, err
	}
	value := then.Value
	if value == nil {
		value = []byte{}
	}
	key := r.kv.Key(then.Key)
	if err := r.c.Set(ctx, key, value, max(then.TTL, 0)).Err(); err != nil {
		return Result{}, fmt.Errorf("otp: verify %s: then: %w", phonenum.Mask(phone), kv.Classify(err))
	}
	res, err := r.Verify(ctx, phone, codeHash, now)
	if err == nil && res.Outcome == OK {
		return res, nil
	}
	if derr := r.c.Del(context.WithoutCancel(ctx), key).Err(); derr != nil && err == nil {
		err = fmt.Errorf("otp: verify %s: undo then: %w", phonenum.Mask(phone), kv.Classify(derr))
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// checkReadApart is CheckRead where the keys cannot join the script
// (other hash slots): the script and GETs of the keys in one pipeline,
// the values kept only when the code matched.
func (r *Redis) checkReadApart(ctx context.Context, phone string, codeHash []byte, now time.Time, keys []string) (Result, [][]byte, error) {
	if err := checkVerify(ctx, phone); err != nil {
		return Result{}, nil, err
	}
	args := r.verifyArgs(codeHash, now, "check")
	var check *redis.Cmd
	gets := make([]*redis.StringCmd, len(keys))
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		check = r.verify.EvalSha(ctx, p, []string{r.phoneKey(phone)}, args...)
		for i, k := range keys {
			gets[i] = p.Get(ctx, r.kv.Key(k))
		}
		return nil
	})
	if err != nil && redis.HasErrorPrefix(check.Err(), "NOSCRIPT") {
		// A node that has not seen the script yet: load it (Run), then read.
		return r.checkReadSteps(ctx, phone, codeHash, now, keys)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return Result{}, nil, fmt.Errorf("otp: check %s: %w", phonenum.Mask(phone), kv.Classify(err))
	}
	v, err := check.Slice()
	if err != nil {
		return Result{}, nil, fmt.Errorf("otp: check %s: redis script: %w", phonenum.Mask(phone), kv.Classify(err))
	}
	res, _, err := decodeVerify(v, 0)
	if err != nil {
		return Result{}, nil, fmt.Errorf("otp: check %s: %w", phonenum.Mask(phone), err)
	}
	if res.Outcome != OK {
		return res, nil, nil
	}
	vals, err := values(gets)
	if err != nil {
		return Result{}, nil, fmt.Errorf("otp: check %s: read: %w", phonenum.Mask(phone), err)
	}
	return res, vals, nil
}

// checkReadSteps is CheckRead in two round trips: the script, then (on
// OK) the reads in one pipeline.
func (r *Redis) checkReadSteps(ctx context.Context, phone string, codeHash []byte, now time.Time, keys []string) (Result, [][]byte, error) {
	res, err := r.Check(ctx, phone, codeHash, now)
	if err != nil || res.Outcome != OK {
		return res, nil, err
	}
	gets := make([]*redis.StringCmd, len(keys))
	_, err = r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			gets[i] = p.Get(ctx, r.kv.Key(k))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Result{}, nil, fmt.Errorf("otp: check %s: read: %w", phonenum.Mask(phone), kv.Classify(err))
	}
	vals, err := values(gets)
	if err != nil {
		return Result{}, nil, fmt.Errorf("otp: check %s: read: %w", phonenum.Mask(phone), err)
	}
	return res, vals, nil
}

// values are the answers of GETs, nil for a missing key.
func values(gets []*redis.StringCmd) ([][]byte, error) {
	vals := make([][]byte, len(gets))
	for i, g := range gets {
		b, err := g.Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, kv.Classify(err)
		default:
			vals[i] = b
		}
	}
	return vals, nil
}

// run executes s and decodes its {outcome, retry after ms} answer.
func (r *Redis) run(ctx context.Context, s *redis.Script, keys []string, args ...any) (Result, error) {
	v, err := s.Run(ctx, r.c, keys, args...).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("redis script: %w", kv.Classify(err))
	}
	if len(v) != 2 || v[0] < int64(OK) || v[0] > int64(NoCode) {
		return Result{}, fmt.Errorf("redis script: unexpected answer %v", v)
	}
	return Result{Outcome: Outcome(v[0]), RetryAfter: time.Duration(v[1]) * time.Millisecond}, nil
}
