// Package sms sends verification codes: the console sender logs them (dev),
// the Yunzhixun sender calls the ucpaas template SMS API (production).
package sms

import "context"

// Sender delivers one verification code to one phone (E.164, e.g. "+8613812345678").
// A returned error means the message was not accepted and the caller (a task)
// should retry; errors must never contain the code.
type Sender interface {
	Send(ctx context.Context, phone, code string) error
}
