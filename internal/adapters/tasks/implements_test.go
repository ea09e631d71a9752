package tasks_test

import (
	"github.com/swiper-social/swiper/internal/adapters/tasks"
	"github.com/swiper-social/swiper/internal/domain/auth"
	"github.com/swiper-social/swiper/internal/domain/profile"
)

// The domain declares the queue it hands its tasks to.
var (
	_ auth.Queue    = (*tasks.InProcess)(nil)
	_ auth.Queue    = (*tasks.AsynqQueue)(nil)
	_ profile.Queue = tasks.Queue(nil)
)
