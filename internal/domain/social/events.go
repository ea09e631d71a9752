package social

import (
	"context"
	"fmt"
	"time"

	"github.com/swiper-social/swiper/internal/domain/events"
)

// Publisher announces events to users' streams (events.Service).
type Publisher interface {
	Publish(ctx context.Context, evs ...events.Outgoing) error
}

// unmatchData is the data of an unmatch event: the other user.
type unmatchData struct {
	UserID int64 `json:"user_id"`
}

// publishMatch sends each of the two users of a new match the Match as
// they see it (the other's Card). me's card of target is already built.
// The match is committed: a failure is logged, the swipe still succeeds
// (the match shows in GET /matches).
func (s *Service) publishMatch(ctx context.Context, me, target int64, mine Match) {
	if s.d.Events == nil {
		return
	}
	at := mine.MatchedAt
	outs := []events.Outgoing{{To: me, Type: events.TypeMatch, Data: mine, Key: matchKey(target, at)}}
	if them, err := s.cachedUser(ctx, target); err == nil {
		if card, err := s.card(ctx, them, me); err == nil {
			outs = append(outs, events.Outgoing{To: target, Type: events.TypeMatch,
				Data: Match{User: card, MatchedAt: at}, Key: matchKey(me, at)})
		} else {
			s.d.Log.Warn("match event: card", "user", target, "err", err)
		}
	} else {
		s.d.Log.Warn("match event: user", "user", target, "err", err)
	}
	if err := s.d.Events.Publish(ctx, outs...); err != nil {
		s.d.Log.Warn("match event not published", "users", []int64{me, target}, "err", err)
	}
}

func matchKey(other int64, at time.Time) string {
	return fmt.Sprintf("match:%d:%d", other, at.UnixMicro())
}

// publishUnmatch tells both users that their match ended.
func (s *Service) publishUnmatch(ctx context.Context, me, other int64) {
	if s.d.Events == nil {
		return
	}
	at := s.now().UnixMicro()
	err := s.d.Events.Publish(ctx,
		events.Outgoing{To: me, Type: events.TypeUnmatch, Data: unmatchData{UserID: other}, Key: fmt.Sprintf("unmatch:%d:%d", other, at)},
		events.Outgoing{To: other, Type: events.TypeUnmatch, Data: unmatchData{UserID: me}, Key: fmt.Sprintf("unmatch:%d:%d", me, at)})
	if err != nil {
		s.d.Log.Warn("unmatch event not published", "users", []int64{me, other}, "err", err)
	}
}
