package store

import (
	"context"
	"fmt"
	"time"
)

// SuperlikeOf is a superlike received: who, and when.
type SuperlikeOf struct {
	SwiperID  int64     `bun:"swiper_id"`
	CreatedAt time.Time `bun:"created_at"`
}

// DeckStateOf reads what viewer's decks leave out or put first: every user
// viewer swiped, is matched with or is blocked with (either way), and the
// users who superliked viewer, whom viewer did not swipe and who may be in
// a deck (not banned, deleted or hidden by reports). It reads the viewer's whole history
// (a range of the primary key), so callers cache the result (deckstate).
func (s *Store) DeckStateOf(ctx context.Context, viewer int64) (swiped []int64, superlikers []SuperlikeOf, err error) {
	if err := s.db.NewRaw("SELECT swiped_id FROM swipes WHERE swiper_id = ? "+
		"UNION SELECT user_b FROM matches WHERE user_a = ? "+
		"UNION SELECT user_a FROM matches WHERE user_b = ? "+
		"UNION SELECT blocked_id FROM blocks WHERE blocker_id = ? "+
		"UNION SELECT blocker_id FROM blocks WHERE blocked_id = ?", viewer, viewer, viewer, viewer, viewer).Scan(ctx, &swiped); err != nil {
		return nil, nil, fmt.Errorf("store: deck state of %d: %w", viewer, classify(err))
	}
	if err := s.db.NewRaw("SELECT sw.swiper_id, sw.created_at FROM swipes AS sw "+
		"WHERE sw.swiped_id = ? AND sw.action = ? "+
		"AND NOT EXISTS (SELECT 1 FROM swipes AS m WHERE m.swiper_id = ? AND m.swiped_id = sw.swiper_id) "+
		"AND EXISTS (SELECT 1 FROM users AS u WHERE u.id = sw.swiper_id AND "+deckShownSQL("u")+")",
		viewer, ActionSuperlike, viewer).Scan(ctx, &superlikers); err != nil {
		return nil, nil, fmt.Errorf("store: deck state of %d: %w", viewer, classify(err))
	}
	return swiped, superlikers, nil
}
