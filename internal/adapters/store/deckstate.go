package store

import (
	"context"
	"fmt"
)

// DeckStateOf reads what viewer's decks leave out or put first: every user
// viewer swiped, is matched with or is blocked with (either way), and the
// users who superliked viewer, whom viewer did not swipe and who may be in
// a deck (not banned, deleted or hidden by reports). It reads the viewer's whole history
// (a range of the primary key), so callers cache the result (deckstate).
func (s *Store) DeckStateOf(ctx context.Context, viewer int64) (swiped []int64, superlikers []SuperlikeOf, err error) {
	if err := s.db.NewRaw(s.deckExclusionsSQL(false), viewer, viewer, viewer, viewer, viewer).Scan(ctx, &swiped); err != nil {
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

// deckExclusionsSQL selects the users viewer's decks leave out: those the
// viewer swiped (any action) or is matched with, and those blocked with
// the viewer either way. Its arguments are the viewer's id five times,
// each followed, when among, by the ids to look among (then each part is
// a few primary-key probes).
func (s *Store) deckExclusionsSQL(among bool) string {
	in := func(string) string { return "" }
	swipes, union := "swipes", " UNION "
	if among {
		in = func(col string) string { return " AND " + col + " IN (?)" }
		// By the primary key, not the (swiper_id, id) index: that reads
		// the whole history.
		swipes, union = "swipes"+s.byPrimaryKey(), " UNION ALL "
	}
	return "SELECT swiped_id FROM " + swipes + " WHERE swiper_id = ?" + in("swiped_id") +
		union + "SELECT user_b FROM matches WHERE user_a = ?" + in("user_b") +
		union + "SELECT user_a FROM matches WHERE user_b = ?" + in("user_a") +
		union + "SELECT blocked_id FROM blocks WHERE blocker_id = ?" + in("blocked_id") +
		union + "SELECT blocker_id FROM blocks WHERE blocked_id = ?" + in("blocker_id")
}
