// Package logging builds Swiper's slog logger: text in development, JSON in
// production, with the request id of the context on every record.
package logging

import (
	"context"
	"io"
	"log/slog"
)

type ctxKey struct{}

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID returns the request id of ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// New returns a logger writing to w as JSON (json=true) or text. When w is
// an Output, the logger's access log (ForAccess) writes to its buffered
// lines.
func New(w io.Writer, json bool, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	handler := func(w io.Writer) slog.Handler {
		if json {
			return slog.NewJSONHandler(w, opts)
		}
		return slog.NewTextHandler(w, opts)
	}
	h := ctxHandler{Handler: handler(w)}
	if o, ok := w.(*Output); ok {
		h.access = handler(o.Buffered())
	}
	return slog.New(h)
}

// ForAccess returns the logger of log for the access log, a record per
// request: the same records, written through the buffered lines of its
// Output when it has one (New), otherwise log itself.
func ForAccess(log *slog.Logger) *slog.Logger {
	if h, ok := log.Handler().(ctxHandler); ok && h.access != nil {
		return slog.New(ctxHandler{Handler: h.access})
	}
	return log
}

// ctxHandler adds the request id of the context to each record. access,
// when set, is the same handler on buffered lines (ForAccess).
type ctxHandler struct {
	slog.Handler
	access slog.Handler
}

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := ctxHandler{Handler: h.Handler.WithAttrs(as)}
	if h.access != nil {
		out.access = h.access.WithAttrs(as)
	}
	return out
}

func (h ctxHandler) WithGroup(name string) slog.Handler {
	out := ctxHandler{Handler: h.Handler.WithGroup(name)}
	if h.access != nil {
		out.access = h.access.WithGroup(name)
	}
	return out
}
