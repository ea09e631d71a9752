package sms_test

import (
	"github.com/swiper-social/swiper/internal/adapters/sms"
	"github.com/swiper-social/swiper/internal/domain/auth"
)

// auth declares the sender its SMS task delivers codes through.
var (
	_ auth.SMSSender = (*sms.Console)(nil)
	_ auth.SMSSender = (*sms.Yunzhixun)(nil)
	_ auth.SMSSender = (*sms.Sink)(nil)
)
