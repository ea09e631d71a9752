package media

import "context"

// Cost is the memory Check estimated for u.
func (u Upload) Cost() int64 { return u.cost }

// Hold takes n bytes of p's budget and a decoder, as a decode does, until
// the returned func is called.
func (p *Processor) Hold(ctx context.Context, n int64) (func(), error) { return p.acquire(ctx, n) }
