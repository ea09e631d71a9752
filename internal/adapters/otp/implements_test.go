package otp_test

import (
	"github.com/swiper-social/swiper/internal/adapters/otp"
	"github.com/swiper-social/swiper/internal/domain/auth"
)

// auth declares what it needs of the code stores; every store is a Codes,
// the SQLite and Redis ones chain the session into a verification, and the
// Redis one reads the login's keys with a check.
var (
	_ auth.Codes       = (*otp.Memory)(nil)
	_ auth.Codes       = (*otp.SQLite)(nil)
	_ auth.Codes       = (*otp.Redis)(nil)
	_ auth.CodeChainer = (*otp.SQLite)(nil)
	_ auth.CodeChainer = (*otp.Redis)(nil)
	_ auth.CodeReader  = (*otp.Redis)(nil)
)
