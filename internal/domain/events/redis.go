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

	"github.com/swiper-social/swiper/internal/platform/backend"
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
// Appending is one script call for all the events of one user (of one
// slot: on a single Redis, for all the events of the call), the calls of
// one Append pipelined in one round trip. Per event the script checks and
// records the publish key, takes the next seq (INCR: concurrent publishers
// get 1..N without gaps or repeats), adds the event and keeps the three
// keys' expiries; it drops what passed the horizon or the cap every 16th
// seq only (Since leaves out what a trim would have dropped), and, when
// asked, publishes the events it appended to the fan-out channel (the
// events of one call in one message).
type Redis struct {
	client  redis.UniversalClient
	prefix  string
	clk     clock.Clock
	limits  Limits
	append  *redis.Script
	cluster bool // keys of different users may be on different nodes
}

var _ Log = (*Redis)(nil)

// seqTTL is how long a user's seq counter outlives their last event.
const seqTTL = 30 * 24 * time.Hour

// trimEvery is how many appends to a user's log go between its trims.
const trimEvery = 16

// appendScript appends events (times come from the caller's clock, the
// one that judges the horizon). KEYS: per event its user's seq, log and
// key marker. ARGV: now (ms), horizon (ms), cap, seq TTL (ms), fan-out
// channel ("" = none), sent (ns, for the fan-out), trim period, then per
// event: recipient, type (a JSON string), data (JSON), publish key ("" =
// none). Returns the seq of each event, 0 when its key was used within
// the horizon.
const appendScript = `
local now = tonumber(ARGV[1])
local horizon = tonumber(ARGV[2])
local cut = now - horizon
local cap = tonumber(ARGV[3])
local every = tonumber(ARGV[7])
local seqs, wire = {}, {}
for i = 0, #KEYS / 3 - 1 do
  local kseq, klog, kkeys = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3]
  local a = 7 + 4 * i
  local key = ARGV[a + 4]
  local fresh = true
  if key ~= '' then
    if redis.call('ZADD', kkeys, 'NX', now, key) == 0 then
      if tonumber(redis.call('ZSCORE', kkeys, key)) > cut then
        fresh = false
      else
        redis.call('ZADD', kkeys, now, key)
      end
    end
    if fresh then redis.call('PEXPIRE', kkeys, horizon) end
  end
  if fresh then
    local seq = redis.call('INCR', kseq)
    redis.call('PEXPIRE', kseq, ARGV[4])
    local ev = '"seq":' .. seq .. ',"type":' .. ARGV[a + 2] .. ',"data":' .. ARGV[a + 3]
    redis.call('ZADD', klog, seq, ARGV[1] .. ':{' .. ev .. '}')
    redis.call('PEXPIRE', klog, horizon + 3600000)
    if seq % every == 0 then
      redis.call('ZREMRANGEBYSCORE', klog, '-inf', seq - cap)
      for _ = 1, 100 do
        local first = redis.call('ZRANGE', klog, 0, 0)[1]
        if not first then break end
        if tonumber(string.match(first, '^(%d+):')) > cut then break end
        redis.call('ZREMRANGEBYRANK', klog, 0, 0)
      end
      redis.call('ZREMRANGEBYSCORE', kkeys, '-inf', cut)
    end
    seqs[i + 1] = seq
    wire[#wire + 1] = '{"to":' .. ARGV[a + 1] .. ',' .. ev .. ',"sent":' .. ARGV[6] .. '}'
  else
    seqs[i + 1] = 0
  end
end
if ARGV[5] ~= '' and #wire > 0 then
  redis.call('PUBLISH', ARGV[5], '[' .. table.concat(wire, ',') .. ']')
end
return seqs
`

// NewRedis returns the Log on client with every key prefixed by prefix.
func NewRedis(client redis.UniversalClient, prefix string, clk clock.Clock, limits Limits) *Redis {
	_, single := client.(*redis.Client) // one server (or a failover pair's master) holds every key
	return &Redis{client: client, prefix: prefix, clk: clk, limits: limits.orDefault(), append: redis.NewScript(appendScript),
		cluster: !single}
}

func (r *Redis) keys(user int64) (seq, log, pubKeys string) {
	base := r.prefix + "ev:{u:" + strconv.FormatInt(user, 10) + "}:"
	return base + "seq", base + "log", base + "keys"
}

// Append implements Log.
func (r *Redis) Append(ctx context.Context, recs ...Record) ([]Stored, error) {
	return r.appendPublish(ctx, "", 0, recs)
}

