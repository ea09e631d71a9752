package batch

import "context"

// Shards are n Committers of one function side by side: a request goes
// to the Committer its key picks, so requests of one key are run one
// batch after the other, in order, while other keys' batches run beside
// them.
type Shards[Req, Res any] []*Committer[Req, Res]

// NewShards starts n (at least 1) Committers of run, batches of at most
// maxSize requests.
func NewShards[Req, Res any](n int, run func(ctx context.Context, reqs []Req) ([]Res, error), maxSize int) Shards[Req, Res] {
	sh := make(Shards[Req, Res], max(n, 1))
	for i := range sh {
		sh[i] = New(run, maxSize)
	}
	return sh
}

// Do runs req on the Committer of key (Committer.Do).
func (sh Shards[Req, Res]) Do(ctx context.Context, key uint64, req Req) (Res, error) {
	return sh[Pick(key, len(sh))].Do(ctx, req)
}

// Pick is the shard, of n, of key: mixed, so that keys in steps of n
// spread too.
func Pick(key uint64, n int) int {
	return int((key * 0xBF58476D1CE4E5B9 >> 32) % uint64(n))
}

// Close closes every Committer (Committer.Close).
func (sh Shards[Req, Res]) Close() {
	for _, c := range sh {
		c.Close()
	}
}

// Stats adds up the Committers' counts.
func (sh Shards[Req, Res]) Stats() Stats {
	var st Stats
	for _, c := range sh {
		s := c.Stats()
		st.Batches += s.Batches
		st.Requests += s.Requests
	}
	return st
}
