// Package tasks is the background task queue (Celery's role in the original):
// an in-process pool for the embedded path and asynq on Redis for production.
// Handlers are the same functions in both modes and must be idempotent,
// since delivery is at least once.
package tasks

import (
	"context"
	"time"

	"github.com/swiper-social/swiper/internal/domain/model"
)

// Task is one unit of background work (model.Task).
type Task = model.Task

// Handler does the work of one task type (model.TaskHandler). Returning an
// error schedules a retry with exponential backoff (first retry within
// 10 s); returning an error wrapping ErrSkipRetry drops the task.
type Handler = model.TaskHandler

// ErrSkipRetry, wrapped in a handler's error, stops further retries
// (model.ErrSkipRetry).
var ErrSkipRetry = model.ErrSkipRetry

// Queue accepts tasks.
type Queue interface {
	Enqueue(ctx context.Context, t Task) error
}

// Mux maps task types to handlers; both queue implementations run it.
type Mux struct {
	handlers map[string]Handler
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{handlers: map[string]Handler{}} }

// Handle registers h for task type typ.
func (m *Mux) Handle(typ string, h Handler) { m.handlers[typ] = h }

// Handler returns the handler of typ.
func (m *Mux) Handler(typ string) (Handler, bool) {
	h, ok := m.handlers[typ]
	return h, ok
}

// Types lists the registered task types.
func (m *Mux) Types() []string {
	out := make([]string, 0, len(m.handlers))
	for t := range m.handlers {
		out = append(out, t)
	}
	return out
}

// Backoff is the retry delay after the n-th failure (n from 1):
// 2 s, 4 s, 8 s, … capped at 60 s.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := 2 * time.Second
	for i := 1; i < n && d < time.Minute; i++ {
		d *= 2
	}
	if d > time.Minute {
		d = time.Minute
	}
	return d
}
