// Package phone parses the phone numbers Swiper accepts: a mainland China
// mobile number (13812345678) or an E.164 number (+14155550123).
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is returned for anything that is not an accepted phone number.
var ErrInvalid = errors.New("phone: invalid number")

// Parse returns the E.164 form of raw ("+8613812345678").
func Parse(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if len(s) > 16 {
		return "", ErrInvalid
	}
	if isMainland(s) {
		return "+86" + s, nil
	}
	if len(s) < 8 || s[0] != '+' || s[1] == '0' || !allDigits(s[1:]) {
		return "", ErrInvalid
	}
	if strings.HasPrefix(s, "+86") {
		if !isMainland(s[3:]) {
			return "", ErrInvalid
		}
		return s, nil
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", ErrInvalid
	}
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	if e164 != s {
		return "", ErrInvalid
	}
	return e164, nil
}

// Last4 returns the last four digits of an E.164 number.
func Last4(e164 string) string {
	if len(e164) < 4 {
		return e164
	}
	return e164[len(e164)-4:]
}

// Mask hides the middle of a number for logs: "+86138******78".
func Mask(e164 string) string {
	if len(e164) <= 7 {
		return "***"
	}
	cc := 1
	if strings.HasPrefix(e164, "+86") {
		cc = 3
	}
	keep := cc + 3
	if keep > len(e164)-2 {
		keep = len(e164) - 2
	}
	return e164[:keep] + strings.Repeat("*", len(e164)-keep-2) + e164[len(e164)-2:]
}

func isMainland(s string) bool {
	return len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' && allDigits(s)
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
