package model

import (
	"context"
	"errors"
	"time"
)

// Task is one unit of background work, as the domain hands it to a queue.
type Task struct {
	// Type selects the handler, e.g. "sms:send".
	Type string
	// Payload is handler-specific (JSON by convention).
	Payload []byte
	// ID, when set, makes the task unique: enqueueing the same ID again while
	// the first is still pending or running is a no-op (returns nil).
	ID string
	// MaxRetry is how many times a failed task is retried (0 = default of the queue).
	MaxRetry int
	// Timeout bounds one attempt (0 = default of the queue).
	Timeout time.Duration
}

// TaskHandler does the work of one task type. Returning an error schedules
// a retry with exponential backoff (first retry within 10 s); returning an
// error wrapping ErrSkipRetry drops the task.
type TaskHandler func(ctx context.Context, payload []byte) error

// ErrSkipRetry, wrapped in a handler's error, stops further retries.
var ErrSkipRetry = errors.New("tasks: skip retry")
