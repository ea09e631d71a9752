package kv_test

import (
	"github.com/swiper-social/swiper/internal/adapters/kv"
	"github.com/swiper-social/swiper/internal/domain/auth"
)

// auth declares what it needs of the session store.
var (
	_ auth.Sessions = (*kv.Memory)(nil)
	_ auth.Sessions = (*kv.SQLite)(nil)
	_ auth.Sessions = (*kv.Redis)(nil)
)
