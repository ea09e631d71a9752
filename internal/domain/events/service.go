package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Fanout carries appended events to the Hub of every replica (this one
// included).
type Fanout interface {
	// Send announces evs to every replica.
	Send(ctx context.Context, evs []Stored) error
	// Run delivers what any replica sends to hub until ctx is done; after
	// a reconnection (when events may have been lost) it calls hub.PokeAll.
	Run(ctx context.Context, hub *Hub)
}

// Local is the in-process Fanout (one replica: the embedded path).
type Local struct{ hub *Hub }

// NewLocal returns the in-process fan-out to hub.
func NewLocal(hub *Hub) *Local { return &Local{hub: hub} }

// Send implements Fanout.
func (l *Local) Send(_ context.Context, evs []Stored) error {
	for _, ev := range evs {
		l.hub.Deliver(ev)
	}
	return nil
}

// Run implements Fanout: delivery is done by Send.
func (l *Local) Run(ctx context.Context, _ *Hub) { <-ctx.Done() }

// Metrics of the event streams.
type Metrics struct {
	Sockets   prometheus.Gauge // open event sockets on this replica
	sent      prometheus.Counter
	published prometheus.Counter
	replay    prometheus.Histogram
	fanout    prometheus.Histogram
	slow      prometheus.Counter
}

// NewMetrics registers the event metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Sockets: prometheus.NewGauge(prometheus.GaugeOpts{Name: "swiper_event_sockets_open",
			Help: "Open event WebSockets on this replica."}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "swiper_events_sent_total",
			Help: "Event frames written to sockets (replayed and live, resync included)."}),
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "swiper_events_published_total",
			Help: "Events appended to users' streams by this replica."}),
		replay: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "swiper_event_replay_size",
			Help: "Events replayed when a socket connects with since.", Buckets: []float64{0, 1, 5, 20, 100, 500, 2000, 5000}}),
		fanout: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "swiper_event_fanout_seconds",
			Help:    "From an event's append to its delivery to this replica's subscribers.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{Name: "swiper_event_slow_consumers_total",
			Help: "Sockets cut off because they fell behind their buffer."}),
	}
	reg.MustRegister(m.Sockets, m.sent, m.published, m.replay, m.fanout, m.slow)
	return m
}

// Service publishes events (Publisher) and streams them to attached
// subscribers (Attach).
type Service struct {
	log     Log
	fan     Fanout
	hub     *Hub
	metrics *Metrics
	slog    *slog.Logger
	buf     int

	// appendSend, when set, appends and announces in one step (a Redis log
	// publishing to the channel of the Redis fan-out, in its script).
	appendSend func(ctx context.Context, sent int64, recs []Record) ([]Stored, error)
}

var _ Publisher = (*Service)(nil)

// Deps of a Service. Fanout nil = in-process; Metrics nil = none.
type Deps struct {
	Log     Log
	Hub     *Hub
	Fanout  Fanout
	Metrics *Metrics
	Logger  *slog.Logger
	// Buffer is how many live events a subscriber may fall behind before
	// it is cut off (default 256).
	Buffer int
}

