package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/platform/clock"
)

// Redis is the production Log. A user's keys share the hash tag {u:<id>},
// so one script touches one slot of a Redis Cluster:
//
//	ev:{u:42}:seq    string: the latest seq (kept 30 days after the last
//	                 event, so seqs never restart while a client may hold one)
//	ev:{u:42}:log    sorted set: score = seq, member = "<ms>:<event JSON>",
//	                 trimmed by time and count on every append, gone a
//	                 horizon after the last event
//	ev:{u:42}:keys   sorted set: member = publish key, score = when (ms);
//	                 those older than the horizon are dropped (idempotency)
//
// Appending is one script per event: the key check, INCR, ZADD and the
// trim are atomic, so concurrent publishers get seqs 1..N without gaps or
// repeats.
type Redis struct {
	client redis.UniversalClient
	prefix string
	clk    clock.Clock
	limits Limits
	append *redis.Script
}

var _ Log = (*Redis)(nil)

// seqTTL is how long a user's seq counter outlives their last event.
const seqTTL = 30 * 24 * time.Hour

// appendScript appends one event (times come from the caller's clock, the
// one that judges the horizon). KEYS: seq, log, key marker. ARGV: has
// key ("1"/"0"), now (ms), horizon (ms), cap, type (a JSON string), data
// (JSON), seq TTL (ms), publish key. Returns the seq, or 0 when the key
// was used within the horizon.
const appendScript = `
local now = tonumber(ARGV[2])
local cut = now - tonumber(ARGV[3])
if ARGV[1] == '1' then
  local at = redis.call('ZSCORE', KEYS[3], ARGV[8])
  if at and tonumber(at) > cut then return 0 end
  redis.call('ZADD', KEYS[3], now, ARGV[8])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cut)
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
local seq = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('ZADD', KEYS[2], seq, ARGV[2] .. ':{"seq":' .. seq .. ',"type":' .. ARGV[5] .. ',"data":' .. ARGV[6] .. '}')
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[4]) - 1)
for _ = 1, 100 do
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not first then break end
  if tonumber(string.match(first, '^(%d+):')) > cut then break end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, 0)
end
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]) + 3600000)
return seq
`

// NewRedis returns the Log on client with every key prefixed by prefix.
func NewRedis(client redis.UniversalClient, prefix string, clk clock.Clock, limits Limits) *Redis {
	return &Redis{client: client, prefix: prefix, clk: clk, limits: limits.orDefault(), append: redis.NewScript(appendScript)}
}

func (r *Redis) keys(user int64) (seq, log, pubKeys string) {
	base := r.prefix + "ev:{u:" + strconv.FormatInt(user, 10) + "}:"
	return base + "seq", base + "log", base + "keys"
}

// Append implements Log: one script per record, all in one pipeline.
func (r *Redis) Append(ctx context.Context, recs ...Record) ([]Stored, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	now := strconv.FormatInt(r.clk.Now().UnixMilli(), 10)
	horizon := strconv.FormatInt(r.limits.Horizon.Milliseconds(), 10)
	limit := strconv.Itoa(r.limits.Cap)
	ttl := strconv.FormatInt(seqTTL.Milliseconds(), 10)
	args := make([][]any, len(recs))
	keys := make([][]string, len(recs))
	for i, rec := range recs {
		typ, _ := json.Marshal(rec.Type)
		data := rec.Data
		if len(data) == 0 {
			data = json.RawMessage("null")
		}
		seq, log, pub := r.keys(rec.To)
		hasKey := "0"
		if rec.Key != "" {
			hasKey = "1"
		}
		keys[i] = []string{seq, log, pub}
		args[i] = []any{hasKey, now, horizon, limit, string(typ), string(data), ttl, rec.Key}
	}
	cmds := make([]*redis.Cmd, len(recs))
	run := func(idx []int, sha bool) error {
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range idx {
				if sha {
					cmds[i] = r.append.EvalSha(ctx, p, keys[i], args[i]...)
				} else {
					cmds[i] = r.append.Eval(ctx, p, keys[i], args[i]...)
				}
			}
			return nil
		})
		return err
	}
	all := make([]int, len(recs))
	for i := range all {
		all[i] = i
	}
	if err := run(all, true); err != nil {
		// A script not loaded on a node did nothing there: run those again
		// with its text.
		var again []int
		for i, c := range cmds {
			if err := c.Err(); err != nil {
				if !redis.HasErrorPrefix(err, "NOSCRIPT") {
					return nil, fmt.Errorf("events: append: %w", kv.Classify(err))
				}
				again = append(again, i)
			}
		}
		if err := run(again, false); err != nil {
			return nil, fmt.Errorf("events: append: %w", kv.Classify(err))
		}
	}
	out := make([]Stored, 0, len(recs))
	for i, c := range cmds {
		seq, err := c.Int64()
		if err != nil {
			return nil, fmt.Errorf("events: append: %w", kv.Classify(err))
		}
		if seq == 0 {
			continue // published before
		}
		data := recs[i].Data
		if len(data) == 0 {
			data = json.RawMessage("null")
		}
		out = append(out, Stored{To: recs[i].To, Event: Event{Seq: seq, Type: recs[i].Type, Data: data}})
	}
	return out, nil
}

