package cache_test

import (
	"github.com/swiper-social/swiper/internal/adapters/cache"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// profile declares what it needs of its two caches.
var (
	_ profile.RecordCache  = (*cache.Cache[profile.Record])(nil)
	_ profile.ProfileCache = (*cache.Cache[model.Profile])(nil)
)
