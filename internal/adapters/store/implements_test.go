package store_test

import (
	"github.com/swiper-social/swiper/internal/adapters/store"
	"github.com/swiper-social/swiper/internal/domain/deck"
	"github.com/swiper-social/swiper/internal/domain/safety"
	"github.com/swiper-social/swiper/internal/domain/social"
)

// The domain packages declare the store interfaces they need; the store
// implements them.
var (
	_ social.Store  = (*store.Store)(nil)
	_ social.Scores = (*store.Store)(nil)
	_ safety.Store  = (*store.Store)(nil)
	_ deck.Source   = (*store.Store)(nil)
)
