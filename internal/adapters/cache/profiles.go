package cache

import (
	"log/slog"
	"time"

	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/domain/model"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// ForProfiles builds the two caches the profile service reads through
// (profile.RecordCache and profile.ProfileCache).
//
// ttl bounds how long a write made outside this process's reach (another
// process on the embedded path, e.g. `swiper vip grant`) can stay unseen;
// writes through the service invalidate at once.
func ForProfiles(kvs kv.Store, m *Metrics, ttl time.Duration, log *slog.Logger) (*Cache[profile.Record], *Cache[model.Profile]) {
	return New[profile.Record](kvs, m, "user", ttl, log), New[model.Profile](kvs, m, "profile", ttl, log)
}
