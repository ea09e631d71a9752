package deckstate_test

import (
	"github.com/swiper-social/swiper/internal/adapters/deckstate"
	"github.com/swiper-social/swiper/internal/domain/safety"
	"github.com/swiper-social/swiper/internal/domain/social"
)

// The domain declares what it needs of the deck state; every
// implementation must satisfy it (the wiring passes any of them).
var (
	_ social.DeckState = (*deckstate.Memory)(nil)
	_ social.DeckState = (*deckstate.Redis)(nil)
	_ social.DeckState = (*deckstate.Retrying)(nil)
	_ social.DeckState = deckstate.Store(nil)
	_ safety.DeckState = deckstate.Store(nil)
)
