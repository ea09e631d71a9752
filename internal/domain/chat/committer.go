package chat

import (
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/platform/batch"
)

// SendShards is how many send committers a Service runs when
// Deps.SendShards is not set: one. Two measured worse on a 2-core box
// (bench-chat: 2,364 msgs/s against 2,526, more database CPU per message:
// smaller batches), so more are for bigger machines.
const SendShards = 1

// The send committers: concurrent messages share one transaction and one
// publication of their events (SendBatch). A message goes to the
// committer of its conversation (convKey), so one conversation's messages
// are committed, and their events queued, one batch after the other in
// order, while with more than one committer another conversation's batch
// commits beside them.
func (s *Service) newSendShards(n int) batch.Shards[model.NewMessage, SendResult] {
	if n <= 0 {
		n = SendShards
	}
	return batch.NewShards(n, s.SendBatch, SendBatchSize)
}

// convKey is the shard key of the conversation of a and b, either way
// round.
func convKey(a, b int64) uint64 {
	x, y := uint64(min(a, b)), uint64(max(a, b))
	return x*0x9E3779B97F4A7C15 ^ y
}
