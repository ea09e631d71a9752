package chat

import (
	"context"

	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/batch"
)

// SendShards is how many send committers a Service runs when
// Deps.SendShards is not set: one. Two measured worse on a 2-core box
// (bench-chat: 2,364 msgs/s against 2,526, more database CPU per message:
// smaller batches), so more are for bigger machines.
const SendShards = 1

// sendShards are the send committers: concurrent messages share one
// transaction and one publication of their events (SendBatch). A message
// goes to the committer of its conversation, so one conversation's
// messages are committed, and their events queued, one batch after the
// other in order, while with more than one committer another
// conversation's batch commits beside them.
type sendShards []*batch.Committer[model.NewMessage, SendResult]

func (s *Service) newSendShards(n int) sendShards {
	if n <= 0 {
		n = SendShards
	}
	shards := make(sendShards, n)
	for i := range shards {
		shards[i] = batch.New(s.SendBatch, SendBatchSize)
	}
	return shards
}

// Do sends m through the committer of its conversation.
func (sh sendShards) Do(ctx context.Context, m model.NewMessage) (SendResult, error) {
	return sh[shardOf(m.From, m.To, len(sh))].Do(ctx, m)
}

// shardOf is the committer, of n, of the conversation of a and b (either
// way round).
func shardOf(a, b int64, n int) uint64 {
	x, y := uint64(min(a, b)), uint64(max(a, b))
	h := (x*0x9E3779B97F4A7C15 ^ y) * 0xBF58476D1CE4E5B9
	return (h >> 32) % uint64(n)
}

// close answers the messages queued and stops the committers.
func (sh sendShards) close() {
	for _, c := range sh {
		c.Close()
	}
}

// stats adds up the committers' counts.
func (sh sendShards) stats() batch.Stats {
	var st batch.Stats
	for _, c := range sh {
		s := c.Stats()
		st.Batches += s.Batches
		st.Requests += s.Requests
	}
	return st
}
