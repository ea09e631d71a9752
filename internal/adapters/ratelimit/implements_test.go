package ratelimit_test

import (
	"github.com/swiper-social/swiper/internal/adapters/ratelimit"
	"github.com/swiper-social/swiper/internal/domain/chat"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// The domain declares what it needs of the limiters: the rolling window of
// message sends, the fixed windows of the profile's limits.
var (
	_ chat.Limiter    = (*ratelimit.Rolling)(nil)
	_ profile.Limiter = (*ratelimit.Limiter)(nil)
)