// appendPublish appends recs and, when channel is not "", publishes the
// appended ones there as RedisFanout does (sent: their Sent), in the same
// script calls.
func (r *Redis) appendPublish(ctx context.Context, channel string, sent int64, recs []Record) ([]Stored, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	head := []any{strconv.FormatInt(r.clk.Now().UnixMilli(), 10), strconv.FormatInt(r.limits.Horizon.Milliseconds(), 10),
		strconv.Itoa(r.limits.Cap), strconv.FormatInt(seqTTL.Milliseconds(), 10), channel, strconv.FormatInt(sent, 10),
		strconv.Itoa(trimEvery)}
	groups := r.groupsOf(recs)
	keys := make([][]string, len(groups))
	args := make([][]any, len(groups))
	for g, idx := range groups {
		args[g] = append(make([]any, 0, len(head)+4*len(idx)), head...)
		for _, i := range idx {
			rec := recs[i]
			typ, _ := json.Marshal(rec.Type)
			seq, log, pub := r.keys(rec.To)
			keys[g] = append(keys[g], seq, log, pub)
			args[g] = append(args[g], strconv.FormatInt(rec.To, 10), string(typ), string(dataOf(rec)), rec.Key)
		}
	}
	cmds, err := r.runAppends(ctx, keys, args)
	if err != nil {
		return nil, err
	}
	seqs := make([]int64, len(recs))
	for g, c := range cmds {
		got, err := c.Int64Slice()
		if err != nil {
			return nil, fmt.Errorf("events: append: %w", backend.ClassifyRedis(err))
		}
		if len(got) != len(groups[g]) {
			return nil, fmt.Errorf("events: append: %d seqs for %d events", len(got), len(groups[g]))
		}
		for j, i := range groups[g] {
			seqs[i] = got[j]
		}
	}
	out := make([]Stored, 0, len(recs))
	for i, seq := range seqs {
		if seq == 0 {
			continue // published before
		}
		out = append(out, Stored{To: recs[i].To, Event: Event{Seq: seq, Type: recs[i].Type, Data: dataOf(recs[i])}, Sent: sent})
	}
	return out, nil
}

// groupsOf splits recs (by index) into the script calls that append them:
// one per user on a cluster (a script touches one slot), else one.
func (r *Redis) groupsOf(recs []Record) [][]int {
	if !r.cluster {
		all := make([]int, len(recs))
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	var groups [][]int
	at := map[int64]int{}
	for i, rec := range recs {
		g, ok := at[rec.To]
		if !ok {
			g = len(groups)
			at[rec.To] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}

// runAppends runs the append script once per group (keys[g], args[g]),
// pipelined when there are several, by its SHA first and again with its
// text on the nodes that did not have it loaded.
func (r *Redis) runAppends(ctx context.Context, keys [][]string, args [][]any) ([]*redis.Cmd, error) {
	cmds := make([]*redis.Cmd, len(keys))
	run := func(gs []int, sha bool) error {
		call := func(c redis.Scripter, g int) *redis.Cmd {
			if sha {
				return r.append.EvalSha(ctx, c, keys[g], args[g]...)
			}
			return r.append.Eval(ctx, c, keys[g], args[g]...)
		}
		if len(gs) == 1 { // no pipeline for one call
			cmds[gs[0]] = call(r.client, gs[0])
			return cmds[gs[0]].Err()
		}
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, g := range gs {
				cmds[g] = call(p, g)
			}
			return nil
		})
		return err
	}
	all := make([]int, len(keys))
	for g := range all {
		all[g] = g
	}
	if err := run(all, true); err == nil {
		return cmds, nil
	}
	var again []int
	for g, c := range cmds {
		if err := c.Err(); err != nil {
			if !redis.HasErrorPrefix(err, "NOSCRIPT") {
				return nil, fmt.Errorf("events: append: %w", backend.ClassifyRedis(err))
			}
			again = append(again, g)
		}
	}
	if err := run(again, false); err != nil {
		return nil, fmt.Errorf("events: append: %w", backend.ClassifyRedis(err))
	}
	return cmds, nil
}

// dataOf is the data of rec as stored: JSON null when it has none.
func dataOf(rec Record) json.RawMessage {
	if len(rec.Data) == 0 {
		return json.RawMessage("null")
	}
	return rec.Data
}

// Since implements Log: the latest seq, the first held and those after
// since, read in one transaction on the user's slot. Events past the
// horizon or beyond the cap that no trim dropped yet count as dropped.
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
		return Replay{}, fmt.Errorf("events: since %d for %d: %w", since, user, backend.ClassifyRedis(err))
	}
	var rep Replay
	if v, err := latest.Int64(); err == nil {
		rep.Latest = v
	}
	cut := r.clk.Now().UnixMilli() - r.limits.Horizon.Milliseconds()
	floor := rep.Latest - int64(r.limits.Cap) // seqs at or below it are beyond the cap
	held := func(z redis.Z) (string, bool, error) {
		m, _ := z.Member.(string)
		ms, body, ok := strings.Cut(m, ":")
		at, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil {
			return "", false, fmt.Errorf("events: bad entry in %s", logKey)
		}
		return body, at > cut && int64(z.Score) > floor, nil
	}
	// The held events are a suffix of the seqs: the first is the first
	// entry when it is held, else the first held one after since (none
	// held after since, when some are dropped there, is a gap too).
	var firstSeq int64
	if f := first.Val(); len(f) > 0 {
		_, ok, err := held(f[0])
		if err != nil {
			return Replay{}, err
		}
		if ok {
			firstSeq = int64(f[0].Score)
		}
	}
	for _, z := range after.Val() {
		body, ok, err := held(z)
		if err != nil {
			return Replay{}, err
		}
		if !ok {
			continue
		}
		if firstSeq == 0 {
			firstSeq = int64(z.Score)
		}
		var ev Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return Replay{}, fmt.Errorf("events: bad entry in %s: %w", logKey, err)
		}
		rep.Events = append(rep.Events, ev)
	}
	rep.Gap = gap(since, firstSeq, rep.Latest)
	return rep, nil
}

// Forget implements Log: the user's keys share a slot, so one DEL.
func (r *Redis) Forget(ctx context.Context, user int64) error {
	seq, log, pub := r.keys(user)
	if err := r.client.Del(ctx, seq, log, pub).Err(); err != nil {
		return fmt.Errorf("events: forget %d: %w", user, backend.ClassifyRedis(err))
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
		return fmt.Errorf("events: fan-out: %w", backend.ClassifyRedis(err))
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