// Since implements Log: the latest seq, the first held and those after
// since, read in one transaction on the user's slot.
func (r *Redis) Since(ctx context.Context, user, since int64) (Replay, error) {
	seqKey, logKey, _ := r.keys(user)
	var latest *redis.StringCmd
	var after, first *redis.ZSliceCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		latest = p.Get(ctx, seqKey)
		first = p.ZRangeWithScores(ctx, logKey, 0, 0)
		after = p.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: logKey, ByScore: true,
			Start: "(" + strconv.FormatInt(max(since, 0), 10), Stop: "+inf"})
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Replay{}, fmt.Errorf("events: since %d for %d: %w", since, user, kv.Classify(err))
	}
	var rep Replay
	if v, err := latest.Int64(); err == nil {
		rep.Latest = v
	}
	var firstSeq int64
	if f := first.Val(); len(f) > 0 {
		firstSeq = int64(f[0].Score)
	}
	rep.Gap = gap(since, firstSeq, rep.Latest)
	for _, z := range after.Val() {
		m, _ := z.Member.(string)
		_, body, ok := strings.Cut(m, ":")
		if !ok {
			return Replay{}, fmt.Errorf("events: bad entry in %s", logKey)
		}
		var ev Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return Replay{}, fmt.Errorf("events: bad entry in %s: %w", logKey, err)
		}
		rep.Events = append(rep.Events, ev)
	}
	return rep, nil
}

// Forget implements Log: the user's keys share a slot, so one DEL.
func (r *Redis) Forget(ctx context.Context, user int64) error {
	seq, log, pub := r.keys(user)
	if err := r.client.Del(ctx, seq, log, pub).Err(); err != nil {
		return fmt.Errorf("events: forget %d: %w", user, kv.Classify(err))
	}
	return nil
}

// RedisFanout is the Fanout through Redis pub/sub: one channel every
// replica subscribes to (classic pub/sub reaches every node of a cluster).
type RedisFanout struct {
	client  redis.UniversalClient
	channel string
}

// NewRedisFanout returns the fan-out on the channel prefix+"events".
func NewRedisFanout(client redis.UniversalClient, prefix string) *RedisFanout {
	return &RedisFanout{client: client, channel: prefix + "events"}
}

// wire is a published event.
type wire struct {
	To   int64           `json:"to"`
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
	Sent int64           `json:"sent"`
}

// Send implements Fanout: one message for the whole batch.
func (f *RedisFanout) Send(ctx context.Context, evs []Stored) error {
	if len(evs) == 0 {
		return nil
	}
	ws := make([]wire, len(evs))
	for i, e := range evs {
		ws[i] = wire{To: e.To, Seq: e.Seq, Type: e.Type, Data: e.Data, Sent: e.Sent}
	}
	b, err := json.Marshal(ws)
	if err != nil {
		return fmt.Errorf("events: encode fan-out: %w", err)
	}
	if err := f.client.Publish(ctx, f.channel, b).Err(); err != nil {
		return fmt.Errorf("events: fan-out: %w", kv.Classify(err))
	}
	return nil
}

// Run implements Fanout. go-redis resubscribes after a lost connection;
// whatever was published meanwhile never arrives, so every subscriber is
// then told to catch up from the log.
func (f *RedisFanout) Run(ctx context.Context, hub *Hub) {
	ps := f.client.Subscribe(ctx, f.channel)
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() }) // ends a blocked receive
	defer stop()
	subscribed, lost := false, false
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if err := ps.Ping(ctx); err == nil {
					continue
				}
			}
			lost = true
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if subscribed || lost {
					hub.PokeAll()
				}
				subscribed, lost = true, false
			}
		case *redis.Message:
			var ws []wire
			if err := json.Unmarshal([]byte(m.Payload), &ws); err != nil {
				continue
			}
			for _, w := range ws {
				hub.Deliver(Stored{To: w.To, Event: Event{Seq: w.Seq, Type: w.Type, Data: w.Data}, Sent: w.Sent})
			}
		case *redis.Pong:
		}
	}
}