// New returns a Service.
func New(d Deps) *Service {
	if d.Hub == nil {
		d.Hub = NewHub(d.Metrics)
	}
	if d.Fanout == nil {
		d.Fanout = NewLocal(d.Hub)
	}
	if d.Buffer <= 0 {
		d.Buffer = 256
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{log: d.Log, fan: d.Fanout, hub: d.Hub, metrics: d.Metrics, slog: d.Logger, buf: d.Buffer}
	if rl, ok := d.Log.(*Redis); ok {
		if rf, ok := d.Fanout.(*RedisFanout); ok && rf.client == rl.client {
			s.appendSend = func(ctx context.Context, sent int64, recs []Record) ([]Stored, error) {
				return rl.appendPublish(ctx, rf.channel, sent, recs)
			}
		}
	}
	return s
}

// Metrics returns the service's metrics (nil: none).
func (s *Service) Metrics() *Metrics { return s.metrics }

// Publish appends each event to its recipient's stream and sends it to the
// recipient's open sockets. An event whose (To, Key) was published before
// within the horizon is not published again. When the fan-out fails after
// the append, the events stay in the log: sockets catch up from it.
func (s *Service) Publish(ctx context.Context, evs ...Outgoing) error {
	if len(evs) == 0 {
		return nil
	}
	recs := make([]Record, len(evs))
	for i, e := range evs {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return fmt.Errorf("events: encode %s for %d: %w", e.Type, e.To, err)
		}
		recs[i] = Record{To: e.To, Type: e.Type, Data: data, Key: e.Key}
	}
	now := time.Now().UnixNano()
	if s.appendSend != nil {
		stored, err := s.appendSend(ctx, now, recs)
		if err != nil {
			return fmt.Errorf("events: publish: %w", err)
		}
		if s.metrics != nil {
			s.metrics.published.Add(float64(len(stored)))
		}
		return nil
	}
	stored, err := s.log.Append(ctx, recs...)
	if err != nil {
		return fmt.Errorf("events: publish: %w", err)
	}
	for i := range stored {
		stored[i].Sent = now
	}
	if s.metrics != nil {
		s.metrics.published.Add(float64(len(stored)))
	}
	if err := s.fan.Send(ctx, stored); err != nil {
		// Appended but not announced: a socket sees the event on its next
		// catch-up (a later event's gap, or a reconnection), not lost.
		s.slog.Warn("events: fan-out failed; sockets will catch up from the log", "err", err)
	}
	return nil
}

// Forget removes everything held for user (a deleted account): its
// events can no longer be replayed.
func (s *Service) Forget(ctx context.Context, user int64) error { return s.log.Forget(ctx, user) }

// Run runs the fan-out's receiving side until ctx is done.
func (s *Service) Run(ctx context.Context) { s.fan.Run(ctx, s.hub) }

// ErrSlowConsumer ends a stream whose subscriber fell behind its buffer.
var ErrSlowConsumer = errors.New("events: subscriber fell behind")

// live sends a live event unless it was sent already, catching up from
// the log first when events before it are missing.
func (st *stream) live(ctx context.Context, ev Event) error {
	switch {
	case ev.Seq <= st.last:
		return nil // sent already (by a replay or catch-up)
	case ev.Seq > st.last+1:
		// Events between were lost by the fan-out or are still on their
		// way from another replica: the log has them.
		if _, err := st.catchUp(ctx, false); err != nil {
			return err
		}
		if ev.Seq <= st.last {
			return nil
		}
	}
	return st.emit(ctx, ev)
}

// failed is the error a stream ends with: ErrSlowConsumer when the
// subscriber had fallen behind (which cancelled what failed).
func (st *stream) failed(sub *Subscription, err error) error {
	if isClosed(sub.Overflowed()) {
		return ErrSlowConsumer
	}
	return err
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// stream is where one attached subscriber is in its user's log: what it
// has been sent, and how to send it more (Attach).
type stream struct {
	s    *Service
	user int64
	last int64 // the seq the client has seen
	send func(context.Context, Event) error
}

func (st *stream) emit(ctx context.Context, ev Event) error {
	if err := st.send(ctx, ev); err != nil {
		return err
	}
	st.last = ev.Seq
	if st.s.metrics != nil {
		st.s.metrics.sent.Inc()
	}
	return nil
}

// catchUp sends what the log holds after st.last (a resync frame when
// events after it were dropped) and returns how many events it sent.
func (st *stream) catchUp(ctx context.Context, first bool) (int, error) {
	rep, err := st.s.log.Since(ctx, st.user, st.last)
	if err != nil {
		return 0, fmt.Errorf("events: replay for %d: %w", st.user, err)
	}
	if st.last > rep.Latest {
		// The log numbers below what the client has seen: its state was
		// lost (a Redis restart without the last writes) and new events
		// reuse seqs the client holds. On connecting that replays nothing
		// (API.md: a since at or above the latest); on an open stream the
		// client is told to reload (resync) and continues from the latest.
		st.last = rep.Latest
		if !first {
			return 0, st.emit(ctx, Event{Seq: rep.Latest, Type: TypeResync})
		}
	}
	if rep.Gap {
		// The frame's seq is the latest: after reloading through the REST
		// routes the client continues from it.
		return 0, st.emit(ctx, Event{Seq: rep.Latest, Type: TypeResync})
	}
	n := 0
	for _, ev := range rep.Events {
		if ev.Seq <= st.last {
			continue
		}
		if err := st.emit(ctx, ev); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
