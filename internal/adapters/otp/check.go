package otp

import (
	"context"
	"errors"
	"fmt"

	phonenum "github.com/swiper-social/swiper/internal/domain/phone"
)

// ErrInvalid reports a call the store refuses outright: an empty phone or
// an empty code hash. It is a programming error of the caller, never an
// answer to a client.
var ErrInvalid = errors.New("otp: invalid request")

func checkIssue(ctx context.Context, req IssueRequest) error {
	if req.Phone == "" {
		return fmt.Errorf("otp: issue: empty phone: %w", ErrInvalid)
	}
	if len(req.CodeHash) == 0 {
		return fmt.Errorf("otp: issue %s: empty code hash: %w", phonenum.Mask(req.Phone), ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("otp: issue %s: %w", phonenum.Mask(req.Phone), err)
	}
	return nil
}

func checkVerify(ctx context.Context, phone string) error {
	if phone == "" {
		return fmt.Errorf("otp: verify: empty phone: %w", ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("otp: verify %s: %w", phonenum.Mask(phone), err)
	}
	return nil
}
