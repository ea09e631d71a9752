package otp_test

import (
	"testing"

	"github.com/swiper-social/swiper/internal/adapters/otp"
	"github.com/swiper-social/swiper/internal/adapters/otp/otptest"
)

func TestMemoryContract(t *testing.T) {
	otptest.Run(t, func(t *testing.T, p otp.Policy) otp.Store { return otp.NewMemory(p) })
}
