package sms

import (
	"context"
	"log/slog"

	phonenum "github.com/swiper-social/swiper/internal/domain/phone"
)

// Console is the development Sender: it logs the code instead of sending
// it. This is the only place where a verification code is ever logged; the
// start-up banner warns about it.
type Console struct {
	log  *slog.Logger
	sink func(phone, code string)
}

// NewConsole returns a console sender logging to log. sink, when not nil,
// is also called with every (phone, code) pair: tests pass (*Sink).Record
// to read the codes without scraping the log.
func NewConsole(log *slog.Logger, sink func(phone, code string)) *Console {
	if log == nil {
		log = slog.Default()
	}
	return &Console{log: log, sink: sink}
}

// Send logs the code at Info level, with the phone masked as phone.Mask
// does (country code and last 4 digits: "+86*******5678").
func (c *Console) Send(ctx context.Context, phone, code string) error {
	c.log.LogAttrs(ctx, slog.LevelInfo, "sms (console provider): verification code",
		slog.String("phone", phonenum.Mask(phone)),
		slog.String("code", code),
	)
	if c.sink != nil {
		c.sink(phone, code)
	}
	return nil
}

var _ Sender = (*Console)(nil)
