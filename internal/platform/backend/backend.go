// Package backend classifies failures of backing services (database, Redis)
// so that the HTTP layer can answer 503 5001 instead of 500.
package backend

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// ErrUnavailable marks an error caused by a backing service that did not
// answer (connection refused, reset, timed out). Adapters wrap such errors
// with Unavailable so callers can test for it with errors.Is.
var ErrUnavailable = errors.New("backing service unavailable")

type unavailable struct{ err error }

func (u unavailable) Error() string { return "backend unavailable: " + u.err.Error() }
func (u unavailable) Unwrap() []error {
	return []error{ErrUnavailable, u.err}
}

// Unavailable wraps err so that errors.Is(err, ErrUnavailable) holds.
func Unavailable(err error) error {
	if err == nil {
		return nil
	}
	return unavailable{err: err}
}

// IsConnError reports whether err looks like a network or timeout failure
// talking to a backing service (as opposed to a logical error such as a
// constraint violation). Request-context cancellation is not an outage.
func IsConnError(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	// A server killed in the middle of an answer closes the connection:
	// the client reads EOF (Redis) rather than a network error.
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Classify wraps err with Unavailable when it is a connection failure and
// returns it unchanged otherwise.
func Classify(err error) error {
	if err != nil && !errors.Is(err, ErrUnavailable) && IsConnError(err) {
		return Unavailable(err)
	}
	return err
}
